/**
 * For the Argo CD integration tests: a bare GitOps repository on disk with one Kustomize overlay
 * (made with the git CLI, independent of activities/gitops), and Applications on the real test
 * API server pointing at it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { applicationApi, watchApplication, type ArgoApplication, type ArgoSource } from '../../activities/argocd/index.js';
import type { ArgoApplicationRef, GitTarget } from '../../activities/types.js';

export const OVERLAY = 'apps/todo/overlays/staging';

/**
 * What the overlay deploys besides its image list: nothing (for the Argo CD stand-in, which reads
 * only images), or for the real Argo CD one Deployment per image (`todoapp/frontend` → Deployment
 * `frontend`) with this progress deadline and, with `laterWave`, a ConfigMap in sync wave 1 — so a
 * sync waits, Running, until the Deployments of wave 0 are healthy.
 */
export interface Workload {
  progressDeadlineSeconds: number;
  laterWave?: boolean;
  /** A ConfigMap `held` with a finalizer nobody removes but the test: deleting it (and so a cascading Application deletion) waits. */
  heldOnDelete?: boolean;
}

export const HELD_FINALIZER = 'slipway.test/held';

function workloadFiles(images: string[], w: Workload): Record<string, string> {
  const files: Record<string, string> = {};
  for (const image of images) {
    const name = image.split('/').pop()!;
    files[`${name}.yaml`] = [
      'apiVersion: apps/v1', 'kind: Deployment', `metadata: { name: ${name} }`, 'spec:', '  replicas: 1',
      `  progressDeadlineSeconds: ${w.progressDeadlineSeconds}`, `  selector: { matchLabels: { app: ${name} } }`, '  template:',
      `    metadata: { labels: { app: ${name} } }`, `    spec: { containers: [ { name: ${name}, image: "${image}:latest" } ] }`, '',
    ].join('\n');
  }
  if (w.heldOnDelete) {
    files['held.yaml'] = ['apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: held', `  finalizers: ["${HELD_FINALIZER}"]`, 'data: { held: "until the test lets go" }', ''].join('\n');
  }
  if (w.laterWave) {
    files['after-rollout.yaml'] = ['apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: after-rollout', '  annotations: { argocd.argoproj.io/sync-wave: "1" }', 'data: { step: "after the Deployments are healthy" }', ''].join('\n');
  }
  return files;
}

export class GitopsRepo {
  readonly root = mkdtempSync(join(tmpdir(), 'slipway-argo-git-'));
  readonly bare = join(this.root, 'gitops.git');
  readonly work = join(this.root, 'work');

  constructor(readonly workload?: Workload) {
    this.git(this.root, 'init', '--quiet', '--bare', '--initial-branch', 'main', this.bare);
    this.git(this.root, 'clone', '--quiet', this.bare, this.work);
    this.git(this.work, 'config', 'user.name', 'Test');
    this.git(this.work, 'config', 'user.email', 'test@example.com');
  }

  get target(): GitTarget {
    return { url: this.bare, branch: 'main', author: { name: 'Test', email: 'test@example.com' } };
  }

  /** Commits and pushes the overlay with these images (name → tag); returns the new commit. */
  pushImages(images: Record<string, string>, message = 'set images'): string {
    const dir = join(this.work, OVERLAY);
    mkdirSync(dir, { recursive: true });
    const lines = Object.entries(images).flatMap(([name, tag]) => [`  - name: ${name}`, `    newTag: "${tag}"`]);
    const files = this.workload ? workloadFiles(Object.keys(images), this.workload) : {};
    for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
    const resources = Object.keys(files).length ? ['resources:', ...Object.keys(files).map((f) => `  - ${f}`)] : ['resources: []'];
    writeFileSync(join(dir, 'kustomization.yaml'), ['apiVersion: kustomize.config.k8s.io/v1beta1', 'kind: Kustomization', ...resources, 'images:', ...lines, ''].join('\n'));
    this.git(this.work, 'add', '-A');
    this.git(this.work, 'commit', '--quiet', '--allow-empty', '-m', message);
    this.git(this.work, 'push', '--quiet', 'origin', 'HEAD:main');
    return this.git(this.work, 'rev-parse', 'HEAD').trim();
  }

  /** The branch head. */
  head(): string {
    return this.git(this.work, 'rev-parse', 'HEAD').trim();
  }

  /** The Application source for the overlay on main. */
  get source(): ArgoSource {
    return { repoURL: `file://${this.bare}`, path: OVERLAY, targetRevision: 'main' };
  }

  /** A commit touching something else than the overlay (a later branch head descending from earlier ones). */
  pushUnrelated(message = 'docs'): string {
    writeFileSync(join(this.work, 'README.md'), `${message} ${Date.now()}\n`);
    this.git(this.work, 'add', '-A');
    this.git(this.work, 'commit', '--quiet', '-m', message);
    this.git(this.work, 'push', '--quiet', 'origin', 'HEAD:main');
    return this.git(this.work, 'rev-parse', 'HEAD').trim();
  }

  isAncestor = async (_git: GitTarget, ancestor: string, descendant: string): Promise<boolean> => {
    try {
      execFileSync('git', ['--git-dir', this.bare, 'merge-base', '--is-ancestor', ancestor, descendant], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };

  git(cwd: string, ...args: string[]): string {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * An Application of the repo's overlay. With `sources`, a multi-source one (`spec.sources`, no
 * `spec.source`) with exactly those sources.
 */
export async function createApplication(
  kubeConfig: KubeConfig,
  o: { name: string; namespace: string; repo: GitopsRepo; automated?: boolean; sources?: ArgoSource[]; destinationNamespace?: string; finalizers?: string[] },
): Promise<ArgoApplication> {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const body: ArgoApplication = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: o.name, namespace: o.namespace, ...(o.finalizers ? { finalizers: o.finalizers } : {}) },
    spec: {
      project: 'default',
      destination: { server: 'https://kubernetes.default.svc', namespace: o.destinationNamespace ?? 'todo' },
      ...(o.sources ? { sources: o.sources } : { source: o.repo.source }),
      syncPolicy: {
        ...(o.automated === false ? {} : { automated: { prune: true, selfHeal: true } }),
        syncOptions: ['CreateNamespace=true'],
      },
    },
  };
  return (await api.createNamespacedCustomObject({ ...applicationApi, namespace: o.namespace, body })) as ArgoApplication;
}

export async function readApplication(kubeConfig: KubeConfig, namespace: string, name: string): Promise<ArgoApplication> {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  return (await api.getNamespacedCustomObject({ ...applicationApi, namespace, name })) as ArgoApplication;
}

export interface SeenOperation {
  revision?: string;
  revisions?: string[];
  phase?: string;
  message?: string;
}

/**
 * Every distinct operationState (operation revision, phase, message) the Application goes
 * through, from a watch, so a test can tell what ran, in which order, and how it ended.
 */
export function recordOperations(kubeConfig: KubeConfig, app: ArgoApplicationRef): { seen: SeenOperation[]; stop(): void; until(match: (op: SeenOperation) => boolean, timeoutMs?: number): Promise<void> } {
  const seen: SeenOperation[] = [];
  const abort = new AbortController();
  const waiters = new Set<() => void>();
  void watchApplication({
    kubeConfig,
    app,
    signal: abort.signal,
    onObject(object) {
      const state = object.status?.operationState;
      if (!state) return;
      const op: SeenOperation = {
        revision: state.operation?.sync?.revision,
        revisions: state.operation?.sync?.revisions,
        phase: state.phase,
        message: state.message,
      };
      const last = seen.at(-1);
      if (last && JSON.stringify(last) === JSON.stringify(op)) return;
      seen.push(op);
      for (const wake of waiters) wake();
    },
    onFatal() {},
  });
  return {
    seen,
    stop: () => abort.abort(),
    until(match, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!seen.some(match)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no such operation state within ${timeoutMs} ms; seen: ${JSON.stringify(seen)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

/** The failure a promise rejected with (fails the test if it resolved). */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & { type?: string; nonRetryable?: boolean; details?: unknown[] }> {
  try {
    const value = await promise;
    throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
  } catch (err) {
    return err as Error & { type?: string; nonRetryable?: boolean };
  }
}
