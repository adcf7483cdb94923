/**
 * Child servers started in their own process group, so stopping one takes every process it
 * forked with it, and a test run never leaves an etcd or an API server behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';

export interface GroupProcess {
  pid: number;
  child: ChildProcess;
  /** Set once the process has exited: why. */
  exited(): string | undefined;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves when no process of the group is left. */
  stop(graceMs?: number): Promise<void>;
}

/** Whether any process of the group led by `pgid` is still alive. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

export function startGroupProcess(binary: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv): GroupProcess {
  const out = openSync(logFile, 'a');
  const child = spawn(binary, args, { stdio: ['ignore', out, out], detached: true, env: env ?? process.env });
  closeSync(out);
  if (child.pid === undefined) throw new Error(`cannot start ${binary}`);
  const pid = child.pid;
  let exitReason: string | undefined;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitReason = `exited with ${signal ?? code}`;
      resolve();
    });
    child.once('error', (err) => {
      exitReason = `could not start: ${err.message}`;
      resolve();
    });
  });
  // If the test process exits without stop(), take the group down with it.
  const killOnExit = () => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  };
  process.once('exit', killOnExit);

  return {
    pid,
    child,
    exited: () => exitReason,
    async stop(graceMs = 5000) {
      process.removeListener('exit', killOnExit);
      const signal = (sig: NodeJS.Signals) => {
        try {
          process.kill(-pid, sig);
        } catch {
          /* group gone */
        }
      };
      signal('SIGTERM');
      const killTimer = setTimeout(() => signal('SIGKILL'), graceMs);
      await exitedPromise;
      // The leader is gone; wait for any straggler in its group too.
      const deadline = Date.now() + graceMs + 2000;
      while (groupAlive(pid)) {
        if (Date.now() > deadline) signal('SIGKILL');
        await new Promise((r) => setTimeout(r, 50));
      }
      clearTimeout(killTimer);
    },
  };
}
