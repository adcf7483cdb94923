/**
 * One Argo CD wait as an activity of its own, for test/integration/worker-metrics.test.ts: the
 * real waitForHealthy run by a real worker, so what the wait records on the activity's meter
 * reaches the worker's /metrics, without a release around it.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { ArgoActivities, WaitHealthyInput } from '../../activities/types.js';

const { waitForHealthy } = proxyActivities<ArgoActivities>({ startToCloseTimeout: '1m', heartbeatTimeout: '10s', retry: { maximumAttempts: 1 } });

export async function waitForHealthyOnce(input: WaitHealthyInput): Promise<void> {
  await waitForHealthy(input);
}
