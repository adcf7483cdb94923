/**
 * A build by shell command: `sh -c <command>` in a fresh temporary directory, with SLIPWAY_COMMIT
 * and SLIPWAY_APP set, a timeout, and heartbeats while it runs. The command runs in its own
 * process group so a timeout or a cancelled activity stops everything it started.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { currentActivity } from '../activity-context.js';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, type BuildResult, type CommandBuildInput } from '../types.js';
import { OutputTail } from './output-tail.js';

export interface CommandBuildOptions {
  /** How often to heartbeat while the command runs (default 5 s). */
  heartbeatIntervalMs?: number;
  /** How many output lines a failure carries (default 20). */
  failureLines?: number;
}

export async function runBuildCommand(input: CommandBuildInput, options: CommandBuildOptions = {}): Promise<BuildResult> {
  const ctx = currentActivity();
  const workdir = await mkdtemp(join(tmpdir(), `slipway-build-${input.app}-`));
  const tail = new OutputTail();
  const started = Date.now();
  try {
    const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; timedOut: boolean }>((resolve, reject) => {
      const child = spawn('sh', ['-c', input.command], {
        cwd: workdir,
        env: { ...process.env, SLIPWAY_COMMIT: input.commit, SLIPWAY_APP: input.app },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      let timedOut = false;
      const killGroup = () => {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      };
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup();
      }, input.timeoutMs);
      const beat = setInterval(() => ctx?.heartbeat({ runningForMs: Date.now() - started }), options.heartbeatIntervalMs ?? 5_000);
      const onCancel = () => killGroup();
      ctx?.cancellationSignal.addEventListener('abort', onCancel);
      child.stdout.on('data', (c: Buffer) => tail.push(c));
      child.stderr.on('data', (c: Buffer) => tail.push(c));
      child.once('error', (err) => {
        clearTimeout(timer);
        clearInterval(beat);
        reject(err);
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        clearInterval(beat);
        ctx?.cancellationSignal.removeEventListener('abort', onCancel);
        resolve({ code, signal, timedOut });
      });
    });
    if (ctx?.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? new Error('cancelled');
    const lines = options.failureLines ?? 20;
    const output = () => {
      const text = tail.lastLines(lines);
      return text ? `\n--- last ${lines} lines of output ---\n${text}` : ' (no output)';
    };
    if (result.timedOut) {
      throw buildFailed(`build command for ${input.app} did not finish within ${Math.round(input.timeoutMs / 1000)}s${output()}`);
    }
    if (result.code !== 0) {
      const how = result.code === null ? `was killed by ${result.signal}` : `exited with ${result.code}`;
      throw buildFailed(`build command for ${input.app} ${how}${output()}`);
    }
    return { url: `command: ${input.command}`, conclusion: 'success' };
  } finally {
    await rm(workdir, { recursive: true, force: true });
  }
}

const buildFailed = (message: string) => ApplicationFailure.create({ message, type: FailureType.BuildFailed, nonRetryable: true });
