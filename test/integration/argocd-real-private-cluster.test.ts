/**
 * What needs a real cluster of its own rather than the suite's shared one: restarting
 * kube-apiserver under a wait (every other file would see it go away), and the shipped
 * `infra/k8s` applied as a user applies it (its Role names the example's Applications, which a
 * shared cluster's other tests may use). The cluster is the same kind as the shared one:
 * Kubernetes' control plane with RBAC authorization, kwok nodes and the real Argo CD.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type KubernetesObject, type V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { applicationApi, createArgoActivities } from '../../activities/argocd/index.js';
import { isAncestor } from '../../activities/gitops/index.js';
import { FailureType } from '../../activities/types.js';
import { createObjects } from '../../infra/cluster/apply.js';
import { startRealCluster, type RealCluster } from '../../infra/cluster/index.js';
import { createApplications, exampleApplications } from '../../infra/demo/applications.js';
import { seedGitopsRepo, type SeededRepo } from '../../infra/examples/seed-repo.js';
import { groupAlive } from '../../infra/kube/index.js';
import { kustomizePath } from '../../infra/kustomize.js';
import { GitopsRepo, createApplication, rejectionOf } from '../support/argocd-fixture.js';

let cluster: RealCluster;
let dir: string;
const repos: GitopsRepo[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'slipway-private-cluster-'));
  cluster = await startRealCluster({ dir: join(dir, 'cluster'), log: (l) => console.log(l) });
});

afterAll(async () => {
  const pids = cluster ? Object.values(cluster.pids()) : [];
  await cluster?.stop();
  // Teardown leaves no process of the cluster behind.
  expect(pids.filter((pid) => groupAlive(pid))).toEqual([]);
  for (const repo of repos) repo.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a wait on the real Argo CD across a kube-apiserver restart', () => {
  it('keeps watching through the restart and completes Healthy at the commit', async () => {
    const repo = new GitopsRepo({ progressDeadlineSeconds: 30 });
    repos.push(repo);
    repo.pushImages({ 'todoapp/frontend': 'good-1' }, 'initial');
    await createApplication(cluster.kubeConfig, { name: 'restart', namespace: 'argocd', repo, destinationNamespace: 'restart' });
    const app = { application: 'restart', namespace: 'argocd' };
    const argo = createArgoActivities({ kubeConfig: cluster.kubeConfig, isAncestor: repo.isAncestor });
    await argo.waitForHealthy({ app, commit: repo.head(), git: repo.target, timeoutMs: 60_000 });

    // Pushed, but Argo CD is not asked to look until after the restart: the wait is mid-watch when the server goes.
    const commit = repo.pushImages({ 'todoapp/frontend': 'good-2' }, 'promote good-2');
    let settled = false;
    const waiting = argo.waitForHealthy({ app, commit, git: repo.target, timeoutMs: 90_000 });
    void waiting.finally(() => (settled = true)).catch(() => {});
    await new Promise((r) => setTimeout(r, 1000));
    await cluster.restartApiServer();
    expect(settled).toBe(false);
    await argo.refreshApplication({ app, sync: false });
    expect(await waiting).toMatchObject({ revision: commit, sync: 'Synced', health: 'Healthy' });
  });
});

describe('infra/k8s applied with RBAC authorization on', () => {
  let repo: SeededRepo;
  let objects: KubernetesObject[];

  beforeAll(async () => {
    const rendered = execFileSync(kustomizePath(), ['build', join(process.cwd(), 'infra/k8s')], { encoding: 'utf8' });
    objects = parseAllDocuments(rendered).map((d) => d.toJS() as KubernetesObject);
    await createObjects(cluster.kubeConfig, objects);
    repo = await seedGitopsRepo(dir, { deployment: { progressDeadlineSeconds: 30 } });
    await createApplications(cluster.kubeConfig, exampleApplications(repo.bareUrl));
    // An Application the Role does not name.
    const other = new GitopsRepo({ progressDeadlineSeconds: 30 });
    repos.push(other);
    other.pushImages({ 'todoapp/frontend': 'good-1' });
    await createApplication(cluster.kubeConfig, { name: 'someone-elses', namespace: 'argocd', repo: other, destinationNamespace: 'someone-elses' });
  });

  it('keeps the backup volume and the containers’ security contexts as written: the claim binds, and the pods are admitted and scheduled', async () => {
    const apps = cluster.kubeConfig.makeApiClient(AppsV1Api);
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    for (const name of ['slipway-worker', 'slipway-webhook']) {
      const written = objects.find((o) => o.kind === 'Deployment' && o.metadata?.name === name) as V1Deployment;
      const stored = await apps.readNamespacedDeployment({ name, namespace: 'slipway' });
      // The API server kept every field of the pod's and the containers' security contexts (none dropped as unknown).
      expect(stored.spec?.template.spec?.securityContext, name).toMatchObject(written.spec!.template.spec!.securityContext!);
      for (const container of written.spec!.template.spec!.containers) {
        const kept = stored.spec?.template.spec?.containers.find((c) => c.name === container.name);
        expect(kept?.securityContext, `${name}/${container.name}`).toMatchObject(container.securityContext!);
      }
    }
    expect(JSON.stringify(objects.find((o) => o.metadata?.name === 'slipway-worker'))).toContain('slipway-backups');
    // The worker's pod is created by the ReplicaSet controller (admission takes its spec), scheduled
    // onto a node, and its claim is bound by the cluster's provisioner.
    const deadline = Date.now() + 90_000;
    let last = '';
    for (;;) {
      const pods = (await core.listNamespacedPod({ namespace: 'slipway', labelSelector: 'app.kubernetes.io/name=slipway,app.kubernetes.io/component=worker' })).items;
      const claim = await core.readNamespacedPersistentVolumeClaim({ name: 'slipway-backups', namespace: 'slipway' });
      last = `pods ${pods.map((p) => `${p.metadata?.name}@${p.spec?.nodeName ?? '-'}:${p.status?.phase}`).join(',') || 'none'}, claim ${claim.status?.phase}`;
      if (pods.some((p) => p.spec?.nodeName) && claim.status?.phase === 'Bound') break;
      if (Date.now() > deadline) throw new Error(`the worker was not scheduled with its volume bound within 90 s: ${last}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }, 120_000);

  it("the slipway ServiceAccount's token is enough for a release: refresh, sync and wait on the Applications slipway.yaml names", async () => {
    const { kubeConfig } = await cluster.serviceAccountKubeConfig('slipway', 'slipway');
    const argo = createArgoActivities({ kubeConfig, isAncestor });
    for (const env of ['staging', 'production']) {
      const app = { application: `todoapp-${env}`, namespace: 'argocd' };
      await argo.refreshApplication({ app, sync: false });
      await argo.refreshApplication({ app, sync: true, revision: repo.commit, git: repo.git });
      const health = await argo.waitForHealthy({ app, commit: repo.commit, git: repo.git, timeoutMs: 90_000 });
      expect(health).toMatchObject({ revision: repo.commit, sync: 'Synced', health: 'Healthy' });
    }
  });

  it('and for nothing more: another Application, deleting one, Secrets and Deployments are Forbidden', async () => {
    const { kubeConfig } = await cluster.serviceAccountKubeConfig('slipway', 'slipway');
    const argo = createArgoActivities({ kubeConfig, isAncestor });
    const foreign = await rejectionOf(argo.refreshApplication({ app: { application: 'someone-elses', namespace: 'argocd' }, sync: false }));
    expect(foreign.type).toBe(FailureType.Forbidden);
    expect(foreign.message).toContain('system:serviceaccount:slipway:slipway');

    const status = (p: Promise<unknown>) => p.then(() => 200, (err: { code?: number }) => err.code);
    const custom = kubeConfig.makeApiClient(CustomObjectsApi);
    expect(await status(custom.deleteNamespacedCustomObject({ ...applicationApi, namespace: 'argocd', name: 'todoapp-staging' }))).toBe(403);
    expect(await status(custom.listNamespacedCustomObject({ ...applicationApi, namespace: 'argocd' }))).toBe(403);
    const core = kubeConfig.makeApiClient(CoreV1Api);
    expect(await status(core.listNamespacedSecret({ namespace: 'slipway' }))).toBe(403);
    expect(await status(core.listNamespacedSecret({ namespace: 'argocd' }))).toBe(403);
    expect(await status(core.listNamespacedPod({ namespace: 'staging' }))).toBe(403);
    // The admin still sees the Application: the refusals are RBAC's, not a missing object.
    const admin = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    expect(await status(admin.getNamespacedCustomObject({ ...applicationApi, namespace: 'argocd', name: 'todoapp-staging' }))).toBe(200);
  });
});
