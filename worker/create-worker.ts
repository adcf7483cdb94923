/** Builds a Slipway worker: workflows from a prebundle when given, activities as handed in. */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { workflowsSourcePath } from './bundle-code.js';

export interface SlipwayWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: object;
  /** Path of a prebuilt workflow bundle (dist/workflow-bundle.js); bundles from source when absent. */
  workflowBundlePath?: string;
  /** Extra worker options (concurrency limits, identity...). */
  tuning?: Partial<WorkerOptions>;
}

export async function createSlipwayWorker(options: SlipwayWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: options.activities,
    ...(options.workflowBundlePath
      ? { workflowBundle: { codePath: options.workflowBundlePath } }
      : { workflowsPath: workflowsSourcePath() }),
    // Waits heartbeat; give them room to report a cancellation promptly.
    maxHeartbeatThrottleInterval: '2s',
    shutdownGraceTime: '20s',
    ...options.tuning,
  });
}
