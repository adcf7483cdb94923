/**
 * The Temporal activity context when there is one. These activities are also called directly
 * (tests, the CLI), where Context.current() would throw, so every use goes through here.
 */
import { currentActivity } from '../activity-context.js';

export { currentActivity, heartbeat } from '../activity-context.js';

/** Resolves after `ms`, or early (rejecting) when the activity is cancelled. */
export async function pause(ms: number): Promise<void> {
  const ctx = currentActivity();
  if (ctx) {
    await ctx.sleep(ms);
    return;
  }
  await new Promise((resolve) => setTimeout(resolve, ms));
}
