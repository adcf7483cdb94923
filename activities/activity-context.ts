/**
 * The Temporal activity context when there is one. Activity functions are also called directly
 * (tests, the demo, the CLI), where Context.current() would throw; every use goes through here,
 * and outside an activity heartbeats do nothing and nothing cancels.
 */
import { asyncLocalStorage, type Context } from '@temporalio/activity';

export function currentActivity(): Context | undefined {
  return asyncLocalStorage.getStore();
}

export function heartbeat(details?: unknown): void {
  currentActivity()?.heartbeat(details);
}
