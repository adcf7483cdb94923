/**
 * Metric checks against a real Prometheus. Tier: integration — Debian's prometheus (2.42, started
 * on loopback by infra/prometheus/server.ts, scraping every second) scraping an exporter the test
 * controls (test/support/metrics-exporter.ts: request counters per build at the error ratio the
 * test sets); releases on the shared Temporal dev server with FakeWorld for git and Argo CD; the
 * activity alone against the same Prometheus, and through an auth proxy in front of it.
 *
 * Through releases: a good build passes; a bad build is rolled back and the release names the
 * query, the value and the threshold; a build compared with the one it replaces; noData fail,
 * pass and wait; Prometheus down past the allowance fails the check naming it, and restarted in
 * time the check passes; a worker killed mid-check is replaced and the check resumes where it was.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { ChildProcess } from 'node:child_process';
import { asyncLocalStorage, type Context } from '@temporalio/activity';
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createCheckActivities } from '../../activities/checks/index.js';
import type { MetricCheckHeartbeat } from '../../activities/checks/metric-check.js';
import { FailureType, type MetricCheckInput, type MetricCheckResult } from '../../activities/types.js';
import { environmentWorkflowId } from '../../core/ids.js';
import { instantQuery, startPrometheus, type RunningPrometheus } from '../../infra/prometheus/server.js';
import { releaseStatusQuery } from '../../workflows/messages.js';
import type { release } from '../../workflows/release.js';
import { failureOf } from '../support/failures.js';
import { MetricsExporter } from '../support/metrics-exporter.js';
import { STAGING_AND_PRODUCTION, commitSha, eventually, newWorld, pipelineFromYaml, startRelease, uniqueApp } from '../support/pipelines.js';
import { suitePolicy } from '../support/policy.js';
import { saveHistory, startTestWorker, temporalAddress, testClient, uniqueTaskQueue, workersOfThisFile } from '../support/temporal.js';
import { killWorker, startWorkerProcess } from '../support/worker-processes.js';

const { metricCheck } = createCheckActivities();

/** The error ratio of one build over the last 10 s (wide enough to ride over a Prometheus restart). */
const ERROR_RATE =
  'sum(rate(http_requests_total{app="{{app}}",version="{{version}}",code="500"}[10s])) / sum(rate(http_requests_total{app="{{app}}",version="{{version}}"}[10s]))';
const GOOD = { rate: 50, errorRatio: 0.001 };
const BAD = { rate: 50, errorRatio: 0.3 };

let client: Client;
let exporter: MetricsExporter;
let prometheus: RunningPrometheus;
const workers = workersOfThisFile();
const processes: ChildProcess[] = [];

beforeAll(async () => {
  exporter = new MetricsExporter();
  const target = await exporter.start();
  prometheus = await startPrometheus({ scrape: [{ job: 'app', targets: [target] }], intervalSeconds: 1 });
  await prometheus.scraped('app');
  client = await testClient();
});

afterAll(async () => {
  for (const p of processes) await killWorker(p);
  await prometheus?.stop();
  await exporter?.stop();
});

/** A metric check in slipway.yaml's flow style; `fields` override the defaults here. */
function metricChecks(fields: Record<string, string | number> = {}, url = prometheus.url): string {
  const all: Record<string, string | number> = { name: 'error rate', prometheus: `"${url}"`, query: `'${ERROR_RATE}'`, condition: '"< 0.01"', interval: '1s', for: '4s', ...fields };
  return `[ { metric: { ${Object.entries(all).map(([k, v]) => `${k}: ${v}`).join(', ')} } } ]`;
}

/** Resolves once Prometheus has a value for the build's error rate (its traffic has been scraped twice). */
async function dataFor(app: string, version: string, url = prometheus.url): Promise<void> {
  const query = ERROR_RATE.replaceAll('{{app}}', app).replaceAll('{{version}}', version);
  await eventually(
    async () => {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(query)}`, { signal: AbortSignal.timeout(2000) });
      return ((await res.json()) as { data: { result: unknown[] } }).data.result.length;
    },
    (n) => n === 1,
    20_000,
  );
}

interface Staged {
  app: string;
  world: ReturnType<typeof newWorld>;
  taskQueue: string;
  pipeline: ReturnType<typeof pipelineFromYaml>;
}

/** An app whose staging has these checks, and a worker acting on its world. */
async function stagedApp(checks: string): Promise<Staged> {
  const app = uniqueApp('metrics');
  const world = newWorld(app);
  const pipeline = pipelineFromYaml(app, STAGING_AND_PRODUCTION({ stagingChecks: checks }));
  const w = await startTestWorker(world.activities());
  workers.push(w);
  return { app, world, taskQueue: w.taskQueue, pipeline };
}

function releaseToStaging(s: Staged, version: string, taskQueue = s.taskQueue): Promise<WorkflowHandle<typeof release>> {
  return startRelease(client, taskQueue, s.pipeline, commitSha(), { version, startAt: 'staging', only: true });
}

/** How the release failed: the failure's message (`staging: … (rolled back at …)`). */
async function failureOfRelease(handle: WorkflowHandle<typeof release>): Promise<string> {
  const error = await handle.result().then(
    () => new Error('expected the release to fail, and it succeeded'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorkflowFailedError);
  return String((error as WorkflowFailedError).cause?.message);
}

/** The latest promotion child of the app's staging environment. */
async function latestPromotion(app: string): Promise<WorkflowHandle> {
  const history = await client.workflow.getHandle(environmentWorkflowId(app, 'staging')).fetchHistory();
  const started = history.events!.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes).at(-1);
  return client.workflow.getHandle(started!.startChildWorkflowExecutionInitiatedEventAttributes!.workflowId!);
}

const decode = (payloads?: { payloads?: Array<{ data?: Uint8Array | null }> | null } | null): unknown => {
  const data = payloads?.payloads?.[0]?.data;
  return data ? JSON.parse(Buffer.from(data).toString('utf8')) : undefined;
};

/** The metric check step in the promotion's history: its input, its result, and the attempt that completed it. */
async function metricStep(app: string): Promise<{ input: MetricCheckInput; result?: MetricCheckResult; attempt?: number; summary?: string; lastAttemptMs?: number }> {
  const history = await (await latestPromotion(app)).fetchHistory();
  const scheduled = history.events!.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'metricCheck')!;
  const completed = history.events!.find((e) => e.activityTaskCompletedEventAttributes?.scheduledEventId?.toString() === scheduled.eventId!.toString());
  const started = history.events!.find((e) => e.activityTaskStartedEventAttributes?.scheduledEventId?.toString() === scheduled.eventId!.toString());
  return {
    input: decode(scheduled.activityTaskScheduledEventAttributes!.input) as MetricCheckInput,
    result: decode(completed?.activityTaskCompletedEventAttributes?.result) as MetricCheckResult | undefined,
    attempt: started?.activityTaskStartedEventAttributes?.attempt ?? undefined,
    // From the last attempt's start to its completion, by the server's clock.
    lastAttemptMs: started && completed ? millis(completed.eventTime) - millis(started.eventTime) : undefined,
    summary: decode(scheduled.userMetadata?.summary ? { payloads: [scheduled.userMetadata.summary] } : undefined) as string | undefined,
  };
}

const millis = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);

/** The progress the running metric check last heartbeated, once it is running. */
async function heartbeated(app: string): Promise<MetricCheckHeartbeat | undefined> {
  const description = await (await latestPromotion(app)).describe();
  const pending = description.raw.pendingActivities?.find((a) => a.activityType?.name === 'metricCheck');
  return decode(pending?.heartbeatDetails) as MetricCheckHeartbeat | undefined;
}

/** Waits until the release's staging is running its checks. */
async function checking(handle: WorkflowHandle<typeof release>): Promise<void> {
  await eventually(() => handle.query(releaseStatusQuery), (s) => s.environments.find((e) => e.environment === 'staging')?.phase === 'checking', 30_000);
}

const ROLLED_BACK = String.raw` \(rolled back at [0-9a-f]{7}\)$`;
const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('metric checks in a release', () => {
  it('passes a good build: every round under the threshold, the query carrying the release’s variables', async () => {
    const s = await stagedApp(metricChecks());
    exporter.setTraffic(s.app, '1.0.0', GOOD);
    await dataFor(s.app, '1.0.0');
    const handle = await releaseToStaging(s, '1.0.0');
    expect((await handle.result()).outcome).toBe('released');
    expect(s.world.commits('overlays/staging').map((c) => c.context.kind)).toEqual(['promote']);
    const step = await metricStep(s.app);
    expect(step.input).toMatchObject({ name: 'error rate', query: ERROR_RATE, condition: '< 0.01', intervalMs: 1000, forMs: 4000, variables: { app: s.app, environment: 'staging', version: '1.0.0' } });
    expect(step.input.variables.previousVersion).toBeUndefined();
    expect(step.result).toMatchObject({ rounds: 4, good: 4, bad: 0, noData: 0, unavailable: 0 });
    expect(step.result!.lastValue).toBeLessThan(0.01);
    await saveHistory(client, 'promotion-metric-success', (await latestPromotion(s.app)).workflowId);
    expect(step.summary).toContain(`check error rate < 0.01 every 1s for 4s: sum(rate(http_requests_total{app="${s.app}",version="1.0.0",code="500"}[10s]))`);
  });

  it('rolls back a bad build and fails the release naming the query, the value and the threshold', async () => {
    const s = await stagedApp(metricChecks());
    exporter.setTraffic(s.app, '2.0.0', BAD);
    await dataFor(s.app, '2.0.0');
    const before = s.world.overlayImages('overlays/staging');
    const started = Date.now();
    const message = await failureOfRelease(await releaseToStaging(s, '2.0.0'));
    const query = ERROR_RATE.replaceAll('{{app}}', s.app).replaceAll('{{version}}', '2.0.0');
    expect(message).toMatch(
      new RegExp(
        `^staging: error rate 0\\.3\\d* >= 0\\.01 \\(wanted < 0\\.01\\) in 1 of 1 round \\(4 planned\\); 0 failures allowed; query: ${escaped(query)} at ${escaped(prometheus.url)}${ROLLED_BACK}`,
      ),
    );
    // It failed at the first bad round instead of waiting for the rest.
    expect(Date.now() - started).toBeLessThan(4000 + 3000);
    expect(s.world.commits('overlays/staging').map((c) => c.context.kind)).toEqual(['promote', 'rollback']);
    expect(s.world.overlayImages('overlays/staging')).toEqual(before);
    expect(s.world.effects().some((e) => e.type === 'notify' && e.event.kind === 'rolled-back')).toBe(true);
    await saveHistory(client, 'promotion-metric-rollback', (await latestPromotion(s.app)).workflowId);
  });

  it('compares a build with the one it replaces through {{previousVersion}}', async () => {
    const ratio = `(${ERROR_RATE}) / (${ERROR_RATE.replaceAll('{{version}}', '{{previousVersion}}')})`;
    const s = await stagedApp(metricChecks({ name: '"error rate vs previous"', query: `'${ratio}'`, condition: '"< 2"', for: '3s', noData: 'pass' }));
    exporter.setTraffic(s.app, '3.0.0', { rate: 50, errorRatio: 0.02 });
    exporter.setTraffic(s.app, '3.1.0', { rate: 50, errorRatio: 0.08 });
    exporter.setTraffic(s.app, '3.2.0', { rate: 50, errorRatio: 0.03 });
    await Promise.all(['3.0.0', '3.1.0', '3.2.0'].map((v) => dataFor(s.app, v)));

    // The first build has nothing before it: no data, and noData: pass lets it through without asking.
    expect((await (await releaseToStaging(s, '3.0.0')).result()).outcome).toBe('released');
    expect((await metricStep(s.app)).result).toMatchObject({ rounds: 0, skipped: expect.stringContaining('{{previousVersion}}') });

    // Four times the error rate of the build it replaces.
    const message = await failureOfRelease(await releaseToStaging(s, '3.1.0'));
    expect(message).toMatch(/^staging: error rate vs previous 4(\.\d+)? >= 2 \(wanted < 2\) in 1 of 1 round \(3 planned\);/);
    expect(message).toContain(`version="3.1.0"`);
    expect(message).toContain(`version="3.0.0"`);

    // After the rollback 3.0.0 runs again, and 3.2.0 is compared with it.
    expect((await (await releaseToStaging(s, '3.2.0')).result()).outcome).toBe('released');
    const step = await metricStep(s.app);
    expect(step.input.variables).toMatchObject({ version: '3.2.0', previousVersion: '3.0.0' });
    expect(step.result).toMatchObject({ rounds: 3, good: 3 });
    expect(step.result!.lastValue).toBeGreaterThan(1.2);
    expect(step.result!.lastValue).toBeLessThan(1.8);
  });

  describe('a build Prometheus has no data for', () => {
    it('noData: fail — rolls back at the first round without data', async () => {
      const s = await stagedApp(metricChecks({ noData: 'fail' }));
      const message = await failureOfRelease(await releaseToStaging(s, '4.0.0'));
      expect(message).toMatch(new RegExp(`^staging: error rate: no data in 1 of 1 round \\(4 planned\\) \\(noData: fail\\); 0 failures allowed; query: .*version="4\\.0\\.0".*${ROLLED_BACK}`));
      expect(s.world.commits('overlays/staging').map((c) => c.context.kind)).toEqual(['promote', 'rollback']);
    });

    it('noData: pass — counts rounds without data as good', async () => {
      const s = await stagedApp(metricChecks({ noData: 'pass' }));
      expect((await (await releaseToStaging(s, '4.1.0')).result()).outcome).toBe('released');
      expect((await metricStep(s.app)).result).toMatchObject({ rounds: 4, good: 4, noData: 4 });
    });

    it('noData: wait — judges the data once it arrives', async () => {
      const s = await stagedApp(metricChecks({ noData: 'wait', for: '6s' }));
      const handle = await releaseToStaging(s, '4.2.0');
      await checking(handle);
      exporter.setTraffic(s.app, '4.2.0', GOOD);
      expect((await handle.result()).outcome).toBe('released');
      const result = (await metricStep(s.app)).result!;
      expect(result.noData).toBeGreaterThanOrEqual(1);
      expect(result.good).toBeGreaterThanOrEqual(1);
      expect(result.good + result.noData).toBe(6);
    });

    it('noData: wait — fails naming "no data" when none came by the end', async () => {
      const s = await stagedApp(metricChecks({ noData: 'wait', for: '3s' }));
      const started = Date.now();
      const message = await failureOfRelease(await releaseToStaging(s, '4.3.0'));
      expect(message).toMatch(new RegExp(`^staging: error rate: no data in any of 3 rounds \\(noData: wait\\); query: .*${ROLLED_BACK}`));
      expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
    });
  });

  describe('Prometheus going down mid-check', () => {
    let own: RunningPrometheus;
    beforeAll(async () => {
      own = await startPrometheus({ scrape: [{ job: 'app', targets: [exporter.target] }], intervalSeconds: 1 });
      await own.scraped('app');
    });
    afterAll(async () => {
      await own?.stop();
    });

    it('asks again while it restarts, and passes once it answers again within the allowance', async () => {
      const s = await stagedApp(metricChecks({ for: '8s', unavailableAllowed: 5, noData: 'wait' }, own.url));
      exporter.setTraffic(s.app, '5.0.0', GOOD);
      await dataFor(s.app, '5.0.0', own.url);
      const handle = await releaseToStaging(s, '5.0.0');
      await eventually(() => heartbeated(s.app), (h) => (h?.progress.round ?? 0) >= 2, 20_000);
      // Down for three rounds' time: at least two whole rounds find no Prometheus, however the rounds fall.
      await own.restart({ downForMs: 3000 });
      expect((await handle.result()).outcome).toBe('released');
      const result = (await metricStep(s.app)).result!;
      expect(result.unavailable).toBeGreaterThanOrEqual(2);
      expect(result.good).toBeGreaterThanOrEqual(3);
    });

    it('fails the check naming Prometheus and why, and rolls back, when it stays down', async () => {
      const s = await stagedApp(metricChecks({ for: '8s', unavailableAllowed: 2 }, own.url));
      exporter.setTraffic(s.app, '5.1.0', GOOD);
      await dataFor(s.app, '5.1.0', own.url);
      const handle = await releaseToStaging(s, '5.1.0');
      await eventually(() => heartbeated(s.app), (h) => (h?.progress.round ?? 0) >= 2, 20_000);
      await own.stop();
      const message = await failureOfRelease(handle);
      const port = new URL(own.url).port;
      expect(message).toMatch(
        new RegExp(`^staging: Prometheus at ${escaped(own.url)} did not answer in 3 rounds in a row \\(2 allowed\\); last: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}; query: .*version="5\\.1\\.0".*${ROLLED_BACK}`),
      );
      expect(s.world.commits('overlays/staging').map((c) => c.context.kind)).toEqual(['promote', 'rollback']);
      const history = await (await latestPromotion(s.app)).fetchHistory();
      const failed = history.events!.find((e) => e.activityTaskFailedEventAttributes)!.activityTaskFailedEventAttributes!.failure!;
      expect(failed.applicationFailureInfo?.type).toBe(FailureType.PrometheusUnavailable);
      expect(failed.applicationFailureInfo?.nonRetryable).toBe(true);
    });
  });

  it('resumes, on a new worker, at the round the killed worker had reached instead of starting the window again', async () => {
    const app = uniqueApp('metrics');
    const world = newWorld(app);
    const pipeline = pipelineFromYaml(app, STAGING_AND_PRODUCTION({ stagingChecks: metricChecks({ for: '10s' }) }));
    exporter.setTraffic(app, '6.0.0', GOOD);
    await dataFor(app, '6.0.0');
    const taskQueue = uniqueTaskQueue('metrics-kill');
    const env = { temporalAddress: temporalAddress(), taskQueue, worldDir: world.dir, workflowBundle: inject('workflowBundlePath'), policyFile: suitePolicy().file };
    const first = await startWorkerProcess(env);
    processes.push(first);
    const handle = await releaseToStaging({ app, world, taskQueue, pipeline }, '6.0.0');
    const reached = await eventually(() => heartbeated(app), (h) => (h?.progress.round ?? 0) >= 3, 30_000);
    await killWorker(first);
    // Gone for a few rounds: those are not made up, the schedule goes on from the first attempt's start.
    await new Promise((r) => setTimeout(r, 1000));
    processes.push(await startWorkerProcess(env));
    expect((await handle.result()).outcome).toBe('released');

    const step = await metricStep(app);
    expect(step.attempt).toBe(2);
    expect(step.result!.rounds).toBe(10);
    const evaluated = step.result!.good + step.result!.bad + step.result!.noData + step.result!.unavailable;
    // A fresh window would have judged all ten rounds; resuming judged those before the kill and those after the new worker came.
    expect(evaluated).toBeLessThan(10);
    expect(evaluated).toBeGreaterThanOrEqual(reached!.progress.round + 1);
    // …and kept the first attempt's schedule: the new attempt ran only what was left of the 10 s, not a window of its own.
    expect(step.lastAttemptMs).toBeLessThan(7000);
  });
});

describe('the metric check activity against Prometheus', () => {
  const base = (over: Partial<MetricCheckInput> = {}): MetricCheckInput => ({
    name: 'error rate',
    prometheus: prometheus.url,
    query: ERROR_RATE,
    variables: { app: 'activity', version: 'good' },
    condition: '< 0.01',
    intervalMs: 1000,
    forMs: 2000,
    failuresAllowed: 0,
    noData: 'fail',
    timeoutMs: 1000,
    unavailableAllowed: 1,
    ...over,
  });
  const beats: unknown[] = [];
  /** Runs `fn` as the activity would run inside a worker: its info, heartbeats recorded, never cancelled. */
  const inActivity = <T>(info: Partial<Context['info']>, fn: () => Promise<T>) =>
    asyncLocalStorage.run(
      { info: { heartbeatTimeoutMs: 2000, ...info }, cancellationSignal: new AbortController().signal, heartbeat: (d: unknown) => beats.push(d), log: { info() {}, warn() {} } } as unknown as Context,
      fn,
    );

  beforeAll(async () => {
    exporter.setTraffic('activity', 'good', GOOD);
    exporter.setTraffic('activity', 'bad', BAD);
    exporter.setTraffic('activity', 'other', GOOD);
    await Promise.all(['good', 'bad'].map((v) => dataFor('activity', v)));
  });

  it('keeps a hostile version inside its label value: only its own series match, in plain and regex matchers', async () => {
    const hostile = 'we"ird\\ver.*';
    exporter.setTraffic('escaping', hostile, { rate: 10, errorRatio: 0 });
    // What the regex would match too if its value were not escaped.
    exporter.setTraffic('escaping', 'we"ird\\ver-and-more', { rate: 10, errorRatio: 0 });
    await eventually(() => instantQuery(prometheus.url, 'count(http_requests_total{app="escaping"})'), (r) => r[0]?.value[1] === '4', 20_000);
    // Each build has two series (code 200 and 500): two through each matcher, four in all — six if the regex matched the other build.
    const query = 'count(http_requests_total{app="{{app}}",version="{{version}}"}) + count(http_requests_total{app="{{app}}",version=~"{{version}}"})';
    const result = await metricCheck(base({ query, variables: { app: 'escaping', version: hostile }, condition: 'between 3.5 and 4.5' }));
    expect(result).toMatchObject({ good: 2, lastValue: 4 });
    expect(result.query).toBe(String.raw`count(http_requests_total{app="escaping",version="we\"ird\\ver.*"}) + count(http_requests_total{app="escaping",version=~"we\"ird\\\\ver\\.\\*"})`);
  });

  it('refuses a query that returns more than one series, naming it, at the first round', async () => {
    const failure = await failureOf(metricCheck(base({ query: 'sum by (version) (rate(http_requests_total{app="{{app}}"}[10s]))' })));
    expect(failure.type).toBe(FailureType.MetricQueryInvalid);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/^the query returned 3 series \(\{version="(good|bad|other)"\}, .*\); a metric check needs one value: aggregate it, e\.g\. sum\(…\) or max\(…\); query: sum by \(version\) \(rate\(http_requests_total\{app="activity"\}\[10s\]\)\)$/);
  });

  it('refuses a query Prometheus cannot parse, in Prometheus’ own words', async () => {
    const failure = await failureOf(metricCheck(base({ query: 'sum(rate(http_requests_total{app="{{app}}"}[10s])' })));
    expect(failure.type).toBe(FailureType.MetricQueryInvalid);
    expect(failure.message).toMatch(new RegExp(`^Prometheus at ${escaped(prometheus.url)} refused the query: bad_data: .*parse error.*; query: sum\\(rate\\(http_requests_total\\{app="activity"\\}\\[10s\\]\\)$`));
  });

  it('heartbeats its progress every round', async () => {
    beats.length = 0;
    const result = await inActivity({}, () => metricCheck(base({ forMs: 3000 })));
    expect(result).toMatchObject({ rounds: 3, good: 3 });
    const rounds = (beats as MetricCheckHeartbeat[]).map((b) => b.progress.round);
    expect(new Set(rounds)).toEqual(new Set([0, 1, 2, 3]));
    expect((beats.at(-1) as MetricCheckHeartbeat).query).toBe(result.query);
  });

  it('goes on from the round and the counts a previous attempt heartbeated, on its schedule', async () => {
    const query = ERROR_RATE.replaceAll('{{app}}', 'activity').replaceAll('{{version}}', 'bad');
    const previous: MetricCheckHeartbeat = {
      startedAtMs: Date.now() - 2500,
      query,
      rounds: 4,
      progress: { round: 2, good: 1, bad: 1, noData: 0, badNoData: 0, unavailable: 0, unavailableStreak: 0, lastValue: 0.3, lastMiss: 0.3, lastBad: 'condition' },
    };
    const started = Date.now();
    const failure = await failureOf(
      inActivity({ attempt: 2, heartbeatDetails: previous }, () => metricCheck(base({ variables: { app: 'activity', version: 'bad' }, forMs: 4000, failuresAllowed: 1 }))),
    );
    // Round 3 was due 0.5 s after the resumed start; a fresh window would have failed at its round 2 ("in 2 of 2").
    expect(failure.message).toMatch(/^error rate 0\.3\d* >= 0\.01 \(wanted < 0\.01\) in 2 of 3 rounds \(4 planned\); 1 failure allowed;/);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  describe('through an auth proxy in front of Prometheus', () => {
    const TOKEN = 'prom-bearer-7c1f0e9a4b';
    let proxy: Server;
    let proxyUrl: string;
    /** Answers 503 to this many requests before forwarding again. */
    let unavailable = 0;
    const seen: string[] = [];

    beforeAll(async () => {
      const upstream = new URL(prometheus.url);
      proxy = createServer((req, res) => {
        seen.push(req.headers.authorization ?? '');
        if (req.headers.authorization !== `Bearer ${TOKEN}`) return void res.writeHead(401).end('unauthorized');
        if (unavailable > 0) {
          unavailable--;
          return void res.writeHead(503, { 'content-type': 'application/json' }).end('{"status":"error","errorType":"unavailable","error":"warming up"}');
        }
        const forward = httpRequest({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...req.headers, host: upstream.host } }, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        });
        req.pipe(forward);
      });
      await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
      proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
      process.env.SLIPWAY_TEST_PROM_TOKEN = TOKEN;
      process.env.SLIPWAY_TEST_PROM_WRONG = 'not-the-token-3e8d';
    });
    afterAll(async () => {
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
    });

    it('sends the token from the worker variable the check names, and asks again within the round after a 503', async () => {
      unavailable = 2;
      const result = await metricCheck(base({ prometheus: proxyUrl, tokenFromEnv: 'SLIPWAY_TEST_PROM_TOKEN' }));
      expect(result).toMatchObject({ rounds: 2, good: 2, unavailable: 0 });
      expect(seen.filter((a) => a === `Bearer ${TOKEN}`).length).toBeGreaterThanOrEqual(4);
    });

    it('fails on refused credentials at once, naming Prometheus and never the token', async () => {
      const failure = await failureOf(metricCheck(base({ prometheus: proxyUrl, tokenFromEnv: 'SLIPWAY_TEST_PROM_WRONG' })));
      expect(failure.type).toBe(FailureType.PrometheusUnavailable);
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toBe(`Prometheus at ${proxyUrl} refused the request (401): check the token variable of this check`);
      const unset = await failureOf(metricCheck(base({ prometheus: proxyUrl, tokenFromEnv: 'SLIPWAY_TEST_PROM_UNSET' })));
      expect(unset.message).toBe('the environment variable SLIPWAY_TEST_PROM_UNSET (the Prometheus token of this check) is not set on the worker');
      for (const f of [failure, unset]) expect(JSON.stringify({ m: f.message, d: f.details })).not.toMatch(/prom-bearer|not-the-token/);
    });

    it('counts a round whose every try got 503 as unanswered, and fails past the allowance naming what Prometheus said', async () => {
      unavailable = 1000;
      const failure = await failureOf(metricCheck(base({ prometheus: proxyUrl, tokenFromEnv: 'SLIPWAY_TEST_PROM_TOKEN', unavailableAllowed: 1 })));
      unavailable = 0;
      expect(failure.type).toBe(FailureType.PrometheusUnavailable);
      expect(failure.message).toMatch(new RegExp(`^Prometheus at ${escaped(proxyUrl)} did not answer in 2 rounds in a row \\(1 allowed\\); last: answered 503: unavailable: warming up; query: `));
      expect(failure.message).not.toContain(TOKEN);
    });
  });
});
