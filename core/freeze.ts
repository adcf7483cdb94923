/**
 * Freeze windows: periods when an environment must not change. Each window opens when its cron
 * fires and stays closed to deploys for its duration. Pure, so a workflow can compute how long to
 * sleep with a durable timer and tests can check the math without a server.
 */
import { parseCron, previousFiring, type CronSpec } from './cron.js';

export interface FreezeWindowSpec {
  cron: string;
  /** Milliseconds the freeze lasts from each firing. */
  durationMs: number;
  reason?: string;
}

export interface ActiveFreeze {
  /** When the (possibly chained) freeze ends, epoch ms. */
  until: number;
  /** The window that holds the environment frozen at `until`'s start. */
  window: FreezeWindowSpec;
}

/**
 * Returns the freeze in force at `now`, following overlapping or back-to-back windows to the
 * moment the environment is really open again; undefined when no window is active.
 */
export function activeFreeze(windows: FreezeWindowSpec[], now: number): ActiveFreeze | undefined {
  const parsed: Array<[FreezeWindowSpec, CronSpec]> = windows.map((w) => [w, parseCron(w.cron)]);
  let result: ActiveFreeze | undefined;
  let probe = now;
  // Each pass moves `probe` strictly forward, so chained windows end; bound it anyway.
  for (let pass = 0; pass < 64; pass++) {
    let latestEnd: ActiveFreeze | undefined;
    for (const [window, spec] of parsed) {
      const fired = previousFiring(spec, probe, window.durationMs);
      if (fired === undefined) continue;
      const until = fired + window.durationMs;
      if (until > probe && (!latestEnd || until > latestEnd.until)) latestEnd = { until, window };
    }
    if (!latestEnd) return result;
    result = latestEnd;
    probe = latestEnd.until;
  }
  return result;
}
