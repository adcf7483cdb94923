/**
 * Bench 4, failure to rollback: the time from an Application turning Degraded to the rollback
 * commit landing in git, with the real gitops and argocd activities and the real workflows,
 * measured against the real Argo CD (application-controller + repo-server on a real Kubernetes
 * control plane with kwok nodes; the bad build's pods never become Ready, so its Deployments pass
 * a short progress deadline and Argo CD's health assessment says Degraded) and, beside it, the Argo
 * CD stand-in the figure was first taken on (on etcd + apiextensions-apiserver).
 * "Degraded" is when a watch of our own sees Argo CD's status say so; "landed" is when the bare
 * repository's post-receive hook runs for the rollback push. Printed next to what Argo CD's
 * 3-minute poll would give a tool that learns of health from it (uniform over 0–180 s).
 * Target: p99 under 1.5 s.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { applicationApi, createArgoActivities, watchApplication, type ArgoApplication } from '../activities/argocd/index.js';
import { createControlActivities } from '../activities/control/index.js';
import { createGitopsActivities, isAncestor } from '../activities/gitops/index.js';
import { startArgoStandIn } from '../infra/argocd-standin/index.js';
import { neverReadyCommit, startRealCluster } from '../infra/cluster/index.js';
import { environmentWorkflowId } from '../core/ids.js';
import { seedGitopsRepo, todoappExampleDir } from '../infra/examples/seed-repo.js';
import { startKubeApiServer } from '../infra/kube/index.js';
import { benchCommit, startBenchRelease } from './pipeline.js';
import { BenchPolicy } from './policy.js';
import { percentile, printTable, round, writeResult } from './report.js';
import { startBenchWorker, type BenchTemporal } from './temporal.js';

const RUNS = Number(process.env.SLIPWAY_BENCH_FAILURE_RUNS ?? 30);
const PROGRESSING_MS = 300;
/** On the real cluster: how long a Deployment may make no progress before Kubernetes calls it failed. */
const PROGRESS_DEADLINE_S = 2;

/** The example's slipway.yaml with staging only, pointed at `gitUrl`: the bench worker's policy. */
function stagingOnlyPolicy(gitUrl: string): string {
  const example = parse(readFileSync(join(todoappExampleDir(), 'slipway.yaml'), 'utf8')) as {
    gitops: Record<string, unknown>;
    apps: { todoapp: { source?: unknown; triggers?: unknown; environments: Array<Record<string, any>> } };
  };
  example.gitops.url = gitUrl;
  const app = example.apps.todoapp;
  delete app.source; // no GitHub here: no tag step, and no pushes to trigger on
  delete app.triggers;
  const staging = app.environments[0]!;
  staging.checks = [];
  staging.argocd.timeout = '30s';
  app.environments = [staging];
  return JSON.stringify({ ...example, engine: { heartbeatTimeout: '5s', stepTimeout: '30s' } });
}

type Backend = 'real Argo CD' | 'Argo CD stand-in';

interface Measured {
  latencies: number[];
  problems: string[];
}

/** Kubernetes with Argo CD (real or stand-in) for the example's Applications; `bad()` names a build that turns Degraded. */
async function startBackend(backend: Backend) {
  if (backend === 'real Argo CD') {
    const cluster = await startRealCluster({ log: () => {} });
    return { kubeConfig: cluster.kubeConfig, bad: neverReadyCommit, stop: () => cluster.stop() };
  }
  const kube = await startKubeApiServer();
  const badTags = new Set<string>();
  const standIn = startArgoStandIn({ kubeConfig: kube.kubeConfig, namespace: 'argocd', rules: { badTags, progressingMs: PROGRESSING_MS } });
  return {
    kubeConfig: kube.kubeConfig,
    bad: () => {
      const commit = benchCommit();
      badTags.add(commit);
      return commit;
    },
    stop: async () => {
      await standIn.stop();
      await kube.stop();
    },
  };
}

async function measure(t: BenchTemporal, backend: Backend): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-bench-failure-'));
  const repo = await seedGitopsRepo(dir, { deployment: { progressDeadlineSeconds: PROGRESS_DEADLINE_S } });
  const pushLog = join(dir, 'pushes.log');
  const hook = join(repo.barePath, 'hooks', 'post-receive');
  writeFileSync(hook, `#!/bin/sh\nwhile read old new ref; do echo "$(date +%s%N) $new" >> '${pushLog}'; done\n`);
  chmodSync(hook, 0o755);
  const pushes = () => (existsSync(pushLog) ? readFileSync(pushLog, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]) : []);

  const world = await startBackend(backend);
  const api = world.kubeConfig.makeApiClient(CustomObjectsApi);
  for (const file of readdirSync(join(todoappExampleDir(), 'argocd'))) {
    const body = parse(readFileSync(join(todoappExampleDir(), 'argocd', file), 'utf8')) as ArgoApplication;
    body.spec!.source!.repoURL = repo.bareUrl;
    await api.createNamespacedCustomObject({ ...applicationApi, namespace: 'argocd', body });
  }

  // Our own watch: the moment Argo CD's Degraded status for the run's bad commit is visible through
  // the API server (a Degraded still shown for the revision the run started at is not it).
  let degradedAt: number | undefined;
  let revision: string | undefined;
  let startRevision: string | undefined;
  const watching = new AbortController();
  void watchApplication({
    kubeConfig: world.kubeConfig,
    app: { application: 'todoapp-staging', namespace: 'argocd' },
    signal: watching.signal,
    onObject: (app) => {
      revision = app.status?.sync?.revision;
      if (degradedAt === undefined && revision !== startRevision && app.status?.health?.status === 'Degraded') degradedAt = Date.now();
    },
    onFatal: (err) => console.error(`failure bench: watch failed: ${String(err)}`),
  });

  const taskQueue = `bench-failure-${backend.replace(/\W+/g, '-')}`;
  const policy = new BenchPolicy(stagingOnlyPolicy(repo.bareUrl));
  const activities = {
    ...createGitopsActivities({ logger: { info() {}, warn() {} } }),
    ...createArgoActivities({ kubeConfig: world.kubeConfig, isAncestor }),
    ...createControlActivities(),
    async notify() {
      return { delivered: 0, failed: 0 };
    },
  };
  const worker = await startBenchWorker(t, taskQueue, activities, policy.store);
  const latencies: number[] = [];
  const problems: string[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      const commit = world.bad();
      const pushedBefore = pushes().length;
      degradedAt = undefined;
      startRevision = revision;
      const handle = await startBenchRelease(t.client, taskQueue, 'todoapp', commit, { skipBuild: true });
      const failed = await handle.result().then(() => false, () => true);
      process.stdout.write(`  ${backend} run ${run + 1}/${RUNS}: ${failed ? 'failed' : 'released'}${degradedAt === undefined ? ', no Degraded seen' : ''}\n`);
      const during = pushes().slice(pushedBefore);
      const rollback = during[1];
      const subject = rollback ? execFileSync('git', ['--git-dir', repo.barePath, 'log', '-1', '--format=%s', rollback[1]], { encoding: 'utf8' }) : '';
      if (!failed || !rollback || !subject.startsWith('rollback') || degradedAt === undefined) {
        problems.push(`run ${run}: failed=${failed} pushes=${during.length} subject=${subject.trim()} degraded=${degradedAt !== undefined}`);
        continue;
      }
      latencies.push(Number(BigInt(rollback[0]) / 1_000_000n) - degradedAt);
    }
  } finally {
    watching.abort();
    // The environment's workflow outlives its releases, on this backend's task queue: end it, so
    // the next backend's releases of the same app start their own.
    await t.client.workflow.getHandle(environmentWorkflowId('todoapp', 'staging')).terminate('failure bench: backend done').catch(() => undefined);
    await worker.stop();
    await world.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return { latencies, problems };
}

function row(path: string, latencies: number[]) {
  const s = (ms: number) => round(ms / 1000, 3);
  return {
    path: `${path}, ${latencies.length} runs`,
    'p50 s': s(percentile(latencies, 50)),
    'p99 s': s(percentile(latencies, 99)),
    'worst s': s(Math.max(...latencies)),
    'mean s': s(latencies.reduce((a, b) => a + b, 0) / latencies.length),
  };
}

export async function benchFailureDetection(t: BenchTemporal): Promise<Record<string, unknown>> {
  const real = await measure(t, 'real Argo CD');
  const standIn = await measure(t, 'Argo CD stand-in');
  const argoPollMs = 180_000;
  const rows = [
    row('Slipway (Kubernetes watch) on the real Argo CD v3.6.1', real.latencies),
    row('Slipway (Kubernetes watch) on the Argo CD stand-in', standIn.latencies),
    { path: "a poll at Argo CD's 3 min default (uniform)", 'p50 s': 90, 'p99 s': round((0.99 * argoPollMs) / 1000, 1), 'worst s': 180, 'mean s': 90 },
  ];
  const unusable = real.problems.length + standIn.problems.length;
  printTable(`failure detection — Degraded → rollback commit in git (target p99 < 1.5 s); ${unusable} runs unusable`, rows);
  for (const [name, m] of [['real', real], ['stand-in', standIn]] as const) if (m.problems.length) console.log(`${name}:\n${m.problems.slice(0, 5).join('\n')}`);
  const ratio = percentile(real.latencies, 99) / percentile(standIn.latencies, 99);
  console.log(`p99 on the real Argo CD is ${round(ratio, 2)}× the stand-in's`);
  writeResult('failure-detection', {
    runs: RUNS,
    real: { progressDeadlineSeconds: PROGRESS_DEADLINE_S, latenciesMs: real.latencies, problems: real.problems },
    standIn: { progressingMs: PROGRESSING_MS, latenciesMs: standIn.latencies, problems: standIn.problems },
    target: { p99Ms: 1500 },
  });
  return { p50: percentile(real.latencies, 50), p99: percentile(real.latencies, 99), standInP99: percentile(standIn.latencies, 99) };
}
