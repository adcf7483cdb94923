/**
 * Running the git CLI: no shell, output captured, every message redacted, and every command
 * bounded — a remote that accepts a connection and never answers costs one deadline, after which
 * git and its helpers (ssh, git-remote-https) are killed and the attempt fails, retryably.
 */
import { describeEnd, runProgram } from '../bounded-process.js';
import type { Redactor } from './redact.js';

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface GitOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  redact: Redactor;
  /** Deadline of each git command; default DEFAULT_GIT_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Ends the command early (the activity's cancellation ends it anyway). */
  signal?: AbortSignal;
}

/** Long enough for a clone of a large GitOps repository over a slow link, short against a step timeout. */
export const DEFAULT_GIT_TIMEOUT_MS = 60_000;

/** A git command that failed; its message and output are already redacted. */
export class GitCommandError extends Error {
  constructor(
    readonly subcommand: string,
    readonly code: number,
    readonly output: string,
  ) {
    super(`git ${subcommand} failed (exit ${code}): ${firstLines(output)}`);
    this.name = 'GitCommandError';
  }
}

/** A git command that did not end by itself: it outlived its deadline or its activity. */
export class GitStoppedError extends Error {
  override name = 'GitStoppedError';
}

/** Runs git and resolves with its exit code and output, whatever the exit code. */
export async function runGit(args: string[], opts: GitOptions): Promise<GitResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS;
  let result;
  try {
    result = await runProgram({
      file: 'git',
      args,
      cwd: opts.cwd,
      env: opts.env,
      timeoutMs,
      signal: opts.signal,
      heartbeatDetails: { git: subcommandOf(args) },
    });
  } catch (err) {
    throw new Error(opts.redact(`cannot run git: ${(err as Error).message}`));
  }
  const stdout = opts.redact(result.stdout);
  const stderr = opts.redact(result.stderr);
  if (result.end.kind === 'exited') return { code: result.end.code, stdout, stderr };
  if (result.end.kind === 'signalled') return { code: 128, stdout, stderr: `${stderr}\nkilled by ${result.end.signal}`.trim() };
  throw new GitStoppedError(`git ${subcommandOf(args)} ${describeEnd(result.end, timeoutMs)}${stderr.trim() ? `: ${firstLines(stderr)}` : ''}`);
}

/** Runs git and returns stdout; a non-zero exit throws a GitCommandError. */
export async function git(args: string[], opts: GitOptions): Promise<string> {
  const result = await runGit(args, opts);
  if (result.code !== 0) throw new GitCommandError(subcommandOf(args), result.code, `${result.stderr}\n${result.stdout}`.trim());
  return result.stdout;
}

function subcommandOf(args: string[]): string {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-c' || args[i] === '-C') i++;
    else if (!args[i]!.startsWith('-')) return args[i]!;
  }
  return args[0] ?? '';
}

function firstLines(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !/^hint:/.test(l));
  return lines.slice(0, 6).join(' | ') || '(no output)';
}
