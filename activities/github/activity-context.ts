/**
 * The Temporal activity context when there is one. These activities are also called directly
 * (tests, the CLI), where Context.current() would throw, so every use goes through here.
 */
import { asyncLocalStorage, type Context } from '@temporalio/activity';

export function currentActivity(): Context | undefined {
  return asyncLocalStorage.getStore();
}

export function heartbeat(details?: unknown): void {
  currentActivity()?.heartbeat(details);
}

/** Resolves after `ms`, or early (rejecting) when the activity is cancelled. */
export async function pause(ms: number): Promise<void> {
  const ctx = currentActivity();
  if (ctx) {
    await ctx.sleep(ms);
    return;
  }
  await new Promise((resolve) => setTimeout(resolve, ms));
}
