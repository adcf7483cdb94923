/**
 * Bench 4, failure to rollback: the time from an Application turning Degraded to the rollback
 * commit landing in git — with the real Kubernetes API server, the Argo CD stand-in reconciling
 * from a real bare repository, the real gitops and argocd activities and the real workflows.
 * "Degraded" is when a watch of our own sees the stand-in's status write; "landed" is when the bare
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
import { seedGitopsRepo, todoappExampleDir } from '../infra/examples/seed-repo.js';
import { startKubeApiServer } from '../infra/kube/index.js';
import { benchCommit, startBenchRelease } from './pipeline.js';
import { BenchPolicy } from './policy.js';
import { percentile, printTable, round, writeResult } from './report.js';
import { startBenchWorker, type BenchTemporal } from './temporal.js';

const RUNS = Number(process.env.SLIPWAY_BENCH_FAILURE_RUNS ?? 50);
const PROGRESSING_MS = 300;

/** The example's slipway.yaml with staging only, pointed at `gitUrl`: the bench worker's policy. */
function stagingOnlyPolicy(gitUrl: string): string {
  const example = parse(readFileSync(join(todoappExampleDir(), 'slipway.yaml'), 'utf8')) as {
    gitops: Record<string, unknown>;
    apps: { todoapp: { source?: unknown; environments: Array<Record<string, any>> } };
  };
  example.gitops.url = gitUrl;
  const app = example.apps.todoapp;
  delete app.source;
  const staging = app.environments[0]!;
  staging.checks = [];
  staging.argocd.timeout = '30s';
  app.environments = [staging];
  return JSON.stringify({ ...example, engine: { heartbeatTimeout: '5s', stepTimeout: '30s' } });
}

export async function benchFailureDetection(t: BenchTemporal): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-bench-failure-'));
  const repo = await seedGitopsRepo(dir);
  const pushLog = join(dir, 'pushes.log');
  const hook = join(repo.barePath, 'hooks', 'post-receive');
  writeFileSync(hook, `#!/bin/sh\nwhile read old new ref; do echo "$(date +%s%N) $new" >> '${pushLog}'; done\n`);
  chmodSync(hook, 0o755);
  const pushes = () => (existsSync(pushLog) ? readFileSync(pushLog, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]) : []);

  const kube = await startKubeApiServer();
  const api = kube.kubeConfig.makeApiClient(CustomObjectsApi);
  for (const file of readdirSync(join(todoappExampleDir(), 'argocd'))) {
    const body = parse(readFileSync(join(todoappExampleDir(), 'argocd', file), 'utf8')) as ArgoApplication;
    body.spec!.source!.repoURL = repo.bareUrl;
    await api.createNamespacedCustomObject({ ...applicationApi, namespace: 'argocd', body });
  }
  const badTags = new Set<string>();
  const standIn = startArgoStandIn({ kubeConfig: kube.kubeConfig, namespace: 'argocd', rules: { badTags, progressingMs: PROGRESSING_MS } });

  // Our own watch: the moment the stand-in's Degraded status is visible through the API server.
  let degradedAt: number | undefined;
  const watching = new AbortController();
  void watchApplication({
    kubeConfig: kube.kubeConfig,
    app: { application: 'todoapp-staging', namespace: 'argocd' },
    signal: watching.signal,
    onObject: (app) => {
      if (degradedAt === undefined && app.status?.health?.status === 'Degraded') degradedAt = Date.now();
    },
    onFatal: (err) => console.error(`failure bench: watch failed: ${String(err)}`),
  });

  const taskQueue = 'bench-failure';
  const policy = new BenchPolicy(stagingOnlyPolicy(repo.bareUrl));
  const activities = {
    ...createGitopsActivities({ logger: { info() {}, warn() {} } }),
    ...createArgoActivities({ kubeConfig: kube.kubeConfig, isAncestor }),
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
      const commit = benchCommit();
      badTags.add(commit);
      const pushedBefore = pushes().length;
      degradedAt = undefined;
      const handle = await startBenchRelease(t.client, taskQueue, 'todoapp', commit, { skipBuild: true });
      const failed = await handle.result().then(() => false, () => true);
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
    await worker.stop();
    await standIn.stop();
    await kube.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const argoPollMs = 180_000;
  const rows = [
    { path: `Slipway (Kubernetes watch), ${latencies.length} runs`, 'p50 s': round(percentile(latencies, 50) / 1000, 3), 'p99 s': round(percentile(latencies, 99) / 1000, 3), 'worst s': round(Math.max(...latencies) / 1000, 3), 'mean s': round(latencies.reduce((a, b) => a + b, 0) / latencies.length / 1000, 3) },
    { path: 'a poll at Argo CD\'s 3 min default (uniform)', 'p50 s': 90, 'p99 s': round((0.99 * argoPollMs) / 1000, 1), 'worst s': 180, 'mean s': 90 },
  ];
  printTable(`failure detection — Degraded → rollback commit in git (target p99 < 1.5 s); ${problems.length} runs unusable`, rows);
  if (problems.length) console.log(problems.slice(0, 5).join('\n'));
  writeResult('failure-detection', { runs: RUNS, progressingMs: PROGRESSING_MS, latenciesMs: latencies, problems, target: { p99Ms: 1500 } });
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}
