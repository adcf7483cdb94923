/**
 * Running an outside program with a deadline. Every program an activity starts (git, kustomize,
 * pg_dump, pg_restore, a build command) goes through here, so none can outlive its attempt:
 *
 * - it runs in its own process group, and the whole group is SIGKILLed when the deadline passes,
 *   when the activity is cancelled (which a heartbeat timeout turns into), or when the caller's
 *   signal aborts — a remote that accepts a connection and never answers costs one deadline, not
 *   the worker;
 * - while it runs, the activity heartbeats, so a worker that dies mid-command is noticed within
 *   the heartbeat timeout and the cancellation of a timed-out attempt reaches the program;
 * - its output is kept in bounded memory.
 */
import { spawn } from 'node:child_process';
import { currentActivity } from './activity-context.js';

export interface ProgramRun {
  /** The executable (a path or a name on the PATH); never run through a shell by this module. */
  file: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Killed (with its children) when this passes. Required: nothing runs unbounded. */
  timeoutMs: number;
  /** Also ends the run, like a cancelled activity does. */
  signal?: AbortSignal;
  /** How often to heartbeat while it runs (default 2 s); no heartbeats outside an activity. */
  heartbeatIntervalMs?: number;
  /** What the heartbeat says, besides how long the program has run. */
  heartbeatDetails?: Record<string, unknown>;
  /** The most stdout kept (default 64 MiB; more fails the run as `overflow`). */
  maxStdoutBytes?: number;
  /** How much of stderr's end is kept (default 16 KiB). */
  stderrTailBytes?: number;
  /** Called with each chunk of output (stdout and stderr), e.g. to keep a tail of both. */
  onOutput?: (chunk: Buffer) => void;
}

export type ProgramEnd =
  | { kind: 'exited'; code: number }
  | { kind: 'signalled'; signal: NodeJS.Signals }
  | { kind: 'timed-out' }
  | { kind: 'cancelled'; reason: unknown }
  | { kind: 'overflow' };

export interface ProgramResult {
  end: ProgramEnd;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** The program could not be started at all (not installed, not executable, bad cwd). */
export class ProgramNotStartedError extends Error {
  constructor(
    readonly file: string,
    cause: Error,
  ) {
    super(`cannot run ${file}: ${cause.message}`);
    this.name = 'ProgramNotStartedError';
  }
}

/** Runs a program to its end, whatever that end is; rejects only when it could not start. */
export function runProgram(run: ProgramRun): Promise<ProgramResult> {
  const activity = currentActivity();
  const started = Date.now();
  const maxStdout = run.maxStdoutBytes ?? 64 * 1024 * 1024;
  const stderrTail = run.stderrTailBytes ?? 16 * 1024;
  return new Promise((resolve, reject) => {
    const stopping = firstAbort(activity?.cancellationSignal, run.signal);
    if (stopping.aborted) {
      resolve({ end: { kind: 'cancelled', reason: stopping.reason }, stdout: '', stderr: '', durationMs: 0 });
      return;
    }
    const child = spawn(run.file, run.args, {
      cwd: run.cwd,
      env: run.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: killing -pid reaches everything it started (git's ssh and
      // remote helpers, a build's sub-shells), not only the direct child.
      detached: true,
    });
    let ended: ProgramEnd | undefined;
    const stop = (why: ProgramEnd) => {
      ended ??= why;
      killGroup(child.pid);
    };
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      run.onOutput?.(chunk);
      stdoutBytes += chunk.length;
      if (stdoutBytes > maxStdout) stop({ kind: 'overflow' });
      else stdout.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      run.onOutput?.(chunk);
      stderr = (stderr + chunk.toString('utf8')).slice(-stderrTail);
    });
    const timer = setTimeout(() => stop({ kind: 'timed-out' }), run.timeoutMs);
    const beat = activity
      ? setInterval(() => activity.heartbeat({ ...run.heartbeatDetails, runningMs: Date.now() - started }), run.heartbeatIntervalMs ?? 2_000)
      : undefined;
    const onStop = () => stop({ kind: 'cancelled', reason: stopping.reason });
    stopping.addEventListener('abort', onStop, { once: true });
    const cleanUp = () => {
      clearTimeout(timer);
      clearInterval(beat);
      stopping.removeEventListener('abort', onStop);
    };
    child.once('error', (err) => {
      cleanUp();
      killGroup(child.pid);
      reject(new ProgramNotStartedError(run.file, err));
    });
    child.once('close', (code, signal) => {
      cleanUp();
      // The direct child is gone; anything it left in its group goes too.
      killGroup(child.pid);
      const end: ProgramEnd = ended ?? (code !== null ? { kind: 'exited', code } : { kind: 'signalled', signal: signal ?? 'SIGKILL' });
      resolve({ end, stdout: Buffer.concat(stdout).toString('utf8'), stderr, durationMs: Date.now() - started });
    });
  });
}

/** How a run that did not exit 0 ended, in words, for an error message. */
export function describeEnd(end: ProgramEnd, timeoutMs: number): string {
  switch (end.kind) {
    case 'exited':
      return `exited with ${end.code}`;
    case 'signalled':
      return `was killed by ${end.signal}`;
    case 'timed-out':
      return `did not finish within ${formatMs(timeoutMs)} and was killed`;
    case 'cancelled':
      return 'was stopped: its activity was cancelled';
    case 'overflow':
      return 'printed more output than is kept and was killed';
  }
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`;
}

function killGroup(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* the group is already gone */
  }
}

/** One signal that aborts when either does. */
function firstAbort(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal {
  const signals = [a, b].filter((s): s is AbortSignal => s !== undefined);
  if (signals.length === 0) return new AbortController().signal;
  if (signals.length === 1) return signals[0]!;
  return AbortSignal.any(signals);
}
