/**
 * The engine-overhead baseline: a workflow that does nothing but run `count` no-op activities one
 * after another — what any Temporal workflow with that many steps costs at least.
 */
import { proxyActivities } from '@temporalio/workflow';

const { noop } = proxyActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '1m' });

export async function baseline(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await noop();
}
