/**
 * The Temporal activity context when there is one. The gitops functions are also called
 * directly (tests, the demo, the CLI), where Context.current() would throw.
 */
import { currentActivity } from '../activity-context.js';

export { currentActivity, heartbeat } from '../activity-context.js';

export interface GitopsLogger {
  info(message: string, attrs?: Record<string, unknown>): void;
  warn(message: string, attrs?: Record<string, unknown>): void;
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
