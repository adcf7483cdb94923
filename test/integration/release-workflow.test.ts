/**
 * The release pipeline on the real Temporal dev server, with in-test outside systems (FakeWorld)
 * that count every side effect: success, rollback on unhealthy staging and on a failing check,
 * approvals, freeze windows, and two releases racing for one environment.
 */
import { createServer, type Server } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { environmentWorkflowId } from '../../core/ids.js';
import { approveSignal, approveUpdate, environmentStateQuery, rejectSignal, rejectUpdate, releaseStatusQuery } from '../../workflows/messages.js';
import { saveHistory, startTestWorker, testClient, workersOfThisFile } from '../support/temporal.js';
import {
  STAGING_AND_PRODUCTION,
  commitSha,
  eventually,
  newWorld,
  pipelineFromYaml,
  startRelease,
  uniqueApp,
} from '../support/pipelines.js';
import { FakeWorld } from '../support/fake-world.js';

let client: Client;
const workers = workersOfThisFile();

beforeAll(async () => {
  client = await testClient();
});

/** A worker acting on `world`; start it once the test's app is in the policy (a policy without apps does not load). */
async function workerFor(world: FakeWorld): Promise<string> {
  const w = await startTestWorker(world.activities());
  workers.push(w);
  return w.taskQueue;
}

/** The id of the first promotion child an environment workflow started. */
async function promotionIdOf(app: string, environment: string): Promise<string> {
  const history = await client.workflow.getHandle(environmentWorkflowId(app, environment)).fetchHistory();
  const started = history.events?.find((e) => e.startChildWorkflowExecutionInitiatedEventAttributes);
  return started!.startChildWorkflowExecutionInitiatedEventAttributes!.workflowId!;
}

describe('release workflow', () => {
  it('carries a build through build, staging, checks, tag and production', async () => {
    const app = uniqueApp();
    const world = newWorld(app);
    const pipeline = pipelineFromYaml(app, STAGING_AND_PRODUCTION(), '    build: { command: "make images" }');
    const taskQueue = await workerFor(world);
    const commit = commitSha();

    const handle = await startRelease(client, taskQueue, pipeline, commit, { version: '1.4.0' });
    const result = await handle.result();

    expect(result.outcome).toBe('released');
    expect(result.tag).toBe('v1.4.0');
    const effects = world.effects();
    expect(effects.filter((e) => e.type === 'build')).toHaveLength(1);
    expect(world.commits('overlays/staging')).toHaveLength(1);
    expect(world.commits('overlays/production')).toHaveLength(1);
    expect(world.overlayImages('overlays/production').map((i) => i.newTag)).toEqual([commit, commit]);
    const tags = effects.filter((e) => e.type === 'tag');
    expect(tags).toEqual([expect.objectContaining({ tag: 'v1.4.0', commit })]);
    // Order of the runbook: staging's commit, then the tag, then production's commit.
    const stagingAt = world.commits('overlays/staging')[0]!.at;
    const productionAt = world.commits('overlays/production')[0]!.at;
    expect(stagingAt).toBeLessThanOrEqual(tags[0]!.at);
    expect(tags[0]!.at).toBeLessThanOrEqual(productionAt);
    expect(world.commits('overlays/staging')[0]!.context).toMatchObject({ app, environment: 'staging', version: '1.4.0', kind: 'promote', releaseId: handle.workflowId });

    const status = await handle.query(releaseStatusQuery);
    expect(status.stage).toBe('released');
    expect(status.environments.map((e) => e.phase)).toEqual(['promoted', 'promoted']);
    expect(status.steps.map((s) => `${s.name}:${s.state}`)).toEqual(['build:done', 'staging:done', 'tag:done', 'production:done']);

    const description = await handle.describe();
    expect(description.searchAttributes).toMatchObject({ SlipwayApp: [app], SlipwayVersion: ['1.4.0'], SlipwayStage: ['released'], SlipwayEnvironment: ['production'] });

    const env = await client.workflow.getHandle(environmentWorkflowId(app, 'production')).query(environmentStateQuery);
    expect(env.current).toMatchObject({ commit, version: '1.4.0', releaseId: handle.workflowId });
    expect(effects.filter((e) => e.type === 'notify').map((e) => (e as { event: { kind: string } }).event.kind)).toEqual(
      expect.arrayContaining(['promoted', 'release-succeeded']),
    );
    await saveHistory(client, 'release-success', handle.workflowId);
    await saveHistory(client, 'promotion-success', await promotionIdOf(app, 'production'));
    await saveHistory(client, 'environment-success', environmentWorkflowId(app, 'staging'));
  });

  it('rolls staging back when Argo CD reports it Degraded and fails the release with the reason', async () => {
    const app = uniqueApp();
    const world = newWorld(app);
    const pipeline = pipelineFromYaml(app, STAGING_AND_PRODUCTION());
    const taskQueue = await workerFor(world);
    const commit = commitSha();
    world.updateRules({ badTags: [commit] });
    const before = world.overlayImages('overlays/staging');

    const handle = await startRelease(client, taskQueue, pipeline, commit, { version: '2.0.0' });
    const error = await handle.result().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause as { message: string; type?: string };
    expect(cause.type).toBe('ReleaseFailed');
    expect(cause.message).toMatch(/^staging: .*is Degraded: Deployment shop\/web exceeded its progress deadline \(rolled back at [0-9a-f]{7}\)$/);
    const stagingCommits = world.commits('overlays/staging');
    expect(stagingCommits.map((c) => c.context.kind)).toEqual(['promote', 'rollback']);
    expect(world.overlayImages('overlays/staging')).toEqual(before);
    expect(world.commits('overlays/production')).toHaveLength(0);
    expect(world.effects().filter((e) => e.type === 'tag')).toHaveLength(0);
    const status = await handle.query(releaseStatusQuery);
    expect(status.stage).toBe('failed');
    expect(status.environments.find((e) => e.environment === 'staging')?.phase).toBe('failed');
    expect(world.effects().some((e) => e.type === 'notify' && e.event.kind === 'rolled-back')).toBe(true);

    const history = await client.workflow.getHandle(environmentWorkflowId(app, 'staging')).query(environmentStateQuery);
    expect(history.current).toBeUndefined();
    expect(history.recent[0]).toMatchObject({ outcome: 'failed', commit });

    const promotionId = await promotionIdOf(app, 'staging');
    expect(promotionId).toMatch(new RegExp(`^promotion/${app}/staging/`));
    await saveHistory(client, 'promotion-rollback', promotionId);
    await saveHistory(client, 'release-rollback', handle.workflowId);
  });

  it('names, in the undo commit of a failed build, the build it puts back (issue 19 item 6)', async () => {
    const app = uniqueApp();
    const world = newWorld(app);
    const pipeline = pipelineFromYaml(app, STAGING_AND_PRODUCTION());
    const taskQueue = await workerFor(world);
    const [good, bad] = [commitSha(), commitSha()];
    expect((await (await startRelease(client, taskQueue, pipeline, good, { version: '2.1.0', startAt: 'staging', only: true })).result()).outcome).toBe('released');
    world.updateRules({ badTags: [bad] });
    await (await startRelease(client, taskQueue, pipeline, bad, { version: '2.2.0', startAt: 'staging', only: true })).result().catch(() => undefined);
    const undo = world.commits('overlays/staging').at(-1)!;
    expect(undo.context).toMatchObject({ kind: 'rollback', undo: true, sourceCommit: bad, version: '2.2.0', counterpart: { commit: good, version: '2.1.0' } });
  });

  it('rolls back when a check fails after the environment is healthy', async () => {
    const server: Server = createServer((_req, res) => {
      res.statusCode = 503;
      res.end('maintenance');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/healthz`;
    try {
      const app = uniqueApp();
      const world = newWorld(app);
      const checks = `[ { http: { url: "${url}", expectStatus: 200, attempts: 2, interval: 100ms, timeout: 2s } } ]`;
      const pipeline = pipelineFromYaml(app, STAGING_AND_PRODUCTION({ stagingChecks: checks }));
      const taskQueue = await workerFor(world);
      const handle = await startRelease(client, taskQueue, pipeline, commitSha());
      const error = (await handle.result().catch((e: unknown) => e)) as WorkflowFailedError;
      expect(error).toBeInstanceOf(WorkflowFailedError);
      expect(error.cause?.message).toMatch(/^staging: GET http:\/\/127\.0\.0\.1:\d+\/healthz did not answer 200 in 2 attempts; last: status 503 \(rolled back at [0-9a-f]{7}\)$/);
      expect(world.commits('overlays/staging').map((c) => c.context.kind)).toEqual(['promote', 'rollback']);
      expect(world.commits('overlays/production')).toHaveLength(0);
    } finally {
      server.close();
    }
  });

  describe('approval of production', () => {
    const approvalYaml = (timeout = '5m') => STAGING_AND_PRODUCTION({ stagingChecks: '[]', production: `        approval: { required: true, timeout: ${timeout} }` });

    /** Starts a release and returns once production waits for approval. */
    async function releaseAwaitingApproval(version?: string) {
      const app = uniqueApp();
      const world = newWorld(app);
      const pipeline = pipelineFromYaml(app, approvalYaml());
      const taskQueue = await workerFor(world);
      const handle = await startRelease(client, taskQueue, pipeline, commitSha(), { version });
      const production = client.workflow.getHandle(environmentWorkflowId(app, 'production'));
      const waiting = await eventually(() => handle.query(releaseStatusQuery), (s) => s.environments[1]?.phase === 'awaiting-approval');
      return { app, world, handle, production, waiting };
    }

    it('waits for approval, refuses approvals of an environment that is not waiting, then promotes once approved', async () => {
      const { app, world, handle, production, waiting } = await releaseAwaitingApproval('3.1.0');
      const staging = client.workflow.getHandle(environmentWorkflowId(app, 'staging'));
      expect(waiting.stage).toBe('promoting:production');
      expect(waiting.waitingFor).toMatch(/approval/);
      expect(world.commits('overlays/production')).toHaveLength(0);

      // Staging is not waiting for anything: the validator refuses, nothing is recorded.
      const refused = await staging.executeUpdate(approveUpdate, { args: [{ by: 'mallory' }] }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
      expect(String((refused as WorkflowUpdateFailedError).cause?.message)).toMatch(/not waiting for approval/);
      // An approval for another version is refused too.
      const wrongVersion = await production.executeUpdate(approveUpdate, { args: [{ by: 'alice', version: '9.9.9' }] }).catch((e: unknown) => e);
      expect(String((wrongVersion as WorkflowUpdateFailedError).cause?.message)).toMatch(/not 9\.9\.9/);

      const approved = await production.executeUpdate(approveUpdate, { args: [{ by: 'alice', version: '3.1.0' }] });
      expect(approved.version).toBe('3.1.0');
      expect((await handle.result()).outcome).toBe('released');
      expect(world.commits('overlays/production')).toHaveLength(1);
      const env = await production.query(environmentStateQuery);
      expect(env.current?.version).toBe('3.1.0');
    });

    it('ends the release without touching production when the approval is rejected', async () => {
      const { world, handle, production } = await releaseAwaitingApproval();
      await production.executeUpdate(rejectUpdate, { args: [{ by: 'bob', comment: 'error budget spent' }] });
      const error = (await handle.result().catch((e: unknown) => e)) as WorkflowFailedError;
      expect(error).toBeInstanceOf(WorkflowFailedError);
      expect((error.cause as { type?: string }).type).toBe('ApprovalRejected');
      expect(error.cause?.message).toBe('production: promotion rejected by bob: error budget spent');
      expect(world.commits('overlays/production')).toHaveLength(0);
      expect(world.commits('overlays/staging')).toHaveLength(1);
    });

    it('takes an approval sent as a signal, as the Temporal UI sends it, and ignores one that names nobody', async () => {
      const { world, handle, production } = await releaseAwaitingApproval();
      // Signals are handled in order: had this rejection counted, the release would end rejected.
      await production.signal(rejectSignal, { by: '' });
      await production.signal(approveSignal, { by: 'ui-user' });
      expect((await handle.result()).outcome).toBe('released');
      expect(world.commits('overlays/production')).toHaveLength(1);
    });

    it('ends the release when no approval comes before the deadline', async () => {
      const app = uniqueApp();
      const world = newWorld(app);
      const pipeline = pipelineFromYaml(app, approvalYaml('2s'));
      const taskQueue = await workerFor(world);
      const handle = await startRelease(client, taskQueue, pipeline, commitSha());
      const error = (await handle.result().catch((e: unknown) => e)) as WorkflowFailedError;
      expect((error.cause as { type?: string }).type).toBe('ApprovalTimedOut');
      expect(error.cause?.message).toMatch(/^production: no approval within 2s; nothing was promoted there/);
      expect(world.commits('overlays/production')).toHaveLength(0);
      const status = await handle.query(releaseStatusQuery);
      expect(status.environments[1]?.phase).toBe('approval-timed-out');
    });
  });

  it('holds production during a freeze window, says so in the status, and promotes when it ends', async () => {
    const app = uniqueApp();
    const world = newWorld(app);
    // A window that opened at the start of this minute and closes 6 s from now.
    const now = Date.now();
    const opened = Math.floor(now / 60_000) * 60_000;
    const closesAt = now + 6000;
    const at = new Date(opened);
    const freeze = `        freeze: [ { cron: "${at.getUTCMinutes()} ${at.getUTCHours()} * * *", duration: ${closesAt - opened}ms, reason: release freeze } ]`;
    const pipeline = pipelineFromYaml(app, STAGING_AND_PRODUCTION({ stagingChecks: '[]', production: freeze }));
    const taskQueue = await workerFor(world);
    const handle = await startRelease(client, taskQueue, pipeline, commitSha());

    const frozen = await eventually(() => handle.query(releaseStatusQuery), (s) => s.environments[1]?.phase === 'frozen', 30_000);
    expect(frozen.waitingFor).toMatch(/freeze window \(release freeze\) until/);
    expect(world.commits('overlays/production')).toHaveLength(0);

    expect((await handle.result()).outcome).toBe('released');
    const productionCommit = world.commits('overlays/production')[0]!;
    expect(productionCommit.at).toBeGreaterThanOrEqual(closesAt - 1000); // timers fire at whole-ms server time
    expect(world.commits('overlays/staging')[0]!.at).toBeLessThan(closesAt);
  });

  it('cancelling a release mid-promotion rolls the environment back and frees it', async () => {
    const app = uniqueApp();
    const world = newWorld(app);
    world.updateRules({ healthDelayMs: 4000 });
    const pipeline = pipelineFromYaml(app, STAGING_AND_PRODUCTION());
    const taskQueue = await workerFor(world);
    const before = world.overlayImages('overlays/staging');
    const handle = await startRelease(client, taskQueue, pipeline, commitSha());
    await eventually(() => handle.query(releaseStatusQuery), (s) => s.environments[0]?.phase === 'waiting-health');

    await handle.cancel();
    const error = (await handle.result().catch((e: unknown) => e)) as WorkflowFailedError;
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(error.cause?.name).toBe('CancelledFailure');
    expect((await handle.query(releaseStatusQuery)).stage).toBe('cancelled');
    const staging = client.workflow.getHandle(environmentWorkflowId(app, 'staging'));
    const state = await eventually(() => staging.query(environmentStateQuery), (s) => s.recent.length > 0 && !s.inFlight);
    expect(state.recent[0]).toMatchObject({ outcome: 'cancelled', releaseId: handle.workflowId });
    expect(world.commits('overlays/staging').map((c) => c.context.kind)).toEqual(['promote', 'rollback']);
    expect(world.overlayImages('overlays/staging')).toEqual(before);
    expect(world.commits('overlays/production')).toHaveLength(0);
  });

  it('runs one promotion at a time per environment; a newer waiting build replaces an older one', async () => {
    const app = uniqueApp();
    const world = newWorld(app, ['overlays/staging']);
    world.updateRules({ healthDelayMs: 1500 });
    const pipeline = pipelineFromYaml(app, `
      - name: staging
        overlay: overlays/staging
        argocd: { application: ${app}-staging, timeout: 20s }`);
    const taskQueue = await workerFor(world);
    const [a, b, c] = [commitSha(), commitSha(), commitSha()];

    const first = await startRelease(client, taskQueue, pipeline, a);
    await eventually(() => first.query(releaseStatusQuery), (s) => ['deploying', 'waiting-health'].includes(s.environments[0]!.phase));
    const second = await startRelease(client, taskQueue, pipeline, b);
    const env = await eventually(
      () => client.workflow.getHandle(environmentWorkflowId(app, 'staging')).query(environmentStateQuery),
      (state) => state.waiting !== undefined,
    );
    expect(env.inFlight?.commit).toBe(a);
    expect(env.waiting?.commit).toBe(b);
    // The environment tells the waiting release where it stands.
    await eventually(() => second.query(releaseStatusQuery), (s) => /^behind /.test(s.environments[0]!.detail ?? ''));
    const third = await startRelease(client, taskQueue, pipeline, c);

    const [r1, r2, r3] = await Promise.all([first.result(), second.result(), third.result()]);
    expect(r1.outcome).toBe('released');
    expect(r2).toMatchObject({ outcome: 'superseded', supersededBy: third.workflowId });
    expect(r3.outcome).toBe('released');
    expect((await second.query(releaseStatusQuery)).stage).toBe('superseded');
    expect((await second.describe()).searchAttributes.SlipwayStage).toEqual(['superseded']);

    // Commits in order a then c, b never deployed; health waits never overlap.
    expect(world.commits('overlays/staging').map((x) => x.context.sourceCommit)).toEqual([a, c]);
    const waits = world.effects().filter((e) => e.type === 'health-wait');
    expect(waits.map((w) => (w as { phase: string }).phase)).toEqual(['start', 'end', 'start', 'end']);
    await saveHistory(client, 'release-superseded', second.workflowId);
    await saveHistory(client, 'environment-race', environmentWorkflowId(app, 'staging'));
  });
});
