/**
 * The Argo CD gate re-checked against the real Argo CD (application-controller + repo-server) on
 * the suite's shared cluster: a real Kubernetes control plane whose kwok nodes run the pods. Each
 * test has its own GitOps repository, Application and destination namespace. Health comes from
 * Argo CD's own assessment of real Deployments: a build whose pods never become Ready
 * (`unreadyBuild()`) is Progressing until its Deployment's progressDeadlineSeconds passes, then
 * Degraded ("Caused by apps/Deployment:<namespace>/<name>").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applicationApi, createArgoActivities } from '../../activities/argocd/index.js';
import { createOverlayReader } from '../../activities/gitops/read-at-revision.js';
import { FailureType } from '../../activities/types.js';
import { GitopsRepo, createApplication, readApplication, recordOperations, rejectionOf, type Workload } from '../support/argocd-fixture.js';
import { deleteApplications, sharedCluster, unreadyBuild } from '../support/cluster.js';

const NS = 'argocd';
const cluster = sharedCluster();
const GOOD = { 'todoapp/frontend': 'good-1', 'todoapp/backend': 'good-1' };
/** Short enough that a bad build is Degraded within a test's patience. */
const FAILS_FAST: Workload = { progressDeadlineSeconds: 4 };
/** Kubernetes' default: a bad build stays Progressing for ten minutes. */
const FAILS_SLOWLY: Workload = { progressDeadlineSeconds: 600 };

const repos: GitopsRepo[] = [];
const applications: string[] = [];
const mirrors = mkdtempSync(join(tmpdir(), 'slipway-argo-real-mirrors-'));
const readOverlayAt = createOverlayReader({ cacheDir: mirrors });
let serial = 0;

/** A fresh repository, an Application of it deploying into a namespace of its own, and the activities. */
async function world(o: { workload?: Workload; automated?: boolean; finalizers?: string[] } = {}) {
  const repo = new GitopsRepo(o.workload ?? FAILS_FAST);
  repos.push(repo);
  const first = repo.pushImages(GOOD, 'initial');
  const name = `gate-${++serial}-${process.pid}`;
  applications.push(name);
  await createApplication(cluster.kubeConfig, { name, namespace: NS, repo, automated: o.automated, destinationNamespace: name, finalizers: o.finalizers });
  const app = { application: name, namespace: NS };
  const argo = createArgoActivities({ kubeConfig: cluster.kubeConfig, isAncestor: repo.isAncestor, readOverlayAt });
  return { repo, first, app, name, argo };
}

async function deployedImages(namespace: string): Promise<Record<string, string>> {
  const list = await cluster.kubeConfig.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace });
  return Object.fromEntries(list.items.map((d) => [d.metadata!.name!, d.spec!.template.spec!.containers[0]!.image!]));
}

beforeAll(() => {
  console.log(`Argo CD gate against the real ${cluster.describe}`);
});

afterAll(async () => {
  await deleteApplications(cluster.kubeConfig, applications);
  for (const repo of repos) repo.remove();
  rmSync(mirrors, { recursive: true, force: true });
});

describe(`the Argo CD gate on the real ${cluster.describe}`, () => {
  it('a healthy promotion: Synced and Healthy at the pushed commit, the Deployments running its images', async () => {
    const { repo, app, name, argo } = await world();
    const commit = repo.pushImages({ ...GOOD, 'todoapp/frontend': 'good-2' }, 'promote good-2');
    await argo.refreshApplication({ app, sync: false });
    const health = await argo.waitForHealthy({ app, commit, git: repo.target, timeoutMs: 60_000 });
    expect(health).toMatchObject({ revision: commit, sync: 'Synced', health: 'Healthy' });

    expect(await deployedImages(name)).toEqual({ frontend: 'todoapp/frontend:good-2', backend: 'todoapp/backend:good-1' });
    const stored = await readApplication(cluster.kubeConfig, NS, name);
    expect(stored.status?.operationState?.phase).toBe('Succeeded');
    expect(stored.status?.operationState?.operation?.initiatedBy?.automated).toBe(true);
    // The refresh annotation was taken by the controller.
    expect(stored.metadata.annotations?.['argocd.argoproj.io/refresh']).toBeUndefined();
  });

  it("Degraded by Argo CD's own health assessment fails at once with its message; the rollback commit is then awaited Healthy at that commit", async () => {
    const { repo, app, name, argo, first } = await world();
    await argo.waitForHealthy({ app, commit: first, git: repo.target, timeoutMs: 60_000 });

    const bad = repo.pushImages({ ...GOOD, 'todoapp/frontend': unreadyBuild() }, 'promote a build that never becomes ready');
    await argo.refreshApplication({ app, sync: false });
    const failure = await rejectionOf(argo.waitForHealthy({ app, commit: bad, git: repo.target, timeoutMs: 60_000 }));
    expect(failure.type).toBe(FailureType.ApplicationDegraded);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(`argocd/${name} is Degraded at ${bad.slice(0, 12)}`);
    // Argo CD's own health message (resource health is not persisted in the Application by default in Argo CD 3).
    expect(failure.message).toContain(`Caused by apps/Deployment:${name}/frontend`);

    // The rollback's forward commit: the still-Degraded state of the bad commit must not be taken for it.
    const rollback = repo.pushImages(GOOD, 'rollback to good-1');
    await argo.refreshApplication({ app, sync: false });
    const health = await argo.waitForHealthy({ app, commit: rollback, git: repo.target, timeoutMs: 60_000 });
    expect(health).toMatchObject({ revision: rollback, sync: 'Synced', health: 'Healthy' });
    expect((await deployedImages(name)).frontend).toBe('todoapp/frontend:good-1');
  });

  it('a rollout stuck Progressing fails HealthDeadlineExceeded at our deadline, naming what it saw', async () => {
    const { repo, app, name, argo } = await world({ workload: FAILS_SLOWLY });
    const stuck = repo.pushImages({ ...GOOD, 'todoapp/backend': unreadyBuild() }, 'promote a build that never becomes ready');
    await argo.refreshApplication({ app, sync: false });
    const started = Date.now();
    const failure = await rejectionOf(argo.waitForHealthy({ app, commit: stuck, git: repo.target, timeoutMs: 8000 }));
    expect(failure.type).toBe(FailureType.HealthDeadlineExceeded);
    expect(failure.message).toContain(`revision ${stuck.slice(0, 12)}, sync Synced, health Progressing`);
    expect(failure.message).toContain(`Caused by apps/Deployment:${name}/backend`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(7900);

    // The rollback lands and is healthy although the stuck rollout never finished.
    const rollback = repo.pushImages(GOOD, 'rollback');
    await argo.refreshApplication({ app, sync: false });
    expect(await argo.waitForHealthy({ app, commit: rollback, git: repo.target, timeoutMs: 60_000 })).toMatchObject({ revision: rollback, health: 'Healthy' });
  });

  it('without auto-sync nothing moves on a refresh alone; sync: true requests an operation the controller runs, initiated by slipway', async () => {
    const { repo, app, name, argo } = await world({ automated: false });
    const commit = repo.pushImages({ ...GOOD, 'todoapp/backend': 'good-3' }, 'promote good-3');
    await argo.refreshApplication({ app, sync: false });
    const alone = await rejectionOf(argo.waitForHealthy({ app, commit, git: repo.target, timeoutMs: 5000 }));
    expect(alone.type).toBe(FailureType.HealthDeadlineExceeded);
    expect(alone.message).toContain('sync OutOfSync');

    await argo.refreshApplication({ app, sync: true, revision: commit, git: repo.target });
    const health = await argo.waitForHealthy({ app, commit, git: repo.target, timeoutMs: 60_000 });
    expect(health).toMatchObject({ revision: commit, sync: 'Synced', health: 'Healthy' });
    const stored = await readApplication(cluster.kubeConfig, NS, name);
    expect(stored.operation).toBeUndefined();
    expect(stored.status?.operationState?.operation).toMatchObject({ sync: { revision: commit }, initiatedBy: { username: 'slipway' } });
    expect((await deployedImages(name)).backend).toBe('todoapp/backend:good-3');
  });

  it("a sync requested while another is Running: 'wait' gives up retryably naming it and requests nothing; 'terminate' ends it and ours runs to Healthy", async () => {
    // Wave 1 waits for the Deployments of wave 0 to be healthy: a sync of a never-ready build stays Running.
    const { repo, app, name } = await world({ automated: false, workload: { progressDeadlineSeconds: 600, laterWave: true } });
    const patient = createArgoActivities({ kubeConfig: cluster.kubeConfig, isAncestor: repo.isAncestor, readOverlayAt, operationWaitMs: 3000 });
    const ops = recordOperations(cluster.kubeConfig, app);
    try {
      const stuck = repo.pushImages({ ...GOOD, 'todoapp/frontend': unreadyBuild() }, 'promote a build that never becomes ready');
      await patient.refreshApplication({ app, sync: true, revision: stuck, git: repo.target });
      await ops.until((o) => o.revision === stuck && o.phase === 'Running', 30_000);

      const rollback = repo.pushImages(GOOD, 'rollback');
      const gaveUp = await rejectionOf(patient.refreshApplication({ app, sync: true, revision: rollback, git: repo.target, runningOperation: 'wait' }));
      expect(gaveUp.type).toBe('ArgoOperationInProgress');
      expect(gaveUp.nonRetryable).toBeFalsy();
      expect(gaveUp.message).toContain(`the sync of ${stuck.slice(0, 12)} (running`);
      expect(gaveUp.message).toContain('was not requested');
      expect(ops.seen.some((o) => o.revision === rollback)).toBe(false);

      await patient.refreshApplication({ app, sync: true, revision: rollback, git: repo.target, runningOperation: 'terminate' });
      const health = await patient.waitForHealthy({ app, commit: rollback, git: repo.target, timeoutMs: 60_000 });
      expect(health).toMatchObject({ revision: rollback, sync: 'Synced', health: 'Healthy' });
      expect(ops.seen).toContainEqual(expect.objectContaining({ revision: stuck, phase: 'Terminating' }));
      expect(ops.seen).toContainEqual(expect.objectContaining({ revision: stuck, phase: 'Failed' }));
      const stored = await readApplication(cluster.kubeConfig, NS, name);
      expect(stored.status?.operationState).toMatchObject({ phase: 'Succeeded', operation: { sync: { revision: rollback } } });
    } finally {
      ops.stop();
    }
  });

  it("a multi-source Application is synced and judged at the GitOps repository's entry of status.sync.revisions", async () => {
    const repo = new GitopsRepo(FAILS_FAST);
    const values = new GitopsRepo();
    repos.push(repo, values);
    const valuesHead = values.pushUnrelated('values for the chart');
    repo.pushImages(GOOD, 'initial');
    const name = `gate-multi-${process.pid}`;
    applications.push(name);
    await createApplication(cluster.kubeConfig, {
      name,
      namespace: NS,
      repo,
      automated: false,
      destinationNamespace: name,
      sources: [{ repoURL: `file://${values.bare}`, targetRevision: 'main', ref: 'values' }, repo.source],
    });
    const app = { application: name, namespace: NS };
    const argo = createArgoActivities({ kubeConfig: cluster.kubeConfig, isAncestor: repo.isAncestor, readOverlayAt });
    const commit = repo.pushImages({ ...GOOD, 'todoapp/frontend': 'good-4' }, 'promote good-4');
    await argo.refreshApplication({ app, sync: true, revision: commit, git: repo.target });
    const health = await argo.waitForHealthy({ app, commit, git: repo.target, timeoutMs: 60_000 });
    expect(health).toMatchObject({ revision: commit, sync: 'Synced', health: 'Healthy' });

    const stored = await readApplication(cluster.kubeConfig, NS, name);
    expect(stored.status?.sync?.revisions).toEqual([valuesHead, commit]);
    expect(stored.status?.operationState?.syncResult?.revisions).toEqual([valuesHead, commit]);
    expect((await deployedImages(name)).frontend).toBe('todoapp/frontend:good-4');
  });

  it('the Application deleted mid-wait ends the wait ApplicationNotFound — also while Argo CD is still deleting its resources (a cascading delete)', async () => {
    const api = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    for (const cascade of [false, true]) {
      // With Argo CD's resources finalizer the Application lingers until its resources are gone; one of them is held.
      const { repo, app, name, argo } = await world({
        workload: { ...FAILS_SLOWLY, heldOnDelete: cascade },
        finalizers: cascade ? ['resources-finalizer.argocd.argoproj.io'] : undefined,
      });
      const stuck = repo.pushImages({ ...GOOD, 'todoapp/frontend': unreadyBuild() }, 'never ready');
      await argo.refreshApplication({ app, sync: false });
      const waiting = rejectionOf(argo.waitForHealthy({ app, commit: stuck, git: repo.target, timeoutMs: 60_000 }));
      await new Promise((r) => setTimeout(r, 1500));
      const started = Date.now();
      await api.deleteNamespacedCustomObject({ ...applicationApi, namespace: NS, name });
      const failure = await waiting;
      expect(failure.type).toBe(FailureType.ApplicationNotFound);
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toContain(`argocd/${name}`);
      expect(Date.now() - started).toBeLessThan(10_000);
      if (cascade) {
        expect(failure.message).toContain('is being deleted');
        // The Application is still there, held by its cascade: the wait did not wait for it to go.
        expect((await readApplication(cluster.kubeConfig, NS, name)).metadata.deletionTimestamp).toBeDefined();
        await core.patchNamespacedConfigMap(
          { namespace: name, name: 'held', body: { metadata: { finalizers: null } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
      }
    }
  });
});
