/**
 * Starts everything the demo runs on, each piece registered with the cleanup as soon as it exists:
 * the Temporal dev server with its Web UI, the Kubernetes API server (etcd + apiextensions-apiserver)
 * with the Argo CD stand-in, the TodoApp GitOps repository, its Argo CD Applications, and a Slipway
 * worker in this process with the real activities.
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
import { startArgoStandIn } from '../argocd-standin/index.js';
import { seedGitopsRepo, type SeededRepo } from '../examples/seed-repo.js';
import { startKubeApiServer, type KubeApiServer } from '../kube/index.js';
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
  kube: KubeApiServer;
  repo: SeededRepo;
  configPath: string;
  config: SlipwayConfig;
  /** Image tags the Argo CD stand-in reports as crash-looping (Degraded). */
  badTags: Set<string>;
}

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

  say('starting the Kubernetes API server (etcd + apiextensions-apiserver, Argo CD Application CRD) …');
  const kube = await startKubeApiServer({ dataDir: join(stateDir, 'kube'), startTimeoutMs: 90_000 });
  cleanup.add('Kubernetes API server and etcd', () => kube.stop());
  checkNotStopping(cleanup);

  const badTags = new Set<string>();
  const argo = startArgoStandIn({
    kubeConfig: kube.kubeConfig,
    namespace: ARGO_NAMESPACE,
    // Pods "start" for a moment before they settle Healthy, or Degraded for a bad tag.
    rules: { badTags, progressingMs: 1500 },
    log: (line) => say(`  ${line}`),
  });
  cleanup.add('Argo CD stand-in', () => argo.stop());

  say('seeding the TodoApp GitOps repository from infra/examples/todoapp …');
  const repo = await seedGitopsRepo(stateDir);
  const { path: configPath, config } = writeDemoConfig(stateDir, { gitopsUrl: repo.bareUrl, soak });
  await createApplications(kube.kubeConfig, exampleApplications(repo.bareUrl));
  checkNotStopping(cleanup);

  say('starting a Slipway worker with the real activities …');
  const client = await startClient(settings, cleanup);
  await startWorker(settings, kube.kubeConfig, configPath, cleanup, say);

  return { stateDir, temporal, settings, client, kube, repo, configPath, config, badTags };
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
