/**
 * Waiting for a GitHub Actions run to finish: poll until `status == completed` or the deadline,
 * heartbeating on every poll so a dead worker is noticed. Pure of GitHub itself (the run is
 * fetched through `getRun`), so the waiting rules are tested without a server.
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

export type RunWaitResult = { finished: true; run: RunSnapshot } | { finished: false; run: RunSnapshot };

export async function waitForRun(getRun: () => Promise<RunSnapshot>, options: WaitForRunOptions): Promise<RunWaitResult> {
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
