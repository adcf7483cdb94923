/**
 * `slipway metrics` over releases this test runs. Tier: integration — the shared Temporal dev
 * server, a worker with in-test outside systems (FakeWorld, which records when each overlay
 * commit and each health wait happened), and the `slipway` CLI run from source (tsx).
 *
 * A fresh app gets two good releases, a bad one that staging reports Degraded and rolls back, a
 * fix, and then an explicit rollback of production to the second build. The figures the CLI
 * prints with --json are compared with figures this test works out on its own, from the outcomes
 * it caused and the times it saw (its clock around each release, the world's effects): counts
 * exactly, durations within the bounds those times allow.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { release } from '../../workflows/release.js';
import type { ReleaseInput, ReleasePipeline } from '../../workflows/types.js';
import type { FakeWorld } from '../support/fake-world.js';
import { STAGING_AND_PRODUCTION, commitSha, eventually, newWorld, pipelineFromYaml, startRelease, uniqueApp } from '../support/pipelines.js';
import { startTestWorker, testClient, workersOfThisFile } from '../support/temporal.js';
import { runCliFromSource, type CliRun } from '../support/cli-from-source.js';
import { startReleaseWorkflow } from '../../client/start-release.js';
import { releaseWorkflowId } from '../../core/ids.js';

let client: Client;
const workers = workersOfThisFile();

beforeAll(async () => {
  client = await testClient();
});
afterAll(async () => {
  await client?.connection.close();
});

const HEALTH_DELAY_MS = 300;
/** Timestamps of the server and of this process come from one clock, each rounded to the ms. */
const SLACK_MS = 5;

/** The `slipway` CLI, run from source, against the test's worker. */
function cli(args: string[], taskQueue: string): Promise<CliRun> {
  return runCliFromSource(args, { SLIPWAY_TASK_QUEUE: taskQueue, SLIPWAY_USER: 'alice' }, 60_000);
}

/** What the test saw of one release: its clock before the start, after the start returned, and after the end. */
interface Seen {
  commit: string;
  beforeStart: number;
  started: number;
  ended: number;
  outcome: string;
}

async function run(start: () => Promise<WorkflowHandle<typeof release>>, commit: string): Promise<Seen> {
  const beforeStart = Date.now();
  const handle = await start();
  const started = Date.now();
  const outcome = await handle.result().then(
    (r) => r.outcome as string,
    () => 'failed',
  );
  return { commit, beforeStart, started, ended: Date.now(), outcome };
}

/** Nearest rank, as the report says it takes percentiles. */
function nearestRank(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

/** Bounds [lo, hi] per sample give bounds on each nearest-rank percentile (order statistics are monotonic). */
function percentileBounds(bounds: Array<[number, number]>, p: number): [number, number] {
  return [nearestRank(bounds.map((b) => b[0]), p) - SLACK_MS, nearestRank(bounds.map((b) => b[1]), p) + SLACK_MS];
}

interface EnvironmentFigures {
  environment: string;
  promotions: number;
  rollbacks: number;
  releases: number;
  deploymentFrequency: { deployments: number; perDay: number; perWeek: number };
  leadTime: { count: number; p50Ms?: number; p90Ms?: number };
  changeFailureRate: { failed: number; of: number; rate?: number; rolledBack: number; failedWithoutRollback: number; undoneByRollback: number };
  timeToRestore: { count: number; failures: number; unrestored: number; p50Ms?: number; p90Ms?: number };
}
interface MetricsJson {
  app: string;
  window: { since: number; until: number };
  leadTimeFrom: string;
  environments: EnvironmentFigures[];
  notes: string[];
  notCounted: { running: number; cancelled: number };
}

describe('slipway metrics', () => {
  let app: string;
  let taskQueue: string;
  let world: FakeWorld;
  let pipeline: ReleasePipeline;
  const seen: Record<'good1' | 'good2' | 'bad' | 'fix' | 'rollback', Seen> = {} as never;

  beforeAll(async () => {
    app = uniqueApp('dora');
    world = newWorld(app);
    world.updateRules({ healthDelayMs: HEALTH_DELAY_MS });
    pipeline = pipelineFromYaml(app, STAGING_AND_PRODUCTION({ stagingChecks: '[]' }));
    const worker = await startTestWorker(world.activities());
    workers.push(worker);
    taskQueue = worker.taskQueue;

    const [good1, good2, bad, fix] = [commitSha(), commitSha(), commitSha(), commitSha()];
    world.updateRules({ badTags: [bad] });
    const releaseOf = (commit: string, version: string) => run(() => startRelease(client, taskQueue, pipeline, commit, { version }), commit);
    seen.good1 = await releaseOf(good1, '1.0.0');
    seen.good2 = await releaseOf(good2, '1.1.0');
    seen.bad = await releaseOf(bad, '1.2.0');
    seen.fix = await releaseOf(fix, '1.2.1');
    // Production goes back to 1.1.0 by hand, as `slipway rollback` asks for it.
    const back: ReleaseInput = { app, commit: good2, version: '1.1.0', startAt: 'production', only: true, skipBuild: true, skipTag: true, kind: 'rollback', trigger: 'test', requestedBy: 'alice' };
    seen.rollback = await run(
      () => client.workflow.start<typeof release>('release', { workflowId: `rollback/${app}/production/1.1.0-${Date.now().toString(36)}`, taskQueue, args: [back], workflowExecutionTimeout: '10m' }),
      good2,
    );
    expect(Object.values(seen).map((s) => s.outcome)).toEqual(['released', 'released', 'failed', 'released', 'released']);
    // Visibility catches up with the closed promotions a moment after they close.
    const closed = `WorkflowType = 'promotion' AND SlipwayApp = '${app}' AND ExecutionStatus != 'Running'`;
    await eventually(() => client.workflow.count(closed), (c) => c.count === 8, 30_000);
  });

  /** The world's record of one promotion's write and health wait into `environment`, by the build it carried. */
  function promotionSeen(environment: 'staging' | 'production', commit: string, kind: 'promote' | 'rollback' = 'promote') {
    const write = world.commits(`overlays/${environment}`).find((c) => c.context.sourceCommit === commit && c.context.kind === kind && !c.context.undo)!;
    const healthEnd = world.effects().find((e) => e.type === 'health-wait' && e.phase === 'end' && e.commit === write.id)!;
    expect(write, `${kind} of ${commit} into ${environment}`).toBeDefined();
    expect(healthEnd).toBeDefined();
    return { writeAt: write.at, healthyAt: healthEnd.at };
  }

  it('prints, per environment, the four figures and what they rest on, matching what the releases did', async () => {
    const result = await cli(['--json', 'metrics', app, '--since', '1h'], taskQueue);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const metrics = JSON.parse(result.stdout) as MetricsJson;
    expect(metrics.app).toBe(app);
    expect(metrics.window.until - metrics.window.since).toBe(3_600_000);
    expect(metrics.window.since).toBeLessThanOrEqual(seen.good1.beforeStart);
    expect(metrics.leadTimeFrom).toBe('release start (commit times are not recorded)');
    expect(metrics.notCounted).toEqual({ running: 0, cancelled: 0 });
    expect(metrics.environments.map((e) => e.environment)).toEqual(['staging', 'production']);
    const [staging, production] = metrics.environments as [EnvironmentFigures, EnvironmentFigures];

    // ---- staging: good1, good2, bad (Degraded, rolled back), fix.
    expect(staging).toMatchObject({ promotions: 4, rollbacks: 0, releases: 4 });
    expect(staging.deploymentFrequency.deployments).toBe(3);
    expect(staging.deploymentFrequency.perDay).toBeCloseTo(3 * 24, 9);
    expect(staging.deploymentFrequency.perWeek).toBeCloseTo(3 * 24 * 7, 9);
    expect(staging.changeFailureRate).toEqual({ failed: 1, of: 4, rate: 0.25, rolledBack: 1, failedWithoutRollback: 0, undoneByRollback: 0 });
    // Lead time: release start (between our clock before and after the start) → the promotion's end
    // (after its health wait ended, before production's write started).
    const stagingLead = (['good1', 'good2', 'fix'] as const).map((k): [number, number] => {
      const s = seen[k];
      return [promotionSeen('staging', s.commit).healthyAt - s.started, promotionSeen('production', s.commit).writeAt - s.beforeStart];
    });
    expect(staging.leadTime.count).toBe(3);
    expectWithin(staging.leadTime.p50Ms, percentileBounds(stagingLead, 0.5), 'staging lead time p50');
    expectWithin(staging.leadTime.p90Ms, percentileBounds(stagingLead, 0.9), 'staging lead time p90');
    // Time to restore: from Degraded (the bad build's health wait ended with it, before the rollback
    // was written) to the rollback Healthy (its health wait ended; the release ended after).
    const failedWait = promotionSeen('staging', seen.bad.commit);
    const undo = world.commits('overlays/staging').find((c) => c.context.sourceCommit === seen.bad.commit && c.context.undo)!;
    const undoHealthy = world.effects().find((e) => e.type === 'health-wait' && e.phase === 'end' && e.commit === undo.id)!;
    expect(staging.timeToRestore).toMatchObject({ count: 1, failures: 1, unrestored: 0 });
    const stagingRestore: [number, number] = [undoHealthy.at - undo.at - SLACK_MS, seen.bad.ended - failedWait.healthyAt + SLACK_MS];
    expect(stagingRestore[0]).toBeGreaterThanOrEqual(HEALTH_DELAY_MS - SLACK_MS);
    expectWithin(staging.timeToRestore.p50Ms, stagingRestore, 'staging time to restore');
    expect(staging.timeToRestore.p90Ms).toBe(staging.timeToRestore.p50Ms);

    // ---- production: good1, good2, fix, then the explicit rollback to good2 (fix undone).
    expect(production).toMatchObject({ promotions: 3, rollbacks: 1, releases: 3 });
    expect(production.deploymentFrequency.deployments).toBe(3);
    expect(production.changeFailureRate).toEqual({ failed: 1, of: 3, rate: 1 / 3, rolledBack: 0, failedWithoutRollback: 0, undoneByRollback: 1 });
    const productionLead = (['good1', 'good2', 'fix'] as const).map((k): [number, number] => {
      const s = seen[k];
      return [promotionSeen('production', s.commit).healthyAt - s.started, s.ended - s.beforeStart];
    });
    expect(production.leadTime.count).toBe(3);
    expectWithin(production.leadTime.p50Ms, percentileBounds(productionLead, 0.5), 'production lead time p50');
    expectWithin(production.leadTime.p90Ms, percentileBounds(productionLead, 0.9), 'production lead time p90');
    // Restored: from the rollback being asked for (its release's start) to it being Healthy.
    const rolledBack = promotionSeen('production', seen.rollback.commit, 'rollback');
    expect(production.timeToRestore).toMatchObject({ count: 1, failures: 1, unrestored: 0 });
    expectWithin(production.timeToRestore.p50Ms, [rolledBack.healthyAt - seen.rollback.started - SLACK_MS, seen.rollback.ended - seen.rollback.beforeStart + SLACK_MS], 'production time to restore');
  });

  it('prints the same figures for people, saying where lead time starts', async () => {
    const result = await cli(['metrics', app, '--since', '1h', '--env', 'production'], taskQueue);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^DORA metrics of ${app}, the last 1h \\(`));
    expect(lines).not.toContain(`${app}/staging:`);
    expect(lines).toContain(`${app}/production:`);
    expect(lines).toContain('  deployment frequency  72/day, 504/week — 3 successful promotions of 3 releases');
    expect(result.stdout).toMatch(/ {2}lead time {13}p50 \d+(ms|s), p90 \d+(ms|s) — over 3 promotions, from release start \(commit times are not recorded\) to Healthy/);
    expect(lines).toContain('  change failure rate   33% — 1 of 3 promotions (1 undone by a later rollback); 1 explicit rollback besides');
    expect(result.stdout).toMatch(/ {2}time to restore {7}p50 \d+(ms|s), p90 \d+(ms|s) — over 1 restored failure\n/);
  });

  it('counts only the window it is given', async () => {
    // A window that ends before the first release began would hold nothing; one that starts after
    // the last release ended holds nothing either: `--since` a second ago.
    await new Promise((r) => setTimeout(r, 1_100));
    // --json after the command's arguments, as `slipway metrics <app> --json` is written.
    const result = await cli(['metrics', app, '--since', '1s', '--json'], taskQueue);
    expect(result.code).toBe(0);
    const metrics = JSON.parse(result.stdout) as MetricsJson;
    expect(metrics.environments.map((e) => [e.environment, e.promotions, e.rollbacks])).toEqual([
      ['staging', 0, 0],
      ['production', 0, 0],
    ]);
  });

  it('refuses a bad --since or an unknown environment with exit 2 and the reason', async () => {
    const since = await cli(['metrics', app, '--since', 'a month'], taskQueue);
    expect(since.code).toBe(2);
    expect(since.stderr).toBe('error: --since: expected a duration like 30s, 5m, 24h or 1h30m, got "a month"\n');
    expect(since.stdout).toBe('');
    const env = await cli(['metrics', app, '--env', 'qa'], taskQueue);
    expect(env.code).toBe(2);
    expect(env.stderr).toBe('error: unknown environment "qa" (known: staging, production)\n');
    const unknown = await cli(['metrics', 'no-such-app'], taskQueue);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error: unknown app "no-such-app"/);
  });
});

describe('slipway metrics with the commit times the webhook records', () => {
  it('starts lead time at the commit where the release kept its time (as a push delivery does), and says so', async () => {
    const app = uniqueApp('dora-commit');
    const world = newWorld(app);
    const pipeline = pipelineFromYaml(app, STAGING_AND_PRODUCTION({ stagingChecks: '[]' }));
    const worker = await startTestWorker(world.activities());
    workers.push(worker);
    const commit = commitSha();
    // As the webhook starts a release from a push whose head_commit was made two hours ago.
    const committedAt = Date.now() - 2 * 3_600_000;
    const seenRelease = await run(async () => {
      const { handle } = await startReleaseWorkflow(client, { workflowId: releaseWorkflowId(app, commit), taskQueue: worker.taskQueue, input: { app: pipeline.app, commit, version: '3.0.0', trigger: 'webhook:push main by alice' }, committedAt });
      return handle;
    }, commit);
    expect(seenRelease.outcome).toBe('released');
    const closed = `WorkflowType = 'promotion' AND SlipwayApp = '${app}' AND ExecutionStatus != 'Running'`;
    await eventually(() => client.workflow.count(closed), (c) => c.count === 2, 30_000);

    const result = await cli(['--json', 'metrics', app, '--since', '1h'], worker.taskQueue);
    expect(result.code, result.stderr).toBe(0);
    const metrics = JSON.parse(result.stdout) as MetricsJson;
    expect(metrics.leadTimeFrom).toBe('commit time');
    for (const env of metrics.environments) {
      // From the commit two hours ago to Healthy, which came before the release ended.
      expectWithin(env.leadTime.p50Ms, [seenRelease.beforeStart - committedAt - SLACK_MS, seenRelease.ended - committedAt + SLACK_MS], `${env.environment} lead time`);
    }
  });
});

function expectWithin(value: number | undefined, [lo, hi]: [number, number], what: string): void {
  expect(value, what).toBeDefined();
  expect(value!, `${what}: ${value} in [${lo}, ${hi}]`).toBeGreaterThanOrEqual(lo);
  expect(value!, `${what}: ${value} in [${lo}, ${hi}]`).toBeLessThanOrEqual(hi);
}
