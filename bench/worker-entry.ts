/**
 * The body of a bench worker that runs in its own process: a Slipway worker with the activities
 * handed in, configured from the environment — TEMPORAL_ADDRESS, TASK_QUEUE, WORKFLOW_BUNDLE (the
 * benches' prebuilt bundle), SLIPWAY_CONFIG (its policy file). Prints `ready` once polling and
 * returns when the worker has shut down; SIGTERM shuts it down gracefully (the SDK's own handler).
 */
import { DefaultLogger, NativeConnection, Runtime, type WorkerOptions } from '@temporalio/worker';
import { PolicyStore } from '../activities/policy/index.js';
import { createSlipwayWorker } from '../worker/create-worker.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`bench worker: ${name} is not set`);
  return value;
};

export async function runBenchWorkerProcess(activities: object, tuning: Partial<WorkerOptions> = {}): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const connection = await NativeConnection.connect({ address: env('TEMPORAL_ADDRESS') });
  const worker = await createSlipwayWorker({
    connection,
    namespace: 'default',
    taskQueue: env('TASK_QUEUE'),
    activities,
    policy: new PolicyStore({ kind: 'file', path: env('SLIPWAY_CONFIG') }),
    workflowBundlePath: env('WORKFLOW_BUNDLE'),
    tuning,
  });
  const running = worker.run();
  console.log('ready');
  await running;
  await connection.close();
}
