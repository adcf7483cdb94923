/**
 * Tier: integration (the suite's shared cluster: a real Kubernetes control plane with kwok nodes
 * and the real Argo CD; no Temporal). The preview Applications of activities/argocd/preview-
 * application.ts: made from a GitopsRepo overlay, synced by Argo CD itself to Healthy, brought up
 * to date, deleted with what they deployed, listed by label — and an Application of the same name
 * that is not a preview refused and left as it was. Names are this file's own (prefixed with the
 * process id), as the shared cluster asks.
 */
import { AppsV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applicationApi } from '../../activities/argocd/index.js';
import { deletePreviewApplication, ensurePreviewApplication, listPreviewApplications } from '../../activities/argocd/preview-application.js';
import { PREVIEW_LABEL, RESOURCES_FINALIZER, previewLabels, type PreviewApplication, type PreviewApplicationInput } from '../../activities/argocd/preview-manifest.js';
import { FailureType } from '../../activities/types.js';
import { GitopsRepo, OVERLAY, createApplication, readApplication, rejectionOf } from '../support/argocd-fixture.js';
import { deleteApplications, sharedCluster } from '../support/cluster.js';

const NS = 'argocd';
const cluster = sharedCluster();
const deps = { kubeConfig: cluster.kubeConfig };
const APP = `todoapp-${process.pid}`;
const GOOD = { 'todoapp/frontend': 'pr-1', 'todoapp/backend': 'pr-1' };

const repos: GitopsRepo[] = [];
const applications: string[] = [];
let serial = 0;

/** A fresh repository with the overlay at its first commit, and a preview's name of this file's own. */
function world() {
  const repo = new GitopsRepo({ progressDeadlineSeconds: 30 });
  repos.push(repo);
  const first = repo.pushImages(GOOD, 'initial');
  const name = `preview-${process.pid}-${++serial}`;
  applications.push(name);
  const input = (over: Partial<PreviewApplicationInput> = {}): PreviewApplicationInput => ({
    application: name,
    namespace: NS,
    repoURL: repo.source.repoURL,
    path: OVERLAY,
    targetRevision: first,
    destination: { namespace: name },
    labels: previewLabels(APP, serial),
    ...over,
  });
  return { repo, first, name, input };
}

async function deployedImages(namespace: string): Promise<Record<string, string>> {
  const list = await cluster.kubeConfig.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace });
  return Object.fromEntries(list.items.map((d) => [d.metadata!.name!, d.spec!.template.spec!.containers[0]!.image!]));
}

/** Polls until `check` holds (it throws or returns false meanwhile), or fails with what it saw last. */
async function eventually<T>(what: string, probe: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      last = value;
      if (check(value)) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms; last seen: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
}

const read = (name: string) => readApplication(cluster.kubeConfig, NS, name) as Promise<PreviewApplication>;
const settled = (app: PreviewApplication, revision: string) =>
  app.status?.sync?.status === 'Synced' && app.status.sync.revision === revision && app.status.health?.status === 'Healthy' && app.status.operationState?.phase === 'Succeeded';

beforeAll(() => {
  console.log(`preview Applications against the real ${cluster.describe}`);
});

afterAll(async () => {
  await deleteApplications(cluster.kubeConfig, applications);
  for (const repo of repos) repo.remove();
});

describe(`preview Applications on the real ${cluster.describe}`, () => {
  it('creates an Application that Argo CD syncs by itself to Healthy; ensuring it again writes nothing', async () => {
    const { first, name, input } = world();
    const created = await ensurePreviewApplication(deps, input());
    expect(created).toMatchObject({ application: name, namespace: NS, action: 'created', drift: [] });

    const healthy = await eventually(`${name} Synced and Healthy at ${first}`, () => read(name), (app) => settled(app, first));
    expect(healthy.metadata.labels).toMatchObject({ [PREVIEW_LABEL]: 'true', 'slipway.dev/app': APP });
    expect(healthy.metadata.finalizers).toEqual([RESOURCES_FINALIZER]);
    // Argo CD ran it on its own: an automated sync, into the namespace it created.
    expect(healthy.status?.operationState?.operation?.initiatedBy?.automated).toBe(true);
    expect(await deployedImages(name)).toEqual({ frontend: 'todoapp/frontend:pr-1', backend: 'todoapp/backend:pr-1' });

    const before = (await read(name)).metadata.resourceVersion;
    const again = await ensurePreviewApplication(deps, input());
    expect(again).toMatchObject({ action: 'unchanged', drift: [], resourceVersion: before });
    expect((await read(name)).metadata.resourceVersion).toBe(before);
  });

  it('a changed targetRevision is patched, and Argo CD deploys the new revision', async () => {
    const { repo, first, name, input } = world();
    await ensurePreviewApplication(deps, input());
    await eventually(`${name} Healthy at ${first}`, () => read(name), (app) => settled(app, first));

    const second = repo.pushImages({ ...GOOD, 'todoapp/frontend': 'pr-1-push-2' }, 'the pull request moved on');
    const updated = await ensurePreviewApplication(deps, input({ targetRevision: second }));
    expect(updated).toMatchObject({ action: 'updated', drift: ['spec.source.targetRevision'] });
    const app = await eventually(`${name} Healthy at ${second}`, () => read(name), (a) => settled(a, second));
    expect(app.spec.source?.targetRevision).toBe(second);
    expect((await deployedImages(name)).frontend).toBe('todoapp/frontend:pr-1-push-2');
  });

  it("deletes the Application and, through Argo CD's finalizer, its Deployments; deleting it again finds nothing", async () => {
    const { first, name, input } = world();
    await ensurePreviewApplication(deps, input());
    await eventually(`${name} Healthy at ${first}`, () => read(name), (app) => settled(app, first));
    expect(Object.keys(await deployedImages(name)).sort()).toEqual(['backend', 'frontend']);

    expect(await deletePreviewApplication(deps, { application: name, namespace: NS })).toEqual({ existed: true });
    await eventually(`${name} gone`, () => read(name).then(() => false, (err: { code?: number }) => err.code === 404), (gone) => gone);
    // Nobody else deletes them: without the cascade they would stay, running and unmanaged.
    await eventually(`the Deployments of ${name} deleted`, () => deployedImages(name), (images) => Object.keys(images).length === 0, 30_000);
    expect(await deletePreviewApplication(deps, { application: name, namespace: NS })).toEqual({ existed: false });
  });

  it('a preview whose finalizer a person removed gets it back before the delete, so its Deployments still go with it', async () => {
    const { first, name, input } = world();
    await ensurePreviewApplication(deps, input());
    await eventually(`${name} Healthy at ${first}`, () => read(name), (app) => settled(app, first));
    await cluster.kubeConfig
      .makeApiClient(CustomObjectsApi)
      .patchNamespacedCustomObject({ ...applicationApi, namespace: NS, name, body: { metadata: { finalizers: null } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    expect((await read(name)).metadata.finalizers).toBeUndefined();

    expect(await deletePreviewApplication(deps, { application: name, namespace: NS })).toEqual({ existed: true });
    await eventually(`${name} gone`, () => read(name).then(() => false, (err: { code?: number }) => err.code === 404), (gone) => gone);
    await eventually(`the Deployments of ${name} deleted`, () => deployedImages(name), (images) => Object.keys(images).length === 0, 30_000);
  });

  it('an Application of that name that is not a preview is refused by ensure and delete, and left as it was', async () => {
    const { repo, name, input } = world();
    await createApplication(cluster.kubeConfig, { name, namespace: NS, repo, destinationNamespace: name });
    const before = await read(name);

    const ensured = await rejectionOf(ensurePreviewApplication(deps, input()));
    expect(ensured.type).toBe(FailureType.PreviewApplicationTaken);
    expect(ensured.nonRetryable).toBe(true);
    expect(ensured.message).toContain(`Argo CD Application ${NS}/${name} exists and is not a Slipway preview`);
    const deleted = await rejectionOf(deletePreviewApplication(deps, { application: name, namespace: NS }));
    expect(deleted.type).toBe(FailureType.PreviewApplicationTaken);

    const after = await read(name);
    expect(after.metadata.uid).toBe(before.metadata.uid);
    expect(after.metadata.deletionTimestamp).toBeUndefined();
    expect(after.metadata.labels).toEqual(before.metadata.labels);
    expect(after.metadata.finalizers).toEqual(before.metadata.finalizers);
    expect(after.spec).toEqual(before.spec);
  });

  it("another app's preview of the same name is refused too", async () => {
    const { name, input } = world();
    await ensurePreviewApplication(deps, input());
    const before = await read(name);
    const failure = await rejectionOf(ensurePreviewApplication(deps, input({ labels: previewLabels(`other-${process.pid}`, 1), targetRevision: 'main' })));
    expect(failure.type).toBe(FailureType.PreviewApplicationTaken);
    expect(failure.message).toContain(`is the preview of another app (slipway.dev/app=${APP}`);
    const after = await read(name);
    expect(after.metadata.labels).toEqual(before.metadata.labels);
    expect(after.spec.source).toEqual(before.spec.source);
  });

  it('lists the previews by label, of one app or all, and not the Applications that are not previews', async () => {
    const a = world();
    const b = world();
    const other = world();
    await ensurePreviewApplication(deps, a.input());
    await ensurePreviewApplication(deps, b.input({ labels: previewLabels(`${APP}-b`, 7) }));
    await createApplication(cluster.kubeConfig, { name: other.name, namespace: NS, repo: other.repo, destinationNamespace: other.name });

    const ofApp = await listPreviewApplications(deps, { namespace: NS, app: `${APP}-b` });
    expect(ofApp).toEqual([expect.objectContaining({ application: b.name, namespace: NS, app: `${APP}-b`, pullRequest: 7, path: OVERLAY, targetRevision: b.first, destinationNamespace: b.name, deleting: false })]);
    const all = (await listPreviewApplications(deps, { namespace: NS })).map((p) => p.application);
    expect(all).toEqual(expect.arrayContaining([a.name, b.name]));
    expect(all).not.toContain(other.name);

    const refused = await rejectionOf(listPreviewApplications(deps, { namespace: NS, app: 'x,slipway.dev/app!=y' }));
    expect(refused.type).toBe(FailureType.InvalidConfig);
  });

  it('a Kubernetes API that does not answer fails the call at its deadline, retryably', async () => {
    const { createServer } = await import('node:net');
    const silent = createServer(() => {
      /* accepts, never answers */
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { KubeConfig } = await import('@kubernetes/client-node');
      const kubeConfig = new KubeConfig();
      const port = (silent.address() as { port: number }).port;
      kubeConfig.loadFromOptions({
        clusters: [{ name: 'silent', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
        users: [{ name: 'u' }],
        contexts: [{ name: 'c', cluster: 'silent', user: 'u' }],
        currentContext: 'c',
      });
      const started = Date.now();
      const failure = await rejectionOf(ensurePreviewApplication({ kubeConfig, requestTimeoutMs: 500 }, world().input()));
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(failure.nonRetryable).toBeFalsy();
    } finally {
      silent.close();
    }
  });
});
