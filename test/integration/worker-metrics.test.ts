/**
 * The worker's /metrics, scraped by a real Prometheus. Tier: integration — the suite's real
 * Temporal dev server; a worker in a process of its own (the Runtime, and so the exporter, is one
 * per process) with SLIPWAY_METRICS_ADDRESS on a free loopback port, set up as worker/main.ts sets
 * it up (worker/telemetry.ts); Debian's prometheus scraping it and evaluating
 * infra/prometheus/slipway-alerts.yml; a real PostgreSQL for a backup. The releases' outside
 * systems are the FakeWorld (test/support/fake-world.ts), whose Argo CD wait is not the real one:
 * for slipway_degraded_detection_seconds, this test process runs a worker of its own (its Runtime
 * with /metrics on another port) whose real waitForHealthy watches an Application on a real
 * Kubernetes API server (etcd + apiextensions-apiserver) kept by the Argo CD stand-in.
 *
 * The test runs releases that promote (one through an approval), one rolled back, one whose
 * rollback is refused, a backup and a Degraded wait, then asks Prometheus through PromQL for what
 * they caused.
 */
import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createArgoActivities } from '../../activities/argocd/index.js';
import { runBackupNow } from '../../client/backups.js';
import { parseConfig } from '../../config/schema.js';
import { environmentWorkflowId } from '../../core/ids.js';
import { DEGRADED_DETECTION, exportedSeries, SDK_METRICS_SHOWN, SLIPWAY_METRICS } from '../../core/metrics.js';
import { startArgoStandIn, type ArgoStandIn } from '../../infra/argocd-standin/index.js';
import { startKubeApiServer, type KubeApiServer } from '../../infra/kube/index.js';
import { startPostgres, type RunningPostgres } from '../../infra/postgres/index.js';
import { freePort } from '../../infra/ports.js';
import { instantQuery, startPrometheus, type RunningPrometheus } from '../../infra/prometheus/server.js';
import { buildWorkflowBundle } from '../../worker/bundle-code.js';
import { installRuntime } from '../../worker/telemetry.js';
import { approveUpdate, releaseStatusQuery } from '../../workflows/messages.js';
import { GitopsRepo, createApplication } from '../support/argocd-fixture.js';
import { FakeWorld } from '../support/fake-world.js';
import { addAppToWorld, commitSha, eventually, pipelineFromYaml, startRelease, uniqueApp } from '../support/pipelines.js';
import { TestPolicy, WORKFLOW_TEST_HEADER } from '../support/policy.js';
import { testClient, uniqueTaskQueue } from '../support/temporal.js';
import { killWorker, startWorkerProcess } from '../support/worker-processes.js';
import { withDb } from '../support/postgres.js';

const JOB = 'slipway-worker';
const ARGO_JOB = 'slipway-argo-worker';
const DB_ENV = `SLIPWAY_TEST_METRICS_DB_${randomBytes(3).toString('hex').toUpperCase()}`;
const policy = new TestPolicy(WORKFLOW_TEST_HEADER);
const world = new FakeWorld(mkdtempSync(join(tmpdir(), 'slipway-world-')));
world.setRules({ initial: {}, applications: {} });

/** An app whose overlays and Argo CD Applications are in the world and whose pipeline is in the worker's policy. */
function addApp(prefix: string, environmentsYaml: string) {
  const app = uniqueApp(prefix);
  addAppToWorld(world, app);
  return { app, pipeline: pipelineFromYaml(app, environmentsYaml, '    build: none', policy), commit: commitSha() };
}

const environments = (opts: { stagingExtra?: string; productionExtra?: string } = {}) => `
      - name: staging
        overlay: APP/staging
        argocd: { application: APP-staging, timeout: 20s }
        checks: [ { soak: 1s } ]
${opts.stagingExtra ?? ''}
      - name: production
        overlay: APP/production
        argocd: { application: APP-production, timeout: 20s }
${opts.productionExtra ?? ''}`;

// In the policy before the worker reads it.
const good = addApp('metrics-good', environments({
  stagingExtra: `        backup: { schedule: "0 3 * * *", postgres: { urlFromEnv: ${DB_ENV} }, keep: 3 }`,
  productionExtra: '        approval: { required: true, timeout: 5m }',
}));
const bad = addApp('metrics-bad', environments());
const conflicted = addApp('metrics-conflict', environments());

let client: Client;
let postgres: RunningPostgres;
let prometheus: RunningPrometheus;
let worker: ChildProcess;
let metricsPort: number;
const taskQueue = uniqueTaskQueue('worker-metrics');
let kube: KubeApiServer | undefined;
let standIn: ArgoStandIn | undefined;
let argoWorker: { worker: Worker; running: Promise<void>; connection: NativeConnection } | undefined;
const repos: GitopsRepo[] = [];

/** One number from PromQL (the sum of what it selects); undefined when it selects nothing. */
async function value(query: string): Promise<number | undefined> {
  const result = await instantQuery(prometheus.url, query);
  return result.length === 0 ? undefined : result.reduce((sum, s) => sum + Number(s.value[1]), 0);
}

/** Waits until a query's value is `expected` (scrapes come every second), and returns it. */
const valueOf = (query: string, expected: number) => eventually(() => value(query), (v) => v === expected, 30_000);

/** A worker started from the real entry, expected to stop at start-up: its exit code and what it said. */
function startMainExpectingFailure(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['--import', 'tsx', 'worker/main.ts'], { env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1', ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      done({ code: err ? ((err as { code?: number }).code ?? null) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

beforeAll(async () => {
  client = await testClient();
  postgres = await startPostgres({ password: randomBytes(6).toString('hex') });
  await withDb(postgres.url, (db) => db.query("CREATE TABLE todos (id serial PRIMARY KEY, title text); INSERT INTO todos (title) SELECT 'todo ' || g FROM generate_series(1, 20) g"));

  metricsPort = await freePort();
  worker = await startWorkerProcess({
    temporalAddress: inject('temporalAddress'),
    taskQueue,
    worldDir: world.dir,
    workflowBundle: inject('workflowBundlePath'),
    policyFile: policy.file,
    extra: {
      SLIPWAY_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
      SLIPWAY_BACKUP_DIR: mkdtempSync(join(tmpdir(), 'slipway-metrics-backups-')),
      [DB_ENV]: postgres.url,
    },
  });
  prometheus = await startPrometheus({ scrape: [{ job: JOB, targets: [`127.0.0.1:${metricsPort}`] }], ruleFiles: [resolve('infra/prometheus/slipway-alerts.yml')] });
  await prometheus.scraped(JOB);

  // A release promoted to staging and, once approved, to production.
  const released = await startRelease(client, taskQueue, good.pipeline, good.commit, { version: '1.0.0' });
  await eventually(() => released.query(releaseStatusQuery), (s) => s.environments[1]?.phase === 'awaiting-approval');
  await new Promise((r) => setTimeout(r, 1500)); // a wait long enough to tell from nothing
  await client.workflow.getHandle(environmentWorkflowId(good.app, 'production')).executeUpdate(approveUpdate, { args: [{ by: 'alice' }] });
  expect((await released.result()).outcome).toBe('released');

  // A bad build: Degraded in staging, rolled back there.
  world.updateRules({ badTags: [bad.commit, conflicted.commit] });
  const rolledBack = await startRelease(client, taskQueue, bad.pipeline, bad.commit);
  expect(await rolledBack.result().catch((e: unknown) => e)).toBeInstanceOf(Error);

  // A bad build whose rollback is refused: someone committed to the overlay by hand in between.
  world.updateRules({ handCommits: { [`${conflicted.app}/staging`]: { commit: 'f00d', author: 'mallory', subject: 'hotfix' } } });
  const refused = await startRelease(client, taskQueue, conflicted.pipeline, conflicted.commit);
  expect(await refused.result().catch((e: unknown) => e)).toBeInstanceOf(Error);

  // A backup of the good app's staging database, verified by restore.
  const config = parseConfig(readFileSync(policy.file, 'utf8'), policy.file);
  const backup = await runBackupNow(client, config, good.app, 'staging', taskQueue);
  expect(backup.result.rows).toBe(20);
});

afterAll(async () => {
  if (argoWorker) {
    argoWorker.worker.shutdown();
    await argoWorker.running.catch(() => undefined);
    await argoWorker.connection.close();
  }
  await standIn?.stop();
  await kube?.stop();
  for (const repo of repos) repo.remove();
  if (worker) await killWorker(worker);
  await prometheus?.stop();
  await postgres?.stop();
});

describe('the worker’s /metrics, scraped by a real Prometheus', () => {
  it('counts promotions by app, environment and outcome, with how long they ran', async () => {
    expect(await valueOf(`sum(slipway_promotions_total{app="${good.app}",outcome="promoted",kind="promote"})`, 2)).toBe(2);
    expect(await value(`sum by (environment) (slipway_promotions_total{app="${good.app}",environment="production"})`)).toBe(1);
    expect(await valueOf(`sum(slipway_promotions_total{app="${bad.app}",environment="staging",outcome="rolled-back"})`, 1)).toBe(1);
    expect(await valueOf(`sum(slipway_promotions_total{app="${conflicted.app}",environment="staging",outcome="failed"})`, 1)).toBe(1);
    // The failed releases never reached production: its counters are still at the 0 the worker started them at.
    expect(await value(`slipway_promotions_total{app=~"${bad.app}|${conflicted.app}",environment="production"}`)).toBe(0);
    // Started at 0 and counted on are one series, not two: increase() sees the first promotion.
    expect(await value(`count(slipway_promotions_total{app="${good.app}",environment="production",kind="promote",outcome="promoted"})`)).toBe(1);
    expect(await value(`count(slipway_promotions_total{app="${good.app}",environment="production"})`)).toBe(16);

    expect(await valueOf(`sum(slipway_promotion_duration_seconds_count{app="${good.app}",outcome="promoted"})`, 2)).toBe(2);
    // Staging soaks for a second: its promotion cannot have taken less.
    expect(await value(`sum(slipway_promotion_duration_seconds_sum{app="${good.app}",environment="staging"})`)).toBeGreaterThanOrEqual(1);
    expect(await value(`sum(slipway_promotion_duration_seconds_bucket{app="${good.app}",environment="staging",le="+Inf"})`)).toBe(1);
  });

  it('measures the wait for approval, by decision', async () => {
    expect(await valueOf(`sum(slipway_approval_wait_seconds_count{app="${good.app}",environment="production",decision="approved"})`, 1)).toBe(1);
    expect(await value(`sum(slipway_approval_wait_seconds_sum{app="${good.app}",environment="production"})`)).toBeGreaterThanOrEqual(1.5);
  });

  it('counts rollbacks by result, and fires the alert for the environment whose rollback failed only', async () => {
    expect(await valueOf(`sum(slipway_rollbacks_total{app="${bad.app}",environment="staging",result="rolled-back"})`, 1)).toBe(1);
    expect(await valueOf(`sum(slipway_rollbacks_total{app="${conflicted.app}",environment="staging",result="failed"})`, 1)).toBe(1);
    const firing = await eventually(
      () => instantQuery(prometheus.url, 'ALERTS{alertname="SlipwayEnvironmentUnhealthyAfterRollback",alertstate="firing"}'),
      (r) => r.length > 0,
      30_000,
    );
    expect(firing.map((s) => `${s.metric.app}/${s.metric.environment}`)).toEqual([`${conflicted.app}/staging`]);
  });

  it('counts the backup as verified, exports when it was taken and its schedule’s period, and the stale-backup alert stays quiet', async () => {
    expect(await valueOf(`sum(slipway_backups_total{app="${good.app}",environment="staging",outcome="verified"})`, 1)).toBe(1);
    const age = await value(`time() - max(slipway_backup_newest_verified_timestamp_seconds{app="${good.app}",environment="staging"})`);
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(600);
    expect(await value(`max(slipway_backup_schedule_interval_seconds{app="${good.app}",environment="staging"})`)).toBe(86_400);
    expect(await instantQuery(prometheus.url, 'ALERTS{alertname="SlipwayBackupStale"}')).toEqual([]);
  });

  it('shows each of Slipway’s metrics under the name core/metrics.ts gives it, with the labels it lists', async () => {
    const names = (await instantQuery(prometheus.url, `group by (__name__) ({__name__=~"slipway_.+",job="${JOB}"})`)).map((s) => s.metric.__name__);
    // Everything but the Argo CD wait's, which the FakeWorld does not run (see the next describe).
    const expected = SLIPWAY_METRICS.filter((m) => m !== DEGRADED_DETECTION).flatMap(exportedSeries);
    expect(names.sort()).toEqual(expected.sort());
    for (const m of SLIPWAY_METRICS.filter((x) => x !== DEGRADED_DETECTION)) {
      const [series] = await instantQuery(prometheus.url, `${exportedSeries(m)[0]}`);
      for (const label of m.labels) expect(series!.metric, `${m.name} has ${label}`).toHaveProperty(label);
    }
  });

  it('answers every query of the Grafana dashboard, and its panels show what the releases did', async () => {
    const dashboard = JSON.parse(readFileSync('infra/grafana/slipway-dashboard.json', 'utf8')) as { panels: Array<{ title: string; targets?: Array<{ expr: string }> }> };
    // Grafana's variables as Grafana fills them in: every app and environment, a short rate window, the last hour.
    const filled = (expr: string) => expr.replaceAll('$__rate_interval', '1m').replaceAll('$__range', '1h').replaceAll('$app', '.*').replaceAll('$environment', '.*');
    const panel = (title: string) => dashboard.panels.find((p) => p.title === title)!.targets!.map((t) => filled(t.expr));
    for (const p of dashboard.panels) for (const t of p.targets ?? []) await expect(instantQuery(prometheus.url, filled(t.expr)), p.title).resolves.toBeDefined();

    const inRange = await instantQuery(prometheus.url, panel('Promotions in the time range')[0]!);
    const row = (app: string, environment: string) => inRange.find((s) => s.metric.app === app && s.metric.environment === environment);
    expect(row(good.app, 'production')?.metric).toMatchObject({ kind: 'promote', outcome: 'promoted' });
    expect(row(bad.app, 'staging')?.metric.outcome).toBe('rolled-back');
    const unhealthy = await instantQuery(prometheus.url, panel('Environments not healthy after a failed rollback')[0]!);
    expect(unhealthy.map((s) => `${s.metric.app}/${s.metric.environment}`)).toEqual([`${conflicted.app}/staging`]);
    // Shown as a date: milliseconds, within the last ten minutes.
    expect(Date.now() - Number(unhealthy[0]!.value[1])).toBeLessThan(600_000);
    const [age, threshold] = panel('Newest verified backup age');
    expect(await value(age!)).toBeLessThan(600);
    expect(await value(threshold!)).toBe(2 * 86_400);
  });

  it('serves the SDK’s worker metrics the dashboard shows', async () => {
    for (const name of SDK_METRICS_SHOWN) {
      expect(await value(`count({__name__=~"${name}|${name}_bucket"})`), name).toBeGreaterThan(0);
    }
    expect(await value(`sum(temporal_worker_task_slots_available{task_queue="${taskQueue}",worker_type="WorkflowWorker"})`)).toBeGreaterThan(0);
  });
});

describe('the Argo CD wait’s time to detect Degraded, on the endpoint of a worker running the real wait', () => {
  it('records one observation per Degraded verdict, labelled with the Application and what decided it', async () => {
    kube = await startKubeApiServer();
    standIn = startArgoStandIn({ kubeConfig: kube.kubeConfig, namespace: 'argocd', rules: { badTags: new Set(['bad-1']), stuckTags: new Set(), progressingMs: 200 }, resyncMs: 500 });
    const repo = new GitopsRepo();
    repos.push(repo);
    const good = { 'todoapp/frontend': 'good-1', 'todoapp/backend': 'good-1' };
    repo.pushImages(good, 'initial');
    const app = { application: 'metrics-degraded', namespace: 'argocd' };
    await createApplication(kube.kubeConfig, { name: app.application, namespace: app.namespace, repo });

    // This process's Runtime, with /metrics of its own, as worker/main.ts installs it.
    const port = await freePort();
    installRuntime({ logger: new DefaultLogger('ERROR') }, { SLIPWAY_METRICS_ADDRESS: `127.0.0.1:${port}` });
    const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
    const argoQueue = uniqueTaskQueue('worker-metrics-argo');
    const argo = createArgoActivities({ kubeConfig: kube.kubeConfig, isAncestor: repo.isAncestor });
    const w = await Worker.create({
      connection,
      taskQueue: argoQueue,
      activities: argo,
      workflowBundle: { code: await buildWorkflowBundle(resolve('test/support/metrics-workflows.ts')) },
    });
    argoWorker = { worker: w, running: w.run(), connection };
    await prometheus.configure({
      scrape: [
        { job: JOB, targets: [`127.0.0.1:${metricsPort}`] },
        { job: ARGO_JOB, targets: [`127.0.0.1:${port}`] },
      ],
      ruleFiles: [resolve('infra/prometheus/slipway-alerts.yml')],
    });

    const bad = repo.pushImages({ ...good, 'todoapp/frontend': 'bad-1' }, 'promote bad-1');
    await argo.refreshApplication({ app, sync: false });
    const started = Date.now();
    const failure = await client.workflow
      .execute('waitForHealthyOnce', { taskQueue: argoQueue, workflowId: `metrics-degraded-${randomBytes(4).toString('hex')}`, args: [{ app, commit: bad, git: repo.target, timeoutMs: 60_000 }] })
      .catch((e: unknown) => e as Error & { cause?: { cause?: { type?: string } } });
    expect(failure.cause?.cause?.type).toBe('ApplicationDegraded');
    const waited = (Date.now() - started) / 1000;

    await prometheus.scraped(ARGO_JOB);
    const selector = `argocd_namespace="argocd",argocd_application="metrics-degraded",by="health",job="${ARGO_JOB}"`;
    expect(await valueOf(`sum(slipway_degraded_detection_seconds_count{${selector}})`, 1)).toBe(1);
    // From the sync to the verdict: within the wait itself.
    const seconds = await value(`sum(slipway_degraded_detection_seconds_sum{${selector}})`);
    expect(seconds).toBeGreaterThanOrEqual(0);
    expect(seconds).toBeLessThanOrEqual(waited);
    expect(await value(`sum(slipway_degraded_detection_seconds_bucket{${selector},le="10"})`)).toBe(1);
  });
});

describe('a worker given a bad SLIPWAY_METRICS_ADDRESS (the real entry, worker/main.ts)', () => {
  it('stops at start-up naming the variable when the address is a host name', async () => {
    const { code, output } = await startMainExpectingFailure({ SLIPWAY_METRICS_ADDRESS: 'localhost:9464' });
    expect(code).not.toBe(0);
    expect(output).toMatch(/SLIPWAY_METRICS_ADDRESS="localhost:9464": "localhost" is not an IP address/);
  });

  it('stops at start-up naming the variable when the port is taken', async () => {
    const { code, output } = await startMainExpectingFailure({ SLIPWAY_METRICS_ADDRESS: `127.0.0.1:${metricsPort}` });
    expect(code).not.toBe(0);
    expect(output).toMatch(new RegExp(`SLIPWAY_METRICS_ADDRESS=127\\.0\\.0\\.1:${metricsPort}: cannot serve /metrics there: .*Address already in use`));
  });
});
