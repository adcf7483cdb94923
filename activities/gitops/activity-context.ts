/**
 * The Temporal activity context when there is one. The gitops functions are also called
 * directly (tests, the demo, the CLI), where Context.current() would throw.
 */
import { asyncLocalStorage, type Context } from '@temporalio/activity';

export interface GitopsLogger {
  info(message: string, attrs?: Record<string, unknown>): void;
  warn(message: string, attrs?: Record<string, unknown>): void;
}

export function currentActivity(): Context | undefined {
  return asyncLocalStorage.getStore();
}

export function heartbeat(details?: unknown): void {
  currentActivity()?.heartbeat(details);
}

/** The activity's logger inside an activity, the console outside. */
export function defaultLogger(): GitopsLogger {
  const ctx = currentActivity();
  if (ctx) return ctx.log;
  return {
    info: (message, attrs) => console.info(`[slipway gitops] ${message}`, attrs ?? ''),
    warn: (message, attrs) => console.warn(`[slipway gitops] ${message}`, attrs ?? ''),
  };
}
