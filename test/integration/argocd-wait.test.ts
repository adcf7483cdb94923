/**
 * The Argo CD activities against a real Kubernetes API server (etcd + apiextensions-apiserver)
 * and the Argo CD stand-in reading a real git repository: the overlay commit decides the outcome.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArgoActivities } from '../../activities/argocd/index.js';
import { FailureType } from '../../activities/types.js';
import { startArgoStandIn, type ArgoStandIn } from '../../infra/argocd-standin/index.js';
import { startKubeApiServer, type KubeApiServer } from '../../infra/kube/index.js';
import { GitopsRepo, createApplication, readApplication, rejectionOf } from '../support/argocd-fixture.js';

const NS = 'argocd';
const GOOD = { 'todoapp/frontend': 'good-1', 'todoapp/backend': 'good-1' };

let kube: KubeApiServer;
let standIn: ArgoStandIn;
const repos: GitopsRepo[] = [];
const rules = { badTags: new Set(['bad-1']), stuckTags: new Set(['stuck-1']), progressingMs: 200 };

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
  standIn = startArgoStandIn({ kubeConfig: kube.kubeConfig, namespace: NS, rules, resyncMs: 500 });
});

afterAll(async () => {
  await standIn?.stop();
  await kube?.stop();
  for (const repo of repos) repo.remove();
});

describe('waitForHealthy', () => {
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

describe('errors a retry cannot fix', () => {
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
