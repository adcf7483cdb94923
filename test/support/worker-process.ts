/**
 * A worker in its own process, acting on a FakeWorld, for tests that kill workers with SIGKILL.
 * Env: TEMPORAL_ADDRESS, TASK_QUEUE, WORLD_DIR, WORKFLOW_BUNDLE, SLIPWAY_CONFIG (its policy file),
 * and SLIPWAY_WORKER_* for a versioned worker (worker/versioning.ts). Prints "ready" once polling,
 * and, when versioned, `version <outcome>` once it has acted on the deployment's current version.
 */
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { PolicyStore } from '../../activities/policy/index.js';
import { createSlipwayWorker } from '../../worker/create-worker.js';
import { takeOver, workerVersioningFromEnv } from '../../worker/versioning.js';
import { FakeWorld } from './fake-world.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
const worker = await createSlipwayWorker({
  connection,
  namespace: 'default',
  taskQueue: process.env.TASK_QUEUE!,
  activities: new FakeWorld(process.env.WORLD_DIR!).activities(),
  policy: new PolicyStore({ kind: 'file', path: process.env.SLIPWAY_CONFIG! }),
  workflowBundlePath: process.env.WORKFLOW_BUNDLE,
  // A short sticky timeout so a replacement worker picks up workflow tasks quickly.
  tuning: { stickyQueueScheduleToStartTimeout: '2s' },
});
const running = worker.run();
console.log('ready');
// As worker/main.ts does: a versioned worker takes over once it polls.
const versioning = workerVersioningFromEnv();
if (versioning) console.log(`version ${(await takeOver(connection, 'default', versioning)).outcome}`);
await running;
await connection.close();
