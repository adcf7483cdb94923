/**
 * An environment that needs a person, on the real Temporal dev server with the in-test world
 * counting every write: a promotion whose rollback was refused (someone committed to the overlay
 * after the promotion wrote it) leaves the environment refusing promotions, with the reason, until a
 * person clears it — `slipway resolve` (the CLI, run from source), the Temporal UI's signal, or an
 * explicit rollback where the policy says `rollback.afterConflict: allow`; the need is carried
 * across continue-as-new. And a release following another of the same build is not told
 * "cancelled" when only the other was cancelled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError, WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { environmentWorkflowId } from '../../core/ids.js';
import { environmentStateQuery, resolveAttentionSignal, resolveAttentionUpdate } from '../../workflows/messages.js';
import type { release } from '../../workflows/release.js';
import type { EnvironmentState, ReleaseInput } from '../../workflows/types.js';
import type { FakeWorld } from '../support/fake-world.js';
import { commitSha, eventually, newWorld, pipelineFromYaml, startRelease, uniqueApp } from '../support/pipelines.js';
import { TestPolicy, WORKFLOW_TEST_HEADER } from '../support/policy.js';
import { saveHistory, startTestWorker, testClient, workersOfThisFile } from '../support/temporal.js';
import { runCliFromSource, type CliRun } from '../support/cli-from-source.js';

let client: Client;
const workers = workersOfThisFile();

beforeAll(async () => {
  client = await testClient();
});
afterAll(async () => {
  await client?.connection.close();
});

const HOTFIX = { commit: '9d8c7b6a5f4e3d2c1b0a99887766554433221100', author: 'On Call <oncall@shop.example>', subject: 'hotfix: pin the api image' };

const staging = (rollback = '') => `
      - name: staging
        overlay: overlays/staging
        argocd: { application: APP-staging, timeout: 20s }
        checks: []
${rollback ? `        rollback: ${rollback}\n` : ''}`;

interface Setup {
  app: string;
  world: FakeWorld;
  taskQueue: string;
  pipeline: ReturnType<typeof pipelineFromYaml>;
}

/** An app with one environment, its own policy (so its engine limits are its own) and a worker. */
async function setUp(options: { rollback?: string; engine?: string } = {}): Promise<Setup> {
  const app = uniqueApp('attn');
  const world = newWorld(app, ['overlays/staging']);
  const policy = new TestPolicy(options.engine ? WORKFLOW_TEST_HEADER.replace('stepTimeout: 20s', `stepTimeout: 20s, ${options.engine}`) : WORKFLOW_TEST_HEADER);
  const pipeline = pipelineFromYaml(app, staging(options.rollback), '', policy);
  const worker = await startTestWorker(world.activities(), undefined, policy.store);
  workers.push(worker);
  return { app, world, taskQueue: worker.taskQueue, pipeline };
}

const envHandle = (app: string) => client.workflow.getHandle(environmentWorkflowId(app, 'staging'));
const stateOf = (app: string): Promise<EnvironmentState> => envHandle(app).query(environmentStateQuery);
const recordOf = (state: EnvironmentState, releaseId: string) => state.recent.find((r) => r.releaseId === releaseId);

/** Why a release failed (its failure's message), or 'released'. */
async function endOf(handle: WorkflowHandle<typeof release>): Promise<string> {
  try {
    return (await handle.result()).outcome;
  } catch (err) {
    expect(err).toBeInstanceOf(WorkflowFailedError);
    return (err as WorkflowFailedError).cause?.message ?? String(err);
  }
}

/** A release under an id of its own (a rollback, a `slipway promote`), as the CLI names them. */
function startNamed(taskQueue: string, workflowId: string, input: ReleaseInput): Promise<WorkflowHandle<typeof release>> {
  return client.workflow.start<typeof release>('release', { workflowId, taskQueue, args: [input], workflowExecutionTimeout: '10m' });
}

/**
 * A good build released, then a bad one (Degraded) whose rollback meets a hand commit in between:
 * the environment is left needing a person. Returns the two builds and the bad release's failure.
 */
async function leaveNeedingPerson({ world, taskQueue, pipeline }: Setup): Promise<{ good: string; bad: string; badRelease: string; failure: string }> {
  const [good, bad] = [commitSha(), commitSha()];
  expect(await endOf(await startRelease(client, taskQueue, pipeline, good, { version: '1.0.0' }))).toBe('released');
  world.updateRules({ badTags: [bad], handCommits: { 'overlays/staging': HOTFIX } });
  const badRelease = await startRelease(client, taskQueue, pipeline, bad, { version: '1.1.0' });
  const failure = await endOf(badRelease);
  return { good, bad, badRelease: badRelease.workflowId, failure };
}

/** The `slipway` CLI, run from source, as `user`, against the test's worker. */
function cli(args: string[], taskQueue: string, user = 'alice'): Promise<CliRun> {
  return runCliFromSource(args, { SLIPWAY_TASK_QUEUE: taskQueue, SLIPWAY_USER: user }, 60_000);
}

describe('a refused rollback leaves the environment needing a person', () => {
  it('records why, which commit and author, and since when; refuses the next automated promotion, writing nothing, until `slipway resolve` clears it', async () => {
    // Continue as new after every two promotions: right after the bad one, so the need for a person must be carried.
    const setup = await setUp({ engine: 'historyPerEnvironment: 2' });
    const { app, world, taskQueue, pipeline } = setup;
    const { bad, badRelease, failure } = await leaveNeedingPerson(setup);
    expect(failure).toMatch(/ROLLBACK FAILED/);
    const runs = async () => {
      const found: string[] = [];
      for await (const w of client.workflow.list({ query: `WorkflowId = '${environmentWorkflowId(app, 'staging')}'` })) found.push(w.status.name);
      return found;
    };
    await eventually(runs, (r) => r.includes('CONTINUED_AS_NEW') && r.includes('RUNNING'), 30_000);
    const state = await stateOf(app);
    expect(state.attention).toMatchObject({
      failureType: 'RollbackConflict',
      interveningCommit: HOTFIX.commit,
      interveningAuthor: HOTFIX.author,
      releaseId: badRelease,
      commit: bad,
      version: '1.1.0',
      promotionFailure: expect.stringMatching(/Degraded/),
    });
    expect(state.attention!.reason).toContain(`last changed by ${HOTFIX.commit} (${HOTFIX.author}: "${HOTFIX.subject}")`);
    expect(state.attention!.since).toBeGreaterThan(recordOf(state, badRelease)!.requestedAt);
    expect(recordOf(state, badRelease)?.notes).toContainEqual(expect.stringMatching(new RegExp(`^left ${app}/staging needing a person: the rollback of 1\\.1\\.0`)));
    // The people told of the failure were told of the commit in between and its author.
    const told = world.effects().flatMap((e) => (e.type === 'notify' && e.event.kind === 'promotion-failed' ? [e.event.message] : []));
    expect(told).toContainEqual(expect.stringContaining(`${HOTFIX.commit} (${HOTFIX.author}`));

    const status = await cli(['status', app], taskQueue);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`${app}/staging: 1.0.0`);
    expect(status.stdout).toMatch(new RegExp(`NEEDS A PERSON since .* \\(9d8c7b6 by On Call <oncall@shop\\.example>\\): the rollback of 1\\.1\\.0`));
    expect(status.stdout).toContain(`slipway resolve ${app} staging --reason`);

    const commitsBefore = world.commits().length;
    const next = await startRelease(client, taskQueue, pipeline, commitSha(), { version: '1.2.0' });
    const refusal = await endOf(next);
    expect(refusal).toMatch(new RegExp(`^staging: ${app}/staging needs a person since .*: the rollback of 1\\.1\\.0 .* was refused: .*${HOTFIX.commit}`));
    expect(refusal).toContain(`Promotions are refused until someone clears it (slipway resolve ${app} staging --reason "…")`);
    expect(world.commits()).toHaveLength(commitsBefore);
    expect(recordOf(await stateOf(app), next.workflowId)).toMatchObject({ outcome: 'refused' });

    expect((await cli(['resolve', app, 'staging'], taskQueue)).code).toBe(2);
    const resolved = await cli(['resolve', app, 'staging', '--reason', 'the hotfix is what should run; next release carries it'], taskQueue, 'alice');
    expect(resolved.code, resolved.stderr).toBe(0);
    expect(resolved.stdout).toMatch(new RegExp(`^resolved: ${app}/staging takes promotions again`));
    const cleared = await stateOf(app);
    expect(cleared.attention).toBeUndefined();
    expect(cleared.resolutions?.[0]).toMatchObject({
      by: 'alice', channel: 'cli', via: 'resolve', reason: 'the hotfix is what should run; next release carries it', attention: { interveningCommit: HOTFIX.commit },
    });
    const again = await cli(['resolve', app, 'staging', '--reason', 'twice'], taskQueue);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/does not need a person: there is nothing to resolve/);

    const after = await startRelease(client, taskQueue, pipeline, commitSha(), { version: '1.3.0' });
    expect(await endOf(after)).toBe('released');
    expect(world.commits()).toHaveLength(commitsBefore + 1);
    await saveHistory(client, 'environment-rollback-conflict-needs-person', environmentWorkflowId(app, 'staging'));
  });

  it('refuses an explicit rollback too by default (rollback.afterConflict: refuse), and takes the Temporal UI’s signal to clear it', async () => {
    const setup = await setUp();
    const { app, world, taskQueue } = setup;
    const { good } = await leaveNeedingPerson(setup);
    await eventually(() => stateOf(app), (s) => s.attention !== undefined, 10_000);
    const commitsBefore = world.commits().length;

    const rollback = await startNamed(taskQueue, `rollback/${app}/staging/1.0.0-${Date.now().toString(36)}`, {
      app, commit: good, version: '1.0.0', startAt: 'staging', only: true, skipBuild: true, skipTag: true, kind: 'rollback', trigger: 'cli:bob', requestedBy: 'bob',
    });
    expect(await endOf(rollback)).toMatch(/rollback\.afterConflict: refuse\) lets no rollback or override past that: look at the commit in between, then slipway resolve/);
    expect(world.commits()).toHaveLength(commitsBefore);

    // Invalid signals (no reason) are ignored; a valid one clears it, recorded as from the UI.
    await envHandle(app).signal(resolveAttentionSignal, { by: 'carol', reason: ' ' });
    await envHandle(app).signal(resolveAttentionSignal, { by: 'carol', reason: 'reverted the hotfix by hand' });
    const state = await eventually(() => stateOf(app), (s) => s.attention === undefined);
    expect(state.resolutions).toHaveLength(1);
    expect(state.resolutions![0]).toMatchObject({ by: 'carol', channel: 'ui', via: 'resolve', reason: 'reverted the hotfix by hand' });
    const late = await envHandle(app).executeUpdate(resolveAttentionUpdate, { args: [{ by: 'carol', reason: 'again' }] }).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((late as WorkflowUpdateFailedError).cause?.message).toMatch(/does not need a person: there is nothing to resolve/);
  });

  it('lets an explicit rollback through where the policy says afterConflict: allow; its success clears the need, recorded with who and why', async () => {
    const setup = await setUp({ rollback: '{ afterConflict: allow }' });
    const { app, world, taskQueue, pipeline } = setup;
    const { good } = await leaveNeedingPerson(setup);
    await eventually(() => stateOf(app), (s) => s.attention !== undefined, 10_000);

    // Automated promotions are still refused, and told that an explicit rollback would be taken.
    expect(await endOf(await startRelease(client, taskQueue, pipeline, commitSha()))).toMatch(/or an explicit slipway rollback \/ promote --force\)/);

    const rollbackId = `rollback/${app}/staging/1.0.0-${Date.now().toString(36)}`;
    const rollback = await startNamed(taskQueue, rollbackId, {
      app, commit: good, version: '1.0.0', startAt: 'staging', only: true, skipBuild: true, skipTag: true, kind: 'rollback', trigger: 'cli:bob', requestedBy: 'bob',
    });
    expect(await endOf(rollback)).toBe('released');
    expect(world.commits().at(-1)?.context).toMatchObject({ releaseId: rollbackId, kind: 'rollback', sourceCommit: good });
    const state = await stateOf(app);
    expect(state.attention).toBeUndefined();
    expect(state.current).toMatchObject({ commit: good, releaseId: rollbackId });
    expect(state.resolutions?.[0]).toMatchObject({ by: 'bob', via: 'rollback', releaseId: rollbackId, reason: `explicit rollback to 1.0.0 (${good.slice(0, 7)})` });
    expect(recordOf(state, rollbackId)?.notes).toEqual(expect.arrayContaining([
      expect.stringMatching(/^runs although .* needs a person: its policy lets an explicit rollback past that/),
      expect.stringMatching(/^cleared the need for a person .* by rollback of bob: explicit rollback to 1\.0\.0/),
    ]));
    expect(await endOf(await startRelease(client, taskQueue, pipeline, commitSha()))).toBe('released');
  });
});

describe('a release following another of the same build', () => {
  it('is promoted when the release it followed is cancelled: it becomes the head and runs, nobody having cancelled it', async () => {
    const { app, world, taskQueue, pipeline } = await setUp();
    world.updateRules({ healthDelayMs: 3000 });
    const commit = commitSha();
    const leader = await startRelease(client, taskQueue, pipeline, commit, { version: '5.0.0' });
    await eventually(() => stateOf(app), (s) => s.inFlight?.releaseId === leader.workflowId && s.inFlight.phase === 'deploying');

    const followerId = `promote/${app}/staging/5.0.0-${Date.now().toString(36)}`;
    const follower = await startNamed(taskQueue, followerId, { app, commit, version: '5.0.0', startAt: 'staging', only: true, skipBuild: true, skipTag: true, trigger: 'cli:bob' });
    // Its request reached the environment (as a follower: nothing in the state shows it) before the leader is cancelled.
    await eventually(async () => {
      const history = await envHandle(app).fetchHistory();
      return (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'requestPromotion').length;
    }, (n) => n === 2);
    await leader.cancel();

    expect(await endOf(leader)).toMatch(/cancel/i);
    expect(await endOf(follower)).toBe('released');
    const state = await stateOf(app);
    expect(recordOf(state, leader.workflowId)).toMatchObject({ outcome: 'cancelled' });
    expect(recordOf(state, followerId)).toMatchObject({ outcome: 'promoted' });
    expect(state.current).toMatchObject({ commit, releaseId: followerId });
    expect(world.commits().at(-1)?.context).toMatchObject({ releaseId: followerId, sourceCommit: commit, kind: 'promote' });
    expect(world.overlayImages('overlays/staging').map((i) => i.newTag)).toEqual([commit, commit]);
    await saveHistory(client, 'environment-follower-outlives-cancelled-leader', environmentWorkflowId(app, 'staging'));
  });
});
