/**
 * The Argo CD activities against the Argo CD stand-in (infra/argocd-standin, a controller of our
 * own) on a real Kubernetes API server (etcd + apiextensions-apiserver), reading a real git
 * repository: the overlay commit decides the outcome. Fast checks of the activities' own logic —
 * timings to the hundred milliseconds, syncs held Running on demand, a user denied by the
 * authorization filter. No claim about Argo CD itself rests here: argocd-real-gate.test.ts and
 * argocd-real-private-cluster.test.ts re-check the gate on the real Argo CD.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncLocalStorage, type Context } from '@temporalio/activity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArgoActivities, type ArgoOperation } from '../../activities/argocd/index.js';
import { createOverlayReader } from '../../activities/gitops/read-at-revision.js';
import { FailureType } from '../../activities/types.js';
import { startArgoStandIn, type ArgoStandIn } from '../../infra/argocd-standin/index.js';
import { startKubeApiServer, type KubeApiServer } from '../../infra/kube/index.js';
import { GitopsRepo, OVERLAY, createApplication, readApplication, recordOperations, rejectionOf } from '../support/argocd-fixture.js';

const NS = 'argocd';
const GOOD = { 'todoapp/frontend': 'good-1', 'todoapp/backend': 'good-1' };

let kube: KubeApiServer;
let standIn: ArgoStandIn;
const repos: GitopsRepo[] = [];
const rules = { badTags: new Set(['bad-1']), stuckTags: new Set(['stuck-1']), progressingMs: 200 };
/** How long the stand-in keeps the sync of a revision Running (others: 50 ms), as syncs with hooks and waves do. */
const slowSyncs = new Map<string, number>();
const syncMs = (_app: unknown, operation: ArgoOperation) =>
  slowSyncs.get(operation.sync?.revision ?? '') ?? Math.max(0, ...(operation.sync?.revisions ?? []).map((r) => slowSyncs.get(r) ?? 50));
/** The overlay reader's mirrors, in a folder of this test's own. */
const mirrors = mkdtempSync(join(tmpdir(), 'slipway-argo-mirrors-'));
const readOverlayAt = createOverlayReader({ cacheDir: mirrors });

/** A fresh repository and Application per test, so tests don't see each other's commits. */
async function world(name: string) {
  const repo = new GitopsRepo();
  repos.push(repo);
  const first = repo.pushImages(GOOD, 'initial');
  await createApplication(kube.kubeConfig, { name, namespace: NS, repo });
  return { repo, first, app: { application: name, namespace: NS } };
}

beforeAll(async () => {
  kube = await startKubeApiServer();
  standIn = startArgoStandIn({ kubeConfig: kube.kubeConfig, namespace: NS, rules, resyncMs: 500, syncMs });
});

afterAll(async () => {
  await standIn?.stop();
  await kube?.stop();
  for (const repo of repos) repo.remove();
  rmSync(mirrors, { recursive: true, force: true });
});

describe('waitForHealthy (Argo CD stand-in)', () => {
  it('resolves once Argo CD is Synced and Healthy at the pushed commit', async () => {
    const { repo, app } = await world('todo-healthy');
    const argo = createArgoActivities({ kubeConfig: kube.kubeConfig, isAncestor: repo.isAncestor });
    const commit = repo.pushImages({ ...GOOD, 'todoapp/frontend': 'good-2' }, 'promote good-2');
    await argo.refreshApplication({ app, sync: false });

    const started = Date.now();
    const health = await argo.waitForHealthy({ app, commit, git: repo.target, timeoutMs: 20_000 });
    expect(health).toMatchObject({ revision: commit, sync: 'Synced', health: 'Healthy' });
    // The stand-in keeps it Progressing for 200 ms after the sync: the wait saw that through.
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);

    const stored = await readApplication(kube.kubeConfig, NS, 'todo-healthy');
    expect(stored.status?.operationState?.phase).toBe('Succeeded');
    expect(Date.parse(stored.status!.reconciledAt!)).toBeGreaterThanOrEqual(Date.parse(stored.status!.operationState!.finishedAt!));
    expect(stored.metadata.annotations?.['argocd.argoproj.io/refresh']).toBeUndefined();
  });

  it('accepts a later branch head that descends from the commit', async () => {
    const { repo, app } = await world('todo-descendant');
    const argo = createArgoActivities({ kubeConfig: kube.kubeConfig, isAncestor: repo.isAncestor });
    const commit = repo.pushImages({ ...GOOD, 'todoapp/backend': 'good-3' });
    const later = repo.pushUnrelated('someone else pushed after us');
    const health = await argo.waitForHealthy({ app, commit, git: repo.target, timeoutMs: 20_000 });
    expect(health).toMatchObject({ revision: later, sync: 'Synced', health: 'Healthy' });
  });

  it('fails fast with ApplicationDegraded and Argo CD\'s message, then succeeds after the good images are written back', async () => {
    const { repo, app, first } = await world('todo-degraded');
    const argo = createArgoActivities({ kubeConfig: kube.kubeConfig, isAncestor: repo.isAncestor });
    await argo.waitForHealthy({ app, commit: first, git: repo.target, timeoutMs: 20_000 });

    const bad = repo.pushImages({ ...GOOD, 'todoapp/frontend': 'bad-1' }, 'promote bad-1');
    await argo.refreshApplication({ app, sync: false });
    const started = Date.now();
    const failure = await rejectionOf(argo.waitForHealthy({ app, commit: bad, git: repo.target, timeoutMs: 60_000 }));
    expect(failure.type).toBe(FailureType.ApplicationDegraded);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('argocd/todo-degraded');
    expect(failure.message).toContain('Deployment/frontend');
    expect(failure.message).toContain('exceeded its progress deadline');
    expect(Date.now() - started).toBeLessThan(10_000);

    // The rollback's forward commit: the wait must not mistake the still-Degraded old state for the new commit's.
    const rollback = repo.pushImages(GOOD, 'rollback to good-1');
    await argo.refreshApplication({ app, sync: false });
    const health = await argo.waitForHealthy({ app, commit: rollback, git: repo.target, timeoutMs: 20_000 });
    expect(health).toMatchObject({ revision: rollback, sync: 'Synced', health: 'Healthy' });
  });

  it('fails with HealthDeadlineExceeded naming what it last saw when the rollout never finishes', async () => {
    const { repo, app } = await world('todo-stuck');
    const argo = createArgoActivities({ kubeConfig: kube.kubeConfig, isAncestor: repo.isAncestor });
    const stuck = repo.pushImages({ ...GOOD, 'todoapp/backend': 'stuck-1' }, 'promote stuck-1');
    await argo.refreshApplication({ app, sync: false });
    const started = Date.now();
    const failure = await rejectionOf(argo.waitForHealthy({ app, commit: stuck, git: repo.target, timeoutMs: 3000 }));
    const elapsed = Date.now() - started;
    expect(failure.type).toBe(FailureType.HealthDeadlineExceeded);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(`revision ${stuck.slice(0, 12)}, sync Synced, health Progressing`);
    expect(failure.message).toContain('Deployment/backend');
    expect(elapsed).toBeGreaterThanOrEqual(2900);
    expect(elapsed).toBeLessThan(6000);
  });

  it('with sync: true requests an Argo CD sync operation the controller runs (no auto-sync)', async () => {
    const repo = new GitopsRepo();
    repos.push(repo);
    const first = repo.pushImages(GOOD);
    await createApplication(kube.kubeConfig, { name: 'todo-manual', namespace: NS, repo, automated: false });
    const app = { application: 'todo-manual', namespace: NS };
    const argo = createArgoActivities({ kubeConfig: kube.kubeConfig, isAncestor: repo.isAncestor });
    // Without automated sync, a refresh only finds it OutOfSync; the deadline proves nothing syncs by itself.
    const alone = await rejectionOf(argo.waitForHealthy({ app, commit: first, git: repo.target, timeoutMs: 1500 }));
    expect(alone.type).toBe(FailureType.HealthDeadlineExceeded);
    expect(alone.message).toContain('sync OutOfSync');

    await argo.refreshApplication({ app, sync: true, revision: first });
    const health = await argo.waitForHealthy({ app, commit: first, git: repo.target, timeoutMs: 20_000 });
    expect(health).toMatchObject({ revision: first, sync: 'Synced', health: 'Healthy' });
    const stored = await readApplication(kube.kubeConfig, NS, 'todo-manual');
    expect(stored.operation).toBeUndefined();
    expect(stored.status?.operationState?.operation).toMatchObject({ sync: { revision: first }, initiatedBy: { username: 'slipway' } });
  });

  it('keeps waiting through an API server restart and completes', async () => {
    const { repo, app } = await world('todo-restart');
    const argo = createArgoActivities({ kubeConfig: kube.kubeConfig, isAncestor: repo.isAncestor });
    await argo.waitForHealthy({ app, commit: repo.git(repo.work, 'rev-parse', 'HEAD').trim(), git: repo.target, timeoutMs: 20_000 });

    // Stuck first, so the wait is in the middle of watching when the server goes away.
    rules.stuckTags.add('restart-1');
    const commit = repo.pushImages({ ...GOOD, 'todoapp/frontend': 'restart-1' });
    const waiting = argo.waitForHealthy({ app, commit, git: repo.target, timeoutMs: 40_000 });
    let settled = false;
    void waiting.finally(() => (settled = true)).catch(() => {});
    await new Promise((r) => setTimeout(r, 1000));
    expect(settled).toBe(false);

    await kube.restart();
    rules.stuckTags.delete('restart-1');
    const health = await waiting;
    expect(health).toMatchObject({ revision: commit, sync: 'Synced', health: 'Healthy' });
  });
});

describe('errors a retry cannot fix (Argo CD stand-in)', () => {
  it('a missing Application is ApplicationNotFound, naming namespace/application', async () => {
    const argo = createArgoActivities({ kubeConfig: kube.kubeConfig });
    const app = { application: 'no-such-app', namespace: NS };
    const wait = await rejectionOf(argo.waitForHealthy({ app, commit: 'a'.repeat(40), git: new GitopsRepo().target, timeoutMs: 5000 }));
    expect(wait.type).toBe(FailureType.ApplicationNotFound);
    expect(wait.nonRetryable).toBe(true);
    expect(wait.message).toContain('argocd/no-such-app');
    const refresh = await rejectionOf(argo.refreshApplication({ app, sync: false }));
    expect(refresh.type).toBe(FailureType.ApplicationNotFound);
    expect(refresh.message).toContain('argocd/no-such-app');
  });

  it('a user outside system:masters gets Forbidden from the real authorization filter', async () => {
    const { app, first, repo } = await world('todo-forbidden');
    const outsider = createArgoActivities({ kubeConfig: kube.kubeConfigFor('ci-bot', ['slipway:deployers']) });
    const refresh = await rejectionOf(outsider.refreshApplication({ app, sync: false }));
    expect(refresh.type).toBe(FailureType.Forbidden);
    expect(refresh.nonRetryable).toBe(true);
    expect(refresh.message).toContain('argocd/todo-forbidden');
    expect(refresh.message).toContain('User "ci-bot" cannot patch resource "applications"');
    const wait = await rejectionOf(outsider.waitForHealthy({ app, commit: first, git: repo.target, timeoutMs: 5000 }));
    expect(wait.type).toBe(FailureType.Forbidden);
  });
});

/** A manual-sync Application (no auto-sync) at a fresh repository's first commit. */
async function manualWorld(name: string) {
  const repo = new GitopsRepo();
  repos.push(repo);
  const first = repo.pushImages(GOOD, 'initial');
  await createApplication(kube.kubeConfig, { name, namespace: NS, repo, automated: false });
  const app = { application: name, namespace: NS };
  return { repo, first, app, argo: createArgoActivities({ kubeConfig: kube.kubeConfig, isAncestor: repo.isAncestor, readOverlayAt }) };
}

describe('sync requests are not lost to a running operation (Argo CD stand-in)', () => {
  it('a rollback sync requested while another sync is Running waits for it to end, then runs and is awaited healthy', async () => {
    const { repo, app, argo } = await manualWorld('todo-rollback-while-running');
    const ops = recordOperations(kube.kubeConfig, app);
    try {
      const bad = repo.pushImages({ ...GOOD, 'todoapp/frontend': 'bad-1' }, 'promote bad-1');
      slowSyncs.set(bad, 3000);
      await argo.refreshApplication({ app, sync: true, revision: bad });
      await ops.until((o) => o.revision === bad && o.phase === 'Running');

      // The compensation's forward commit, and its sync requested while bad-1's sync still runs.
      const rollback = repo.pushImages(GOOD, 'rollback to good-1');
      await argo.refreshApplication({ app, sync: true, revision: rollback });
      const health = await argo.waitForHealthy({ app, commit: rollback, git: repo.target, timeoutMs: 15_000 });
      expect(health).toMatchObject({ revision: rollback, sync: 'Synced', health: 'Healthy' });

      // bad-1's sync ran to its end before ours started: nothing was written over it.
      const badEnd = ops.seen.findIndex((o) => o.revision === bad && o.phase === 'Succeeded');
      const oursStart = ops.seen.findIndex((o) => o.revision === rollback && o.phase === 'Running');
      expect(badEnd).toBeGreaterThanOrEqual(0);
      expect(oursStart).toBeGreaterThan(badEnd);
      const stored = await readApplication(kube.kubeConfig, NS, app.application);
      expect(stored.operation).toBeUndefined();
      expect(stored.status?.operationState).toMatchObject({ phase: 'Succeeded', operation: { sync: { revision: rollback }, initiatedBy: { username: 'slipway' } } });
    } finally {
      ops.stop();
    }
  });

  it("with runningOperation 'terminate' ends the running sync (Terminating → Failed, Operation terminated) and syncs ours without waiting it out", async () => {
    const { repo, app, argo } = await manualWorld('todo-terminate-running');
    const ops = recordOperations(kube.kubeConfig, app);
    try {
      const stuck = repo.pushImages({ ...GOOD, 'todoapp/backend': 'bad-1' }, 'promote bad-1');
      slowSyncs.set(stuck, 60_000);
      await argo.refreshApplication({ app, sync: true, revision: stuck });
      await ops.until((o) => o.revision === stuck && o.phase === 'Running');

      const rollback = repo.pushImages(GOOD, 'rollback to good-1');
      const started = Date.now();
      await argo.refreshApplication({ app, sync: true, revision: rollback, runningOperation: 'terminate' });
      const health = await argo.waitForHealthy({ app, commit: rollback, git: repo.target, timeoutMs: 15_000 });
      expect(health).toMatchObject({ revision: rollback, sync: 'Synced', health: 'Healthy' });
      expect(Date.now() - started).toBeLessThan(15_000);

      expect(ops.seen).toContainEqual(expect.objectContaining({ revision: stuck, phase: 'Terminating' }));
      expect(ops.seen).toContainEqual({ revision: stuck, phase: 'Failed', message: 'Operation terminated' });
      const stored = await readApplication(kube.kubeConfig, NS, app.application);
      expect(stored.status?.history?.map((h) => h.revision)).not.toContain(stuck);
      expect(stored.status?.operationState).toMatchObject({ phase: 'Succeeded', operation: { sync: { revision: rollback } } });
    } finally {
      ops.stop();
    }
  });
});

describe('sync requests within their bounds (Argo CD stand-in)', () => {
  it('gives up retryably at its deadline while another sync still runs (outside an activity: operationWaitMs; inside: the attempt\'s timeout), naming it, heartbeating, ends when cancelled, and requests nothing', async () => {
    const { repo, app } = await manualWorld('todo-running-past-deadline');
    const argo = createArgoActivities({ kubeConfig: kube.kubeConfig, isAncestor: repo.isAncestor, readOverlayAt, operationWaitMs: 1500 });
    const ops = recordOperations(kube.kubeConfig, app);
    try {
      const long = repo.pushImages({ ...GOOD, 'todoapp/frontend': 'good-8' }, 'promote good-8');
      slowSyncs.set(long, 60_000);
      await argo.refreshApplication({ app, sync: true, revision: long });
      await ops.until((o) => o.revision === long && o.phase === 'Running');

      const next = repo.pushImages(GOOD, 'rollback to good-1');
      const started = Date.now();
      const failure = await rejectionOf(argo.refreshApplication({ app, sync: true, revision: next }));
      expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
      expect(failure.nonRetryable).toBeFalsy();
      expect(failure.message).toContain(`the sync of ${long.slice(0, 12)} (running since`);
      expect(failure.message).toContain(`the sync of ${next.slice(0, 12)} was not requested`);
      const stored = await readApplication(kube.kubeConfig, NS, app.application);
      expect(stored.operation?.sync?.revision).toBe(long);

      // Inside an activity: bounded by the attempt's start-to-close timeout, heartbeating what it waits for.
      const beats: unknown[] = [];
      const inActivity = <T>(info: Partial<Context['info']>, cancel: AbortController, fn: () => Promise<T>) =>
        asyncLocalStorage.run(
          { info, cancellationSignal: cancel.signal, heartbeat: (d: unknown) => beats.push(d), log: { info() {}, warn() {} } } as unknown as Context,
          fn,
        );
      const beating = createArgoActivities({ kubeConfig: kube.kubeConfig, heartbeatIntervalMs: 200 });
      const attemptStart = Date.now();
      const timedOut = await rejectionOf(
        inActivity({ currentAttemptScheduledTimestampMs: attemptStart, scheduledTimestampMs: attemptStart, startToCloseTimeoutMs: 2500 }, new AbortController(), () =>
          beating.refreshApplication({ app, sync: true, revision: next }),
        ),
      );
      expect(timedOut.message).toContain('had not ended when this attempt ran out of time');
      expect(Date.now() - attemptStart).toBeGreaterThanOrEqual(2000);
      expect(Date.now() - attemptStart).toBeLessThan(2500);
      expect(beats.length).toBeGreaterThanOrEqual(3);
      expect(beats.at(-1)).toMatchObject({ syncing: next.slice(0, 12), state: expect.stringContaining(`waiting for the sync of ${long.slice(0, 12)}`) });

      // …and ends as soon as the activity is cancelled.
      const cancel = new AbortController();
      const cancelledAt = Date.now();
      const cancelled = rejectionOf(
        inActivity({ currentAttemptScheduledTimestampMs: cancelledAt, scheduledTimestampMs: cancelledAt, startToCloseTimeoutMs: 60_000 }, cancel, () =>
          beating.refreshApplication({ app, sync: true, revision: next }),
        ),
      );
      setTimeout(() => cancel.abort(new Error('activity cancelled')), 300);
      expect((await cancelled).message).toBe('activity cancelled');
      expect(Date.now() - cancelledAt).toBeLessThan(1500);
      expect((await readApplication(kube.kubeConfig, NS, app.application)).operation?.sync?.revision).toBe(long);

      // Terminated, so the long sync does not outlive the test.
      await argo.refreshApplication({ app, sync: true, revision: next, runningOperation: 'terminate' });
    } finally {
      ops.stop();
    }
  });

  it('asked twice for the same revision (a retried request) runs one sync', async () => {
    const { repo, app, argo } = await manualWorld('todo-asked-twice');
    const ops = recordOperations(kube.kubeConfig, app);
    try {
      const commit = repo.pushImages({ ...GOOD, 'todoapp/backend': 'good-9' }, 'promote good-9');
      slowSyncs.set(commit, 1500);
      await argo.refreshApplication({ app, sync: true, revision: commit });
      await argo.refreshApplication({ app, sync: true, revision: commit });
      await argo.waitForHealthy({ app, commit, git: repo.target, timeoutMs: 15_000 });
      await argo.refreshApplication({ app, sync: true, revision: commit });
      await new Promise((r) => setTimeout(r, 500));
      expect(ops.seen.filter((o) => o.revision === commit && o.phase === 'Running')).toHaveLength(1);
    } finally {
      ops.stop();
    }
  });
});

describe('multi-source Applications (Argo CD stand-in)', () => {
  it('are synced and judged by status.sync.revisions at the position of the GitOps repository\'s source', async () => {
    const repo = new GitopsRepo();
    const values = new GitopsRepo();
    repos.push(repo, values);
    const valuesHead = values.pushUnrelated('values for the chart');
    repo.pushImages(GOOD, 'initial');
    const name = 'todo-multi-source';
    // The GitOps repository is the second source: the first only lends files (a `ref` source).
    await createApplication(kube.kubeConfig, {
      name,
      namespace: NS,
      repo,
      automated: false,
      sources: [{ repoURL: `file://${values.bare}`, targetRevision: 'main', ref: 'values' }, { ...repo.source, repoURL: `file://${repo.bare}/` }],
    });
    const app = { application: name, namespace: NS };
    const argo = createArgoActivities({ kubeConfig: kube.kubeConfig, isAncestor: repo.isAncestor, readOverlayAt });

    const commit = repo.pushImages({ ...GOOD, 'todoapp/frontend': 'good-4' }, 'promote good-4');
    await argo.refreshApplication({ app, sync: true, revision: commit, git: repo.target });
    const health = await argo.waitForHealthy({ app, commit, git: repo.target, timeoutMs: 15_000 });
    expect(health).toMatchObject({ revision: commit, sync: 'Synced', health: 'Healthy' });

    const stored = await readApplication(kube.kubeConfig, NS, name);
    expect(stored.status?.sync?.revision).toBeUndefined();
    expect(stored.status?.sync?.revisions).toEqual([valuesHead, commit]);
    expect(stored.status?.operationState?.operation?.sync?.revisions?.[1]).toBe(commit);
    expect(stored.status?.operationState?.syncResult?.revisions).toEqual([valuesHead, commit]);
  });
});

describe('a later commit counts as ours only while it holds our images (Argo CD stand-in)', () => {
  const wrote = (images: Record<string, string>) => Object.entries(images).map(([name, newTag]) => ({ name, newTag }));

  it('fails Superseded, naming the later commit and its images, when Argo CD reports a descendant that changed our images', async () => {
    const repo = new GitopsRepo();
    repos.push(repo);
    repo.pushImages(GOOD, 'initial');
    const ours = { ...GOOD, 'todoapp/frontend': 'good-5' };
    const commit = repo.pushImages(ours, 'promote good-5');
    const later = repo.pushImages({ ...GOOD, 'todoapp/frontend': 'good-6' }, 'someone promoted good-6 after us');
    // Created after both pushes, so Argo CD only ever reports the later commit.
    await createApplication(kube.kubeConfig, { name: 'todo-superseded', namespace: NS, repo });
    const app = { application: 'todo-superseded', namespace: NS };
    const argo = createArgoActivities({ kubeConfig: kube.kubeConfig, isAncestor: repo.isAncestor, readOverlayAt });

    const failure = await rejectionOf(argo.waitForHealthy({ app, commit, git: repo.target, timeoutMs: 15_000, images: wrote(ours), overlay: OVERLAY }));
    expect(failure.type).toBe(FailureType.Superseded);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(later.slice(0, 12));
    expect(failure.message).toContain('todoapp/frontend:good-6');
    expect(failure.message).toContain('todoapp/frontend:good-5');
  });

  it('accepts a descendant that leaves our images as they are', async () => {
    const { repo, app } = await world('todo-descendant-same-images');
    const argo = createArgoActivities({ kubeConfig: kube.kubeConfig, isAncestor: repo.isAncestor, readOverlayAt });
    const ours = { ...GOOD, 'todoapp/backend': 'good-7' };
    const commit = repo.pushImages(ours, 'promote good-7');
    const later = repo.pushUnrelated('docs after us');
    const health = await argo.waitForHealthy({ app, commit, git: repo.target, timeoutMs: 15_000, images: wrote(ours), overlay: OVERLAY });
    expect(health).toMatchObject({ revision: later, sync: 'Synced', health: 'Healthy' });
  });
});
