/**
 * The order in which an environment takes requests, on the real Temporal dev server with the
 * in-test world counting every write: a newer release always wins over an older one whose request
 * arrives late (the older one is answered superseded; only an explicit rollback goes back, and says
 * so), a release takes only the answer to its own request, and a cancelled release writes nothing
 * however its request and its withdrawal meet the environment.
 *
 * A late request is made the way a crash makes one: the release's real `requestPromotion` activity
 * is held back before it signals the environment (as a killed worker's attempt is, until its retry),
 * then let go.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError, WorkflowUpdateStage, type Client, type WorkflowHandle } from '@temporalio/client';
import { createControlActivities } from '../../activities/control/index.js';
import type { PromotionRequest, SlipwayActivities } from '../../activities/types.js';
import { environmentWorkflowId, releaseWorkflowId } from '../../core/ids.js';
import { approveUpdate, environmentStateQuery, promotionFinishedSignal, rejectSignal, releaseStatusQuery } from '../../workflows/messages.js';
import type { release } from '../../workflows/release.js';
import type { EnvironmentState, ReleaseInput } from '../../workflows/types.js';
import { FakeWorld } from '../support/fake-world.js';
import { STAGING_AND_PRODUCTION, commitSha, eventually, newWorld, pipelineFromYaml, startRelease, uniqueApp } from '../support/pipelines.js';
import { TestPolicy, suitePolicy } from '../support/policy.js';
import { saveHistory, startTestWorker, testClient, uniqueTaskQueue, workersOfThisFile } from '../support/temporal.js';

let client: Client;
const workers = workersOfThisFile();

beforeAll(async () => {
  client = await testClient();
});

const STAGING_ONLY = `
      - name: staging
        overlay: overlays/staging
        argocd: { application: APP-staging, timeout: 20s }
        checks: []
`;

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * The releases' requests on their way to the environment, by release id: which have reached the
 * activity, which are held there, and which have been delivered (the environment's history has them).
 */
class Requests {
  private readonly held = new Map<string, ReturnType<typeof deferred>>();
  private readonly reachedBy = new Map<string, ReturnType<typeof deferred>>();
  private readonly deliveredFor = new Map<string, ReturnType<typeof deferred>>();

  /** Holds the next request of `releaseId` in its activity until `letGo`. */
  hold(releaseId: string): void {
    this.held.set(releaseId, deferred());
  }

  letGo(releaseId: string): void {
    this.held.get(releaseId)?.resolve();
  }

  reached(releaseId: string): Promise<void> {
    return this.entry(this.reachedBy, releaseId).promise;
  }

  delivered(releaseId: string): Promise<void> {
    return this.entry(this.deliveredFor, releaseId).promise;
  }

  /** The real control activities, with `requestPromotion` passing through here. */
  activities(options: { taskQueue?: string } = {}): Pick<SlipwayActivities, 'requestPromotion' | 'withdrawPromotion' | 'buildRecord'> {
    const control = createControlActivities(options);
    return {
      ...control,
      requestPromotion: async (request: PromotionRequest) => {
        this.entry(this.reachedBy, request.replyTo).resolve();
        await this.held.get(request.replyTo)?.promise;
        await control.requestPromotion(request);
        this.entry(this.deliveredFor, request.replyTo).resolve();
      },
    };
  }

  private entry(map: Map<string, ReturnType<typeof deferred>>, releaseId: string) {
    let d = map.get(releaseId);
    if (!d) map.set(releaseId, (d = deferred()));
    return d;
  }
}

/** A worker acting on `world`, its requests passing through `requests`; returns its task queue. */
async function workerFor(world: FakeWorld, requests: Requests, options: { envQueue?: string; policy?: TestPolicy; extra?: Partial<SlipwayActivities> } = {}): Promise<string> {
  const w = await startTestWorker(
    { ...world.activities(), ...requests.activities({ taskQueue: options.envQueue }), ...options.extra },
    undefined,
    (options.policy ?? suitePolicy()).store,
  );
  workers.push(w);
  return w.taskQueue;
}

/** A release under an id of its own (a rollback, a `slipway promote`), as the CLI names them. */
function startNamed(taskQueue: string, workflowId: string, input: ReleaseInput): Promise<WorkflowHandle<typeof release>> {
  return client.workflow.start<typeof release>('release', { workflowId, taskQueue, args: [input], workflowExecutionTimeout: '10m' });
}

const stagingOf = (app: string) => client.workflow.getHandle(environmentWorkflowId(app, 'staging'));
const stateOf = (app: string): Promise<EnvironmentState> => stagingOf(app).query(environmentStateQuery);
const recordOf = (state: EnvironmentState, releaseId: string) => state.recent.find((r) => r.releaseId === releaseId);

async function expectCancelled(handle: WorkflowHandle<typeof release>): Promise<void> {
  const error = await handle.result().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(WorkflowFailedError);
  expect((error as WorkflowFailedError).cause?.name).toBe('CancelledFailure');
}

/** The environment's history as the names of the signals it took and the promotions it started. */
async function environmentEvents(app: string): Promise<string[]> {
  const history = await stagingOf(app).fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    if (e.workflowExecutionSignaledEventAttributes) return [`signal:${e.workflowExecutionSignaledEventAttributes.signalName}`];
    if (e.startChildWorkflowExecutionInitiatedEventAttributes) return ['start-promotion'];
    if (e.workflowTaskStartedEventAttributes) return ['task'];
    return [];
  });
}

describe('a newer release wins over an older one in an environment (issue 13 item 10)', () => {
  it('answers an older release whose request arrives after a newer one completed there as superseded, and writes nothing of it', async () => {
    const app = uniqueApp();
    const world = newWorld(app, ['overlays/staging']);
    const pipeline = pipelineFromYaml(app, STAGING_ONLY);
    const requests = new Requests();
    const taskQueue = await workerFor(world, requests);
    const [a, b] = [commitSha(), commitSha()];

    requests.hold(releaseWorkflowId(app, a));
    const older = await startRelease(client, taskQueue, pipeline, a, { version: '2.1.0' });
    await requests.reached(older.workflowId);
    const newer = await startRelease(client, taskQueue, pipeline, b, { version: '2.2.0' });
    expect((await newer.result()).outcome).toBe('released');

    requests.letGo(older.workflowId);
    expect(await older.result()).toMatchObject({ outcome: 'superseded', supersededBy: newer.workflowId });
    expect((await older.query(releaseStatusQuery)).environments[0]).toMatchObject({ phase: 'superseded', detail: `by ${newer.workflowId}` });

    expect(world.commits('overlays/staging').map((c) => c.context.releaseId)).toEqual([newer.workflowId]);
    expect(world.overlayImages('overlays/staging').map((i) => i.newTag)).toEqual([b, b]);
    expect(world.effects().filter((e) => e.type === 'deployment' && e.commit === a)).toEqual([]);
    const state = await stateOf(app);
    expect(state.current).toMatchObject({ commit: b, releaseId: newer.workflowId });
    expect(state.newest).toMatchObject({ releaseId: newer.workflowId, commit: b, version: '2.2.0' });
    expect(recordOf(state, older.workflowId)).toMatchObject({ outcome: 'superseded', reason: `superseded by ${newer.workflowId}` });
    expect(recordOf(state, older.workflowId)?.notes?.[0]).toMatch(/started later and completed here: an older release never replaces a newer one$/);
    await saveHistory(client, 'environment-older-release-superseded', environmentWorkflowId(app, 'staging'));
    await saveHistory(client, 'release-older-superseded', older.workflowId);
  });

  it('does not let an older request that arrives while a newer one waits supersede it: the older one is superseded', async () => {
    const app = uniqueApp();
    const world = newWorld(app, ['overlays/staging']);
    world.updateRules({ healthDelayMs: 3000 });
    const pipeline = pipelineFromYaml(app, STAGING_ONLY);
    const requests = new Requests();
    const taskQueue = await workerFor(world, requests);
    const [a, x, b] = [commitSha(), commitSha(), commitSha()];

    requests.hold(releaseWorkflowId(app, a));
    const older = await startRelease(client, taskQueue, pipeline, a, { version: '2.0.0' });
    await requests.reached(older.workflowId);
    const inFlight = await startRelease(client, taskQueue, pipeline, x, { version: '2.1.0' });
    await eventually(() => stateOf(app), (s) => s.inFlight?.commit === x);
    const newer = await startRelease(client, taskQueue, pipeline, b, { version: '2.2.0' });
    await eventually(() => stateOf(app), (s) => s.waiting?.commit === b);

    requests.letGo(older.workflowId);
    expect(await older.result()).toMatchObject({ outcome: 'superseded', supersededBy: newer.workflowId });
    const [r1, r2] = await Promise.all([inFlight.result(), newer.result()]);
    expect([r1.outcome, r2.outcome]).toEqual(['released', 'released']);
    expect(world.commits('overlays/staging').map((c) => c.context.sourceCommit)).toEqual([x, b]);
    expect(recordOf(await stateOf(app), older.workflowId)).toMatchObject({ outcome: 'superseded', reason: `superseded by ${newer.workflowId}` });
  });

  it('still runs an explicit rollback to an older build that arrives late, and records that it goes back past the newer release', async () => {
    const app = uniqueApp();
    const world = newWorld(app, ['overlays/staging']);
    const pipeline = pipelineFromYaml(app, STAGING_ONLY);
    const requests = new Requests();
    const taskQueue = await workerFor(world, requests);
    const [x, b] = [commitSha(), commitSha()];
    expect((await (await startRelease(client, taskQueue, pipeline, x, { version: '3.0.0' })).result()).outcome).toBe('released');

    const rollbackId = `rollback/${app}/staging/3.0.0-${Date.now().toString(36)}`;
    requests.hold(rollbackId);
    const rollback = await startNamed(taskQueue, rollbackId, {
      app, commit: x, version: '3.0.0', startAt: 'staging', only: true, skipBuild: true, skipTag: true, kind: 'rollback', trigger: 'cli:alice', requestedBy: 'alice',
    });
    await requests.reached(rollbackId);
    const newer = await startRelease(client, taskQueue, pipeline, b, { version: '3.1.0' });
    expect((await newer.result()).outcome).toBe('released');

    requests.letGo(rollbackId);
    expect((await rollback.result()).outcome).toBe('released');
    expect(world.commits('overlays/staging').map((c) => [c.context.sourceCommit, c.context.kind])).toEqual([[x, 'promote'], [b, 'promote'], [x, 'rollback']]);
    expect(world.overlayImages('overlays/staging').map((i) => i.newTag)).toEqual([x, x]);
    const state = await stateOf(app);
    expect(state.current).toMatchObject({ commit: x, releaseId: rollbackId });
    expect(recordOf(state, rollbackId)).toMatchObject({ kind: 'rollback', outcome: 'promoted' });
    expect(recordOf(state, rollbackId)?.notes).toContain(`explicit rollback: goes back past ${newer.workflowId} (3.1.0 (${b.slice(0, 7)})), a newer release that completed here`);
    // The newer release stays the newest: a late request older than it is still refused.
    expect(state.newest).toMatchObject({ releaseId: newer.workflowId });
  });
});

describe('a release takes only the answer to its own request (issue 13 item 4)', () => {
  it('is not ended by a stray promotionFinished for the environment it waits on that names another request', async () => {
    const app = uniqueApp();
    const world = newWorld(app);
    world.updateRules({ healthDelayMs: 2000 });
    const pipeline = pipelineFromYaml(app, STAGING_AND_PRODUCTION({ stagingChecks: '[]' }));
    const taskQueue = await workerFor(world, new Requests());
    const handle = await startRelease(client, taskQueue, pipeline, commitSha());
    await eventually(() => handle.query(releaseStatusQuery), (s) => s.environments[0]?.phase === 'waiting-health');

    await handle.signal(promotionFinishedSignal, { environment: 'staging', requestId: `release/${app}/someone-else#staging`, outcome: 'superseded', by: `release/${app}/someone-else` });

    const result = await handle.result();
    expect(result.outcome).toBe('released');
    expect(result.environments.staging).toEqual({ phase: 'promoted', gitopsCommit: world.commits('overlays/staging')[0]!.id });
    expect(world.commits('overlays/production')).toHaveLength(1);
  });

  it('does not skip an environment because a stray answer for it, naming another request, came before it was asked', async () => {
    const app = uniqueApp();
    const world = newWorld(app);
    world.updateRules({ healthDelayMs: 2000 });
    const pipeline = pipelineFromYaml(app, STAGING_AND_PRODUCTION({ stagingChecks: '[]' }));
    const taskQueue = await workerFor(world, new Requests());
    const handle = await startRelease(client, taskQueue, pipeline, commitSha());
    await eventually(() => handle.query(releaseStatusQuery), (s) => s.environments[0]?.phase === 'waiting-health');

    const stray = 'f'.repeat(40);
    await handle.signal(promotionFinishedSignal, {
      environment: 'production', requestId: `release/${app}/someone-else#production`, outcome: 'promoted', gitopsCommit: stray, previousImages: [], alreadyDeployed: true,
    });

    const result = await handle.result();
    expect(result.outcome).toBe('released');
    const production = world.commits('overlays/production');
    expect(production.map((c) => c.context.releaseId)).toEqual([handle.workflowId]);
    expect(result.environments.production).toEqual({ phase: 'promoted', gitopsCommit: production[0]!.id });
    expect((await handle.query(releaseStatusQuery)).steps.find((s) => s.name === 'production')).toMatchObject({ state: 'done', detail: production[0]!.id });
    await saveHistory(client, 'release-stray-answer-ignored', handle.workflowId);
  });
});

describe('after `slipway cancel`, nothing of that release is written (issue 13 item 3)', () => {
  it('(a) when its request and its withdrawal reach the environment in one activation', async () => {
    const app = uniqueApp();
    const world = newWorld(app, ['overlays/staging']);
    const pipeline = pipelineFromYaml(app, STAGING_ONLY);
    const requests = new Requests();
    // The environment runs on a task queue of its own, served only once both messages are there.
    const envQueue = uniqueTaskQueue('env');
    const taskQueue = await workerFor(world, requests, { envQueue });
    const handle = await startRelease(client, taskQueue, pipeline, commitSha());
    await requests.delivered(handle.workflowId);
    await handle.cancel();
    await expectCancelled(handle);
    expect(await environmentEvents(app)).toEqual(['signal:requestPromotion', 'signal:withdrawRequest']);

    workers.push(await startTestWorker({ ...world.activities(), ...requests.activities() }, envQueue));
    const state = await eventually(() => stateOf(app), (s) => recordOf(s, handle.workflowId) !== undefined);
    expect(recordOf(state, handle.workflowId)).toMatchObject({ outcome: 'cancelled' });
    const events = await environmentEvents(app);
    expect(events.slice(0, 3)).toEqual(['signal:requestPromotion', 'signal:withdrawRequest', 'task']);
    expect(events).not.toContain('start-promotion');
    expect(world.commits()).toEqual([]);
  });

  it('(b) when it is withdrawn while the environment waits to continue as new', async () => {
    const app = uniqueApp();
    const world = newWorld(app, ['overlays/staging']);
    // One promotion per run: the environment continues as new after each request it finishes.
    const policy = new TestPolicy(`
gitops: { url: /tmp/unused-in-workflow-tests.git, branch: main }
engine: { heartbeatTimeout: 2s, stepTimeout: 20s, historyPerEnvironment: 1 }`);
    const pipeline = pipelineFromYaml(app, STAGING_ONLY, '    promotion: { allowOverride: true }', policy);
    const requests = new Requests();
    // A GitHub approval being checked holds the environment's continue-as-new open (its handler
    // has not finished): the check is held here until the test lets it go.
    const checking = deferred();
    const checked = deferred();
    const taskQueue = await workerFor(world, requests, {
      policy,
      extra: {
        verifyApproval: async () => {
          checking.resolve();
          await checked.promise;
          return { ok: false, reason: 'the comment was not found' };
        },
      },
    });
    const staging = stagingOf(app);

    // An override waits for approval even where staging has no gate of its own.
    const override = await startNamed(taskQueue, `promote/${app}/staging/o-${Date.now().toString(36)}`, {
      app, commit: commitSha(), startAt: 'staging', only: true, skipBuild: true, skipTag: true, override: { reason: 'hotfix' }, requestedBy: 'alice', trigger: 'cli:alice',
    });
    await eventually(() => stateOf(app), (s) => s.inFlight?.phase === 'awaiting-approval');
    const firstRun = (await staging.describe()).runId;
    const githubApproval = await staging.startUpdate(approveUpdate, {
      args: [{ by: 'bob', channel: 'github', evidence: { event: 'issue_comment', body: '{}', signature: 'sha256=00' } }],
      waitForStage: WorkflowUpdateStage.ACCEPTED,
    });
    await checking.promise;
    await staging.signal(rejectSignal, { by: 'carol', comment: 'not today' });
    expect(await override.result().catch((e: unknown) => (e as WorkflowFailedError).cause?.message)).toMatch(/rejected by carol/);

    // The environment has finished its one promotion of this run and waits to continue as new.
    const handle = await startRelease(client, taskQueue, pipeline, commitSha());
    await eventually(() => stateOf(app), (s) => s.inFlight?.releaseId === handle.workflowId && s.inFlight.phase === 'queued');
    expect((await staging.describe()).runId).toBe(firstRun);
    await handle.cancel();
    await expectCancelled(handle);

    checked.resolve();
    await expect(githubApproval.result()).rejects.toThrow();
    await eventually(async () => (await staging.describe()).runId, (runId) => runId !== firstRun);
    const state = await eventually(() => stateOf(app), (s) => recordOf(s, handle.workflowId) !== undefined && !s.inFlight);
    expect(recordOf(state, handle.workflowId)).toMatchObject({ outcome: 'cancelled' });
    expect(world.commits()).toEqual([]);
  });

  it('(c) when the signal-with-start of its request reaches the environment after the withdrawal, the environment not running yet', async () => {
    const app = uniqueApp();
    const world = newWorld(app, ['overlays/staging']);
    const pipeline = pipelineFromYaml(app, STAGING_ONLY);
    const requests = new Requests();
    const taskQueue = await workerFor(world, requests);
    const commit = commitSha();
    const releaseId = releaseWorkflowId(app, commit);
    requests.hold(releaseId);
    const handle = await startRelease(client, taskQueue, pipeline, commit);
    await requests.reached(releaseId);
    await handle.cancel();
    await expectCancelled(handle);

    // The cancelled activity's attempt was already under way: it still delivers the request.
    requests.letGo(releaseId);
    await requests.delivered(releaseId);
    const state = await eventually(() => stateOf(app), (s) => recordOf(s, releaseId) !== undefined);
    expect(recordOf(state, releaseId)).toMatchObject({ outcome: 'cancelled' });
    const events = await environmentEvents(app);
    expect(events.filter((e) => e.startsWith('signal:'))).toEqual(['signal:withdrawRequest', 'signal:requestPromotion']);
    expect(events).not.toContain('start-promotion');
    expect(world.commits()).toEqual([]);
    await saveHistory(client, 'release-cancelled-before-its-request', releaseId);
    await saveHistory(client, 'environment-withdrawal-before-request', environmentWorkflowId(app, 'staging'));
  });

  it('(d) when it follows another release of the same build: the follower is taken out, the other release goes on', async () => {
    const app = uniqueApp();
    const world = newWorld(app, ['overlays/staging']);
    world.updateRules({ healthDelayMs: 3000 });
    const pipeline = pipelineFromYaml(app, STAGING_ONLY);
    const requests = new Requests();
    const taskQueue = await workerFor(world, requests);
    const commit = commitSha();
    const leader = await startRelease(client, taskQueue, pipeline, commit, { version: '5.0.0' });
    await eventually(() => stateOf(app), (s) => s.inFlight?.releaseId === leader.workflowId);

    const followerId = `promote/${app}/staging/5.0.0-${Date.now().toString(36)}`;
    const follower = await startNamed(taskQueue, followerId, { app, commit, version: '5.0.0', startAt: 'staging', only: true, skipBuild: true, skipTag: true, trigger: 'cli:bob' });
    await requests.delivered(followerId);
    await follower.cancel();
    await expectCancelled(follower);

    expect((await leader.result()).outcome).toBe('released');
    const state = await stateOf(app);
    expect(recordOf(state, followerId)).toMatchObject({ outcome: 'cancelled' });
    expect(recordOf(state, leader.workflowId)).toMatchObject({ outcome: 'promoted' });
    expect(world.commits().map((c) => c.context.releaseId)).toEqual([leader.workflowId]);
  });
});
