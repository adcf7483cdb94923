/**
 * The Temporal activity context when there is one. The Argo CD functions are also called
 * directly (tests, scripts); there heartbeats do nothing and nothing cancels them.
 */
import { currentActivity } from '../activity-context.js';

export interface WaitContext {
  /** When the first attempt was scheduled: a retry keeps the original deadline. */
  startedAtMs: number;
  heartbeat(details: unknown): void;
  /** Rejects when the workflow cancels the activity (never settles outside an activity). */
  cancelled: Promise<never>;
}

export function waitContext(): WaitContext {
  const ctx = currentActivity();
  if (!ctx) return { startedAtMs: Date.now(), heartbeat: () => {}, cancelled: new Promise<never>(() => {}) };
  const current = ctx;
  return {
    startedAtMs: current.info.scheduledTimestampMs || Date.now(),
    heartbeat: (details) => current.heartbeat(details),
    cancelled: current.cancelled,
  };
}
