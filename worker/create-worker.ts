/**
 * Builds a Slipway worker: workflows from a prebundle when given, the activities handed in, and
 * the worker's policy — read by the policy activities, and enforced on every activity call.
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createPolicyActivities, type PolicyStore } from '../activities/policy/index.js';
import { workflowsSourcePath } from './bundle-code.js';
import { PolicyGuard } from './policy-guard.js';

export interface SlipwayWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: object;
  /** The pipeline policy this worker owns (its slipway.yaml, from a file or git). */
  policy: PolicyStore;
  /** Path of a prebuilt workflow bundle (dist/workflow-bundle.js); bundles from source when absent. */
  workflowBundlePath?: string;
  /** Extra worker options (concurrency limits, identity...). */
  tuning?: Partial<WorkerOptions>;
}

export async function createSlipwayWorker(options: SlipwayWorkerOptions): Promise<Worker> {
  // Read before the first task: a broken policy stops the worker at start, and the guard knows it.
  await options.policy.current();
  const guard = new PolicyGuard(() => options.policy.all());
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: { ...options.activities, ...createPolicyActivities(options.policy) },
    interceptors: { activity: [guard.interceptor()] },
    ...(options.workflowBundlePath
      ? { workflowBundle: { codePath: options.workflowBundlePath } }
      : { workflowsPath: workflowsSourcePath() }),
    // Waits heartbeat; give them room to report a cancellation promptly.
    maxHeartbeatThrottleInterval: '2s',
    shutdownGraceTime: '20s',
    ...options.tuning,
  });
}
