/**
 * Production takes only builds that passed the environment before it (issue 12): a tag for a
 * commit that never passed staging runs staging first (or is refused, per policy), a commit that
 * failed staging is refused with the reason, and a request that skips the release entirely is
 * refused by the environment itself. Real Temporal; the in-test world counts every commit.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { environmentWorkflowId, releaseWorkflowId, tagReleaseWorkflowId } from '../../core/ids.js';
import { imagesForCommit } from '../../core/images.js';
import { environmentStateQuery, requestPromotionSignal } from '../../workflows/messages.js';
import type { PromotionRequest, ReleaseInput } from '../../workflows/types.js';
import { FakeWorld } from '../support/fake-world.js';
import { describeFailure } from '../support/failures.js';
import { IMAGES, commitSha, eventually, newWorld, uniqueApp } from '../support/pipelines.js';
import { TestPolicy } from '../support/policy.js';
import { startTestWorker, testClient, workersOfThisFile } from '../support/temporal.js';

let client: Client;
const workers = workersOfThisFile();

beforeAll(async () => {
  client = await testClient();
});

interface Setup {
  app: string;
  world: FakeWorld;
  taskQueue: string;
}

async function setup(unvalidated: 'run-earlier' | 'refuse' = 'run-earlier', allowOverride = false): Promise<Setup> {
  const app = uniqueApp('validated');
  const world = newWorld(app);
  const policy = TestPolicy.fromText(`
gitops: { url: /tmp/unused-in-workflow-tests.git, branch: main }
engine: { heartbeatTimeout: 2s, stepTimeout: 20s }
apps:
  ${app}:
    images: [${IMAGES.join(', ')}]
    promotion: { unvalidated: ${unvalidated}, allowOverride: ${allowOverride} }
    environments:
      - { name: staging, overlay: overlays/staging, argocd: { application: ${app}-staging, timeout: 20s } }
      - { name: production, overlay: overlays/production, argocd: { application: ${app}-production, timeout: 20s } }
`);
  const worker = await startTestWorker(world.activities(), undefined, policy.store);
  workers.push(worker);
  return { app, world, taskQueue: worker.taskQueue };
}

/** What a pushed tag asks for: production, images already built, tag already there. */
function tagRelease({ app, taskQueue }: Setup, commit: string, tag: string) {
  const input: ReleaseInput = { app, commit, version: tag.slice(1), startAt: 'production', skipBuild: true, skipTag: true, trigger: `webhook:tag ${tag}` };
  return client.workflow.start('release', { workflowId: tagReleaseWorkflowId(app, tag, commit), taskQueue, args: [input] });
}

function commitsTo(world: FakeWorld, overlay: string): string[] {
  return world.effects().flatMap((e) => (e.type === 'commit' && e.overlay === overlay ? [e.context.sourceCommit] : []));
}

describe('production only takes what passed staging', () => {
  it('runs staging first for a tag whose commit never passed it, then production', async () => {
    const s = await setup();
    const commit = commitSha();
    const result = await (await tagRelease(s, commit, 'v1.0.0')).result();
    expect(result.outcome).toBe('released');
    expect(commitsTo(s.world, 'overlays/staging')).toEqual([commit]);
    expect(commitsTo(s.world, 'overlays/production')).toEqual([commit]);
  });

  it('takes a tag straight to production when its commit passed staging already', async () => {
    const s = await setup();
    const commit = commitSha();
    const staged: ReleaseInput = { app: s.app, commit, startAt: 'staging', only: true, skipBuild: true, skipTag: true, trigger: 'webhook:push main' };
    await (await client.workflow.start('release', { workflowId: releaseWorkflowId(s.app, commit), taskQueue: s.taskQueue, args: [staged] })).result();
    const result = await (await tagRelease(s, commit, 'v1.1.0')).result();
    expect(result.environments.staging?.phase).toBe('skipped');
    expect(commitsTo(s.world, 'overlays/staging')).toEqual([commit]);
    expect(commitsTo(s.world, 'overlays/production')).toEqual([commit]);
  });

  it('refuses a tag for a commit that failed in staging, with the reason, and writes nothing to production', async () => {
    const s = await setup();
    const commit = commitSha();
    s.world.updateRules({ badTags: [commit] });
    const staged: ReleaseInput = { app: s.app, commit, skipBuild: true, skipTag: true, trigger: 'webhook:push main' };
    await (await client.workflow.start('release', { workflowId: releaseWorkflowId(s.app, commit), taskQueue: s.taskQueue, args: [staged] })).result().catch(() => undefined);
    const err = await (await tagRelease(s, commit, 'v1.2.0')).result().catch((e: unknown) => e);
    expect(describeFailure(err)).toMatchObject({ type: 'RequestRefused', message: expect.stringMatching(/failed in staging .*Degraded/) });
    expect(commitsTo(s.world, 'overlays/production')).toEqual([]);
  });

  it('refuses, when the policy says so, a tag whose commit never passed staging', async () => {
    const s = await setup('refuse');
    const commit = commitSha();
    const err = await (await tagRelease(s, commit, 'v2.0.0')).result().catch((e: unknown) => e);
    expect(describeFailure(err)).toMatchObject({ type: 'RequestRefused', message: expect.stringContaining('has not passed staging, and the policy refuses') });
    expect(s.world.effects().filter((e) => e.type === 'commit')).toEqual([]);
  });

  it('refuses `promote production` of a build that never passed staging', async () => {
    const s = await setup();
    const commit = commitSha();
    const input: ReleaseInput = { app: s.app, commit, startAt: 'production', only: true, skipBuild: true, skipTag: true, trigger: 'cli:alice' };
    const err = await (await client.workflow.start('release', { workflowId: `promote/${s.app}/production/${commit}`, taskQueue: s.taskQueue, args: [input] })).result().catch((e: unknown) => e);
    expect(describeFailure(err)).toMatchObject({ type: 'RequestRefused', message: expect.stringContaining('has not passed staging: it must be promoted and verified there first') });
    expect(s.world.effects().filter((e) => e.type === 'commit')).toEqual([]);
  });

  it('refuses a request sent straight to the production environment workflow for a build that skipped staging', async () => {
    const s = await setup();
    const commit = commitSha();
    const request = {
      requestId: `forged-${commit}#production`,
      replyTo: `forged-${commit}`,
      app: s.app,
      environment: { name: 'production' },
      images: imagesForCommit(IMAGES, commit),
      commit,
      requestedAt: Date.now(),
      kind: 'promote',
    } as unknown as PromotionRequest;
    const env = await client.workflow.signalWithStart('environment', {
      workflowId: environmentWorkflowId(s.app, 'production'),
      taskQueue: s.taskQueue,
      args: [{ app: s.app, environment: 'production' }],
      signal: requestPromotionSignal,
      signalArgs: [request],
    });
    const state = await eventually(() => env.query(environmentStateQuery), (st) => st.recent.some((r) => r.requestId === request.requestId));
    expect(state.recent[0]).toMatchObject({ outcome: 'refused', reason: expect.stringContaining('has not passed staging') });
    expect(s.world.effects().filter((e) => e.type === 'commit')).toEqual([]);
  });

  it('refuses an override where the policy does not allow one', async () => {
    const s = await setup();
    const commit = commitSha();
    const input: ReleaseInput = { app: s.app, commit, startAt: 'production', only: true, skipBuild: true, skipTag: true, trigger: 'cli:carol', requestedBy: 'carol', override: { reason: 'hotfix' } };
    const err = await (await client.workflow.start('release', { workflowId: `promote/${s.app}/production/${commit}`, taskQueue: s.taskQueue, args: [input] })).result().catch((e: unknown) => e);
    expect(describeFailure(err)).toMatchObject({ type: 'RequestRefused', message: expect.stringContaining("policy does not allow overrides") });
    expect(s.world.effects().filter((e) => e.type === 'commit')).toEqual([]);
  });

  it('takes an override where allowed only after someone else approves it, and records it as an override', async () => {
    const s = await setup('run-earlier', true);
    const commit = commitSha();
    const input: ReleaseInput = { app: s.app, commit, startAt: 'production', only: true, skipBuild: true, skipTag: true, trigger: 'cli:carol', requestedBy: 'carol', override: { reason: 'hotfix for the outage' } };
    const handle = await client.workflow.start('release', { workflowId: `promote/${s.app}/production/${commit}`, taskQueue: s.taskQueue, args: [input] });
    const production = client.workflow.getHandle(environmentWorkflowId(s.app, 'production'));
    // Production has no approval gate of its own; the override brings one.
    await eventually(() => production.query(environmentStateQuery), (st) => st.inFlight?.phase === 'awaiting-approval');
    const approve = (by: string) => production.executeUpdate('approve', { args: [{ by }] }).then(() => 'ok', (e: unknown) => describeFailure(e).message);
    expect(await approve('carol')).toContain('carol asked for');
    expect(s.world.effects().filter((e) => e.type === 'commit')).toEqual([]);
    expect(await approve('dave')).toBe('ok');
    expect((await handle.result()).outcome).toBe('released');
    const record = (await production.query(environmentStateQuery)).recent[0]!;
    expect(record).toMatchObject({ commit, outcome: 'promoted', approvedBy: 'cli:dave', notes: ['override by carol: hotfix for the outage'] });
    expect(commitsTo(s.world, 'overlays/staging')).toEqual([]);
    expect(commitsTo(s.world, 'overlays/production')).toEqual([commit]);
  });
});
