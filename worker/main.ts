/**
 * The Slipway worker process. Configured from the environment (see config/temporal.ts
 * and the README); runs the prebuilt workflow bundle when present; shuts down gracefully on
 * SIGTERM/SIGINT, letting running activities finish within the grace time.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { connectionOptions, temporalSettingsFromEnv } from '../config/temporal.js';
import { PolicyStore, policySourceFromEnv } from '../activities/policy/index.js';
import { sweepAbandonedClones } from '../activities/gitops/index.js';
import { createActivities } from './activities.js';
import { createSlipwayWorker } from './create-worker.js';

const settings = temporalSettingsFromEnv();
Runtime.install({
  logger: new DefaultLogger((process.env.SLIPWAY_LOG_LEVEL as 'INFO' | undefined) ?? 'INFO'),
  shutdownSignals: ['SIGTERM', 'SIGINT'],
});

// Clones a killed worker left behind (no cleanup runs after SIGKILL) go before any new one is made.
const swept = await sweepAbandonedClones();
if (swept.length > 0) console.log(`slipway worker: removed ${swept.length} clone folder(s) left by stopped workers`);

const bundle = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));
const connection = await NativeConnection.connect(connectionOptions(settings));
const worker = await createSlipwayWorker({
  connection,
  namespace: settings.namespace,
  taskQueue: settings.taskQueue,
  activities: createActivities({ settings }),
  policy: new PolicyStore(policySourceFromEnv()),
  workflowBundlePath: existsSync(bundle) ? bundle : undefined,
});
console.log(`slipway worker: ${settings.address} namespace=${settings.namespace} task queue=${settings.taskQueue}`);
try {
  await worker.run();
} finally {
  await connection.close();
}
console.log('slipway worker: stopped');
