/**
 * The Slipway worker process. Configured from the environment (see config/temporal.ts
 * and the README); runs the prebuilt workflow bundle when present; shuts down gracefully on
 * SIGTERM/SIGINT, letting running activities finish within the grace time.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NativeConnection, DefaultLogger } from '@temporalio/worker';
import { connectionOptions, temporalSettingsFromEnv } from '../config/temporal.js';
import { PolicyStore, policySourceFromEnv } from '../activities/policy/index.js';
import { sweepAbandonedClones } from '../activities/gitops/index.js';
import { createActivities } from './activities.js';
import { createSlipwayWorker } from './create-worker.js';
import { takeOver, workerVersioningFromEnv } from './versioning.js';
import { installRuntime, startSlipwayCounters } from './telemetry.js';

const settings = temporalSettingsFromEnv();
// With SLIPWAY_METRICS_ADDRESS, the Runtime serves /metrics there (telemetry.ts); a bad address stops the start here.
const metrics = installRuntime({
  logger: new DefaultLogger((process.env.SLIPWAY_LOG_LEVEL as 'INFO' | undefined) ?? 'INFO'),
  shutdownSignals: ['SIGTERM', 'SIGINT'],
});
if (metrics) console.log(`slipway worker: metrics at ${metrics.url} (listening on ${metrics.bindAddress})`);

// Clones a killed worker left behind (no cleanup runs after SIGKILL) go before any new one is made.
const swept = await sweepAbandonedClones();
if (swept.length > 0) console.log(`slipway worker: removed ${swept.length} clone folder(s) left by stopped workers`);

const bundle = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));
const connection = await NativeConnection.connect(connectionOptions(settings));
const policy = new PolicyStore(policySourceFromEnv());
const worker = await createSlipwayWorker({
  connection,
  namespace: settings.namespace,
  taskQueue: settings.taskQueue,
  activities: createActivities({ settings }),
  policy,
  workflowBundlePath: existsSync(bundle) ? bundle : undefined,
});
if (metrics) startSlipwayCounters((await policy.current()).config, settings);
console.log(`slipway worker: ${settings.address} namespace=${settings.namespace} task queue=${settings.taskQueue}`);
const versioning = workerVersioningFromEnv();
try {
  const running = worker.run();
  if (versioning) {
    // Once it polls, this version may become the deployment's current one (versioning.ts).
    // A version that cannot be made current would poll and never be given work: stop loudly instead.
    const done = await takeOver(connection, settings.namespace, versioning).catch(async (err: unknown) => {
      worker.shutdown();
      await running.catch(() => undefined);
      throw err;
    });
    const name = `${versioning.deploymentName} build ${versioning.buildId}`;
    if (done.outcome === 'left') {
      console.log(
        `slipway worker: ${name} is polling; build ${done.previous} stays current (SLIPWAY_WORKER_TAKE_OVER=manual) until ` +
          `temporal worker deployment set-current-version --deployment-name ${versioning.deploymentName} --build-id ${versioning.buildId}`,
      );
    } else {
      console.log(`slipway worker: ${name} is current${done.outcome === 'made-current' ? ` (was ${done.previous ?? 'none'})` : ''}`);
    }
  }
  await running;
} finally {
  await connection.close();
}
console.log('slipway worker: stopped');
