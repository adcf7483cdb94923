/**
 * The Temporal activity context when there is one. Activity functions are also called directly
 * (tests, the demo, the CLI), where Context.current() would throw; every use goes through here,
 * and outside an activity heartbeats do nothing, nothing cancels and logs go to the console.
 */
import { asyncLocalStorage, type Context } from '@temporalio/activity';

export function currentActivity(): Context | undefined {
  return asyncLocalStorage.getStore();
}

export function heartbeat(details?: unknown): void {
  currentActivity()?.heartbeat(details);
}

/**
 * Waits `ms`. A cancelled activity ends the wait by rejecting with the cancellation, so the
 * activity stops instead of taking another turn; an aborted `signal` ends it by resolving, for
 * loops that look at their signal next.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  const cancellation = currentActivity()?.cancellationSignal;
  return new Promise((resolve, reject) => {
    if (cancellation?.aborted) return reject(cancellation.reason);
    if (signal?.aborted) return resolve();
    const end = (settle: () => void) => {
      clearTimeout(timer);
      cancellation?.removeEventListener('abort', onCancel);
      signal?.removeEventListener('abort', onAbort);
      settle();
    };
    const onCancel = () => end(() => reject(cancellation!.reason));
    const onAbort = () => end(resolve);
    const timer = setTimeout(() => end(resolve), ms);
    cancellation?.addEventListener('abort', onCancel, { once: true });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface ActivityLogger {
  info(message: string, attrs?: Record<string, unknown>): void;
  warn(message: string, attrs?: Record<string, unknown>): void;
}

/** The activity's logger inside an activity, the console outside. */
export function defaultLogger(): ActivityLogger {
  const ctx = currentActivity();
  if (ctx) return ctx.log;
  return {
    info: (message, attrs) => console.info(`[slipway] ${message}`, attrs ?? ''),
    warn: (message, attrs) => console.warn(`[slipway] ${message}`, attrs ?? ''),
  };
}

/**
 * When the current activity attempt ends in Temporal's eyes (epoch ms): its start-to-close timeout
 * from this attempt's start, or its schedule-to-close timeout from the first attempt's, whichever
 * comes first. Undefined outside an activity or without either timeout. Work bounded by it stops
 * while the attempt can still report why.
 */
export function attemptEndsAtMs(): number | undefined {
  const info = currentActivity()?.info;
  if (!info) return undefined;
  const ends: number[] = [];
  if (info.startToCloseTimeoutMs > 0) ends.push(info.currentAttemptScheduledTimestampMs + info.startToCloseTimeoutMs);
  if (info.scheduleToCloseTimeoutMs > 0) ends.push(info.scheduledTimestampMs + info.scheduleToCloseTimeoutMs);
  return ends.length > 0 ? Math.min(...ends) : undefined;
}

/** What a long wait needs from its activity, with stand-ins outside one. */
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
  return {
    startedAtMs: ctx.info.scheduledTimestampMs || Date.now(),
    heartbeat: (details) => ctx.heartbeat(details),
    cancelled: ctx.cancelled,
  };
}
