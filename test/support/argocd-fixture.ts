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
import { applicationApi, type ArgoApplication } from '../../activities/argocd/index.js';
import type { GitTarget } from '../../activities/types.js';

export const OVERLAY = 'apps/todo/overlays/staging';

export class GitopsRepo {
  readonly root = mkdtempSync(join(tmpdir(), 'slipway-argo-git-'));
  readonly bare = join(this.root, 'gitops.git');
  readonly work = join(this.root, 'work');

  constructor() {
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
    writeFileSync(join(dir, 'kustomization.yaml'), ['apiVersion: kustomize.config.k8s.io/v1beta1', 'kind: Kustomization', 'resources: []', 'images:', ...lines, ''].join('\n'));
    this.git(this.work, 'add', '-A');
    this.git(this.work, 'commit', '--quiet', '--allow-empty', '-m', message);
    this.git(this.work, 'push', '--quiet', 'origin', 'HEAD:main');
    return this.git(this.work, 'rev-parse', 'HEAD').trim();
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

export async function createApplication(kubeConfig: KubeConfig, o: { name: string; namespace: string; repo: GitopsRepo; automated?: boolean }): Promise<ArgoApplication> {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const body: ArgoApplication = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: o.name, namespace: o.namespace },
    spec: {
      project: 'default',
      destination: { server: 'https://kubernetes.default.svc', namespace: 'todo' },
      source: { repoURL: `file://${o.repo.bare}`, path: OVERLAY, targetRevision: 'main' },
      ...(o.automated === false ? {} : { syncPolicy: { automated: { prune: true, selfHeal: true } } }),
    },
  };
  return (await api.createNamespacedCustomObject({ ...applicationApi, namespace: o.namespace, body })) as ArgoApplication;
}

export async function readApplication(kubeConfig: KubeConfig, namespace: string, name: string): Promise<ArgoApplication> {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  return (await api.getNamespacedCustomObject({ ...applicationApi, namespace, name })) as ArgoApplication;
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
