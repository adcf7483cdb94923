/**
 * Starts everything the demo runs on, each piece registered with the cleanup as soon as it exists:
 * the Temporal dev server with its Web UI, a real cluster (Kubernetes' control plane, kwok nodes,
 * the real Argo CD), the TodoApp GitOps repository, its Argo CD Applications, and a Slipway worker
 * in this process with the real activities.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createNotifyActivities } from '../../activities/notify/index.js';
import type { SlipwayConfig } from '../../config/schema.js';
import type { TemporalSettings } from '../../config/temporal.js';
import { TASK_QUEUE_DEFAULT } from '../../core/ids.js';
import { createActivities } from '../../worker/activities.js';
import { PolicyStore } from '../../activities/policy/index.js';
import { createSlipwayWorker } from '../../worker/create-worker.js';
import { startRealCluster, type RealCluster } from '../cluster/index.js';
import { seedGitopsRepo, type SeededRepo } from '../examples/seed-repo.js';
import { startDevServer, type DevServer } from '../temporal/dev-server.js';
import { createApplications, exampleApplications } from './applications.js';
import type { Cleanup } from './cleanup.js';
import { writeDemoConfig } from './config.js';

export const ARGO_NAMESPACE = 'argocd';

export interface DemoStack {
  stateDir: string;
  temporal: DevServer;
  settings: TemporalSettings;
  client: Client;
  cluster: RealCluster;
  repo: SeededRepo;
  configPath: string;
  config: SlipwayConfig;
}

/** How long a Deployment of the demo may take to become available before Kubernetes (and so Argo CD) calls it failed. */
export const DEMO_PROGRESS_DEADLINE_S = 10;

export interface StartStackOptions {
  stateDir: string;
  soak: string;
  cleanup: Cleanup;
  say: (line: string) => void;
}

/** Throws when Ctrl-C arrived while starting: nothing more is started. */
function checkNotStopping(cleanup: Cleanup): void {
  if (cleanup.stopping) throw new Error('stopping');
}

export async function startDemoStack({ stateDir, soak, cleanup, say }: StartStackOptions): Promise<DemoStack> {
  mkdirSync(stateDir, { recursive: true });

  say('starting the Temporal dev server with its Web UI …');
  const temporal = await startDevServer({
    ui: true,
    dbFile: join(stateDir, 'temporal.db'),
    logFile: join(stateDir, 'temporal.log'),
    startTimeoutMs: 90_000,
  });
  // The dev server shares our process group; if this process dies without cleanup, take it along.
  const killTemporal = () => temporal.process.kill('SIGKILL');
  process.once('exit', killTemporal);
  cleanup.add('Temporal dev server', async () => {
    process.removeListener('exit', killTemporal);
    await temporal.stop();
  });
  checkNotStopping(cleanup);
  const settings: TemporalSettings = { address: temporal.address, namespace: temporal.namespace, taskQueue: TASK_QUEUE_DEFAULT, tls: false, uiUrl: temporal.uiUrl };

  say('starting a real cluster: Kubernetes control plane, kwok nodes, Argo CD (application-controller, repo-server, redis) …');
  const cluster = await startRealCluster({ dir: join(stateDir, 'cluster'), log: (line) => say(`  ${line}`) });
  cleanup.add('the cluster (Kubernetes, kwok, Argo CD)', () => cluster.stop());
  checkNotStopping(cleanup);

  say('seeding the TodoApp GitOps repository from infra/examples/todoapp …');
  const repo = await seedGitopsRepo(stateDir, { deployment: { progressDeadlineSeconds: DEMO_PROGRESS_DEADLINE_S } });
  const { path: configPath, config } = writeDemoConfig(stateDir, { gitopsUrl: repo.bareUrl, soak });
  await createApplications(cluster.kubeConfig, exampleApplications(repo.bareUrl));
  checkNotStopping(cleanup);

  say('starting a Slipway worker with the real activities …');
  const client = await startClient(settings, cleanup);
  await startWorker(settings, cluster.kubeConfig, configPath, cleanup, say);

  return { stateDir, temporal, settings, client, cluster, repo, configPath, config };
}

async function startClient(settings: TemporalSettings, cleanup: Cleanup): Promise<Client> {
  const connection = await Connection.connect({ address: settings.address });
  cleanup.add('Temporal client', () => connection.close());
  return new Client({ connection, namespace: settings.namespace });
}

async function startWorker(settings: TemporalSettings, kubeConfig: KubeConfig, policyFile: string, cleanup: Cleanup, say: (line: string) => void): Promise<void> {
  try {
    // Signals are ours to handle (main.ts), and only errors are worth a demo's screen (failures show in the progress).
    Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
  } catch {
    /* installed already */
  }
  const connection = await NativeConnection.connect({ address: settings.address });
  const worker = await createSlipwayWorker({
    connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    activities: {
      ...createActivities({ settings, kubeConfig }),
      // The real notify activity; its `log` channel prints on the demo's output.
      ...createNotifyActivities({ uiUrl: settings.uiUrl, namespace: settings.namespace, log: (line) => say(`  notify: ${line}`) }),
    },
    // The demo's slipway.yaml is the worker's own policy, as SLIPWAY_CONFIG is for `npm run worker`.
    policy: new PolicyStore({ kind: 'file', path: policyFile }),
    workflowBundlePath: prebuiltWorkflowBundle(),
    tuning: { shutdownGraceTime: '3s' },
  });
  const running = worker.run();
  cleanup.add('Slipway worker', async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running.catch(() => undefined);
    await connection.close();
  });
}

/** dist/workflow-bundle.js when running the built demo; from the TypeScript sources, bundle them afresh. */
function prebuiltWorkflowBundle(): string | undefined {
  if (!import.meta.url.endsWith('.js')) return undefined;
  const bundle = fileURLToPath(new URL('../../workflow-bundle.js', import.meta.url));
  return existsSync(bundle) ? bundle : undefined;
}
