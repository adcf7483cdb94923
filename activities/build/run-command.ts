/**
 * A build by shell command: `sh -c <command>` in a fresh temporary directory (its HOME), with only
 * the environment build-env.ts gives it (none of the worker's secrets, unless the policy names
 * them), a timeout, and heartbeats while it runs, through the shared bounded runner (its own
 * process group, so a timeout or a cancelled activity stops everything it started). A failure
 * carries the last lines of the output, with every secret taken out (redact-output.ts).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { runProgram } from '../bounded-process.js';
import { FailureType, type BuildResult, type CommandBuildInput } from '../types.js';
import { buildEnvironment } from './build-env.js';
import { OutputTail } from './output-tail.js';
import { createOutputRedactor } from './redact-output.js';

export interface CommandBuildOptions {
  /** How often to heartbeat while the command runs (default 5 s). */
  heartbeatIntervalMs?: number;
  /** How many output lines a failure carries (default 20). */
  failureLines?: number;
  /**
   * The worker's environment (default process.env): the source of the variables the policy names
   * for a build, and whose secrets are kept out of its output — all of them, not only those named,
   * since a build may still come across one (a file it can read).
   */
  env?: NodeJS.ProcessEnv;
}

export async function runBuildCommand(input: CommandBuildInput, options: CommandBuildOptions = {}): Promise<BuildResult> {
  const env = options.env ?? process.env;
  const workdir = await mkdtemp(join(tmpdir(), `slipway-build-${input.app}-`));
  const tail = new OutputTail();
  try {
    const tmp = join(workdir, '.tmp');
    await mkdir(tmp);
    // A list that is not a list of names (the policy guard refuses such a call) passes nothing.
    const names = Array.isArray(input.env) ? input.env.filter((n): n is string => typeof n === 'string') : [];
    const result = await runProgram({
      file: 'sh',
      // stdout joins stderr, whose tail is all the runner keeps: a build may print without bound,
      // and only the tail below is read. On the command's own first line, so its line numbers hold.
      args: ['-c', `exec 1>&2; ${input.command}`],
      cwd: workdir,
      env: buildEnvironment({ worker: env, names, home: workdir, tmp, commit: input.commit, app: input.app }),
      timeoutMs: input.timeoutMs,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 5_000,
      onOutput: (chunk) => tail.push(chunk),
    });
    if (result.end.kind === 'cancelled') throw result.end.reason ?? new Error('cancelled');
    if (result.end.kind === 'exited' && result.end.code === 0) return { url: `command: ${input.command}`, conclusion: 'success' };
    const lines = options.failureLines ?? 20;
    const text = tail.lastLines(lines, createOutputRedactor(env));
    const output = text ? `\n--- last ${lines} lines of output ---\n${text}` : ' (no output)';
    const how =
      result.end.kind === 'timed-out'
        ? `did not finish within ${Math.round(input.timeoutMs / 1000)}s`
        : result.end.kind === 'exited'
          ? `exited with ${result.end.code}`
          : result.end.kind === 'signalled'
            ? `was killed by ${result.end.signal}`
            : 'printed more output than is kept and was killed';
    throw buildFailed(`build command for ${input.app} ${how}${output}`);
  } finally {
    await rm(workdir, { recursive: true, force: true });
  }
}

const buildFailed = (message: string) => ApplicationFailure.create({ message, type: FailureType.BuildFailed, nonRetryable: true });
