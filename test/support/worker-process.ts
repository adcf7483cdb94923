/**
 * A worker in its own process, acting on a FakeWorld, for tests that kill workers with SIGKILL.
 * Env: TEMPORAL_ADDRESS, TASK_QUEUE, WORLD_DIR, WORKFLOW_BUNDLE, SLIPWAY_CONFIG (its policy file),
 * and SLIPWAY_WORKER_* for a versioned worker (worker/versioning.ts); SLIPWAY_METRICS_ADDRESS serves
 * /metrics as worker/main.ts does, and SLIPWAY_BACKUP_DIR adds the real backup activities on that
 * folder (the FakeWorld has none). Prints "ready" once polling,
 * and, when versioned, `version <outcome>` once it has acted on the deployment's current version.
 */
import { DefaultLogger, NativeConnection } from '@temporalio/worker';
import { defaultBackupActivities } from '../../activities/backup/index.js';
import { PolicyStore } from '../../activities/policy/index.js';
import { createSlipwayWorker } from '../../worker/create-worker.js';
import { takeOver, workerVersioningFromEnv } from '../../worker/versioning.js';
import { installRuntime, startSlipwayCounters } from '../../worker/telemetry.js';
import { FakeWorld } from './fake-world.js';

const metrics = installRuntime({ logger: new DefaultLogger('ERROR') });
const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
const worker = await createSlipwayWorker({
  connection,
  namespace: 'default',
  taskQueue: process.env.TASK_QUEUE!,
  activities: { ...new FakeWorld(process.env.WORLD_DIR!).activities(), ...(process.env.SLIPWAY_BACKUP_DIR ? defaultBackupActivities(process.env) : {}) },
  policy: new PolicyStore({ kind: 'file', path: process.env.SLIPWAY_CONFIG! }),
  workflowBundlePath: process.env.WORKFLOW_BUNDLE,
  // A short sticky timeout so a replacement worker picks up workflow tasks quickly.
  tuning: { stickyQueueScheduleToStartTimeout: '2s' },
});
if (metrics) startSlipwayCounters((await new PolicyStore({ kind: 'file', path: process.env.SLIPWAY_CONFIG! }).current()).config, { namespace: 'default', taskQueue: process.env.TASK_QUEUE! });
const running = worker.run();
console.log('ready');
// As worker/main.ts does: a versioned worker takes over once it polls.
const versioning = workerVersioningFromEnv();
if (versioning) console.log(`version ${(await takeOver(connection, 'default', versioning)).outcome}`);
await running;
await connection.close();
