/**
 * Waiting for a GitHub Actions run to finish: poll until `status == completed` or the deadline,
 * heartbeating on every poll so a dead worker is noticed. The heartbeat carries `runId`, which a
 * retried attempt reads back to follow the same run instead of dispatching another. Pure of GitHub
 * itself (the run is fetched through `getRun`, which may also refuse a run by throwing), so the
 * waiting rules are tested without a server.
 */
export interface RunSnapshot {
  id: number;
  status: string | null;
  conclusion: string | null;
  html_url: string;
}

export interface WaitForRunOptions {
  deadline: number;
  pollIntervalMs: number;
  heartbeat: (details: unknown) => void;
  pause: (ms: number) => Promise<void>;
  now?: () => number;
}

export type RunWaitResult<R extends RunSnapshot = RunSnapshot> = { finished: true; run: R } | { finished: false; run: R };

export async function waitForRun<R extends RunSnapshot>(getRun: () => Promise<R>, options: WaitForRunOptions): Promise<RunWaitResult<R>> {
  const now = options.now ?? Date.now;
  for (;;) {
    const run = await getRun();
    options.heartbeat({ runId: run.id, status: run.status });
    if (run.status === 'completed') return { finished: true, run };
    const left = options.deadline - now();
    if (left <= 0) return { finished: false, run };
    await options.pause(Math.min(options.pollIntervalMs, left));
  }
}
