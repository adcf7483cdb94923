/**
 * Tier: unit (no servers). The preview Application as Slipway writes it
 * (activities/argocd/preview-manifest.ts): the manifest, which differences from an existing one
 * count, and the merge patch that removes them — applied here by RFC 7386's own algorithm, as the
 * Kubernetes API server applies a JSON merge patch. Against the real Argo CD:
 * test/integration/argocd-preview-application.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  PREVIEW_LABEL,
  RESOURCES_FINALIZER,
  isPreview,
  previewApplicationManifest,
  previewDrift,
  previewLabels,
  previewPatch,
  type PreviewApplication,
  type PreviewApplicationInput,
} from '../../activities/argocd/preview-manifest.js';

const INPUT: PreviewApplicationInput = {
  application: 'todoapp-pr-12',
  namespace: 'argocd',
  repoURL: 'https://git.example.com/org/gitops.git',
  path: 'apps/todo/overlays/previews/pr-12',
  targetRevision: 'main',
  destination: { namespace: 'todoapp-pr-12' },
  labels: previewLabels('todoapp', 12),
};

/** RFC 7386: objects merge key by key, null removes, anything else (lists included) replaces. */
function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete out[key];
    else out[key] = applyMergePatch(out[key], value);
  }
  return out;
}

/** As the API server stores it: with a resourceVersion, uid, Argo CD's status, others' additions. */
function stored(app: PreviewApplication, change: (a: PreviewApplication) => void = () => {}): PreviewApplication {
  const copy = structuredClone(app);
  copy.metadata.resourceVersion = '4711';
  copy.metadata.uid = '0f1e2d3c';
  copy.status = { sync: { status: 'Synced', revision: 'abc' }, health: { status: 'Healthy' } };
  change(copy);
  return copy;
}

describe('previewApplicationManifest', () => {
  it('is an automated, pruning Application that creates its namespace and deletes what it deployed with it', () => {
    expect(previewApplicationManifest(INPUT)).toEqual({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: {
        name: 'todoapp-pr-12',
        namespace: 'argocd',
        labels: { 'slipway.dev/app': 'todoapp', 'slipway.dev/pull-request': '12', 'slipway.dev/preview': 'true' },
        finalizers: ['resources-finalizer.argocd.argoproj.io'],
      },
      spec: {
        project: 'default',
        source: { repoURL: 'https://git.example.com/org/gitops.git', path: 'apps/todo/overlays/previews/pr-12', targetRevision: 'main' },
        destination: { server: 'https://kubernetes.default.svc', namespace: 'todoapp-pr-12' },
        syncPolicy: { automated: { prune: true }, syncOptions: ['CreateNamespace=true'] },
      },
    });
  });

  it('takes the project and cluster given, and always marks itself a preview whatever the labels say', () => {
    const app = previewApplicationManifest({ ...INPUT, project: 'previews', destination: { server: 'https://staging.example.com', namespace: 'pr-12' }, labels: { [PREVIEW_LABEL]: 'false', team: 'web' } });
    expect(app.spec.project).toBe('previews');
    expect(app.spec.destination).toEqual({ server: 'https://staging.example.com', namespace: 'pr-12' });
    expect(app.metadata.labels).toEqual({ team: 'web', [PREVIEW_LABEL]: 'true' });
    expect(isPreview(app)).toBe(true);
    expect(isPreview({ metadata: { name: 'x', namespace: 'argocd', labels: { [PREVIEW_LABEL]: 'yes' } } })).toBe(false);
    expect(isPreview({ metadata: { name: 'x', namespace: 'argocd' } })).toBe(false);
  });
});

describe('previewDrift', () => {
  const wanted = previewApplicationManifest(INPUT);

  it('finds nothing in the Application as stored, with what Argo CD and people added to it', () => {
    const app = stored(wanted, (a) => {
      a.metadata.annotations = { 'argocd.argoproj.io/refresh': 'normal' };
      a.metadata.labels!.team = 'web';
      a.metadata.finalizers!.push('example.com/audit');
      a.spec.syncPolicy!.syncOptions!.push('ServerSideApply=true');
      a.operation = { sync: { revision: 'abc' } };
    });
    expect(previewDrift(app, wanted)).toEqual([]);
  });

  it('names each field Slipway sets that is not as wanted', () => {
    const app = stored(wanted, (a) => {
      a.spec.source!.targetRevision = 'old-branch';
      a.spec.project = 'other';
      a.metadata.labels!['slipway.dev/pull-request'] = '13';
      a.metadata.finalizers = [];
      a.spec.syncPolicy = { syncOptions: [] };
      a.spec.sources = [{ repoURL: 'https://elsewhere.example.com/x.git', path: 'x' }];
      a.spec.destination = { name: 'in-cluster', namespace: 'todoapp-pr-12' };
    });
    expect(previewDrift(app, wanted).sort()).toEqual(
      [
        'metadata.finalizers',
        'metadata.labels.slipway.dev/pull-request',
        'spec.destination.name',
        'spec.destination.server',
        'spec.project',
        'spec.source.targetRevision',
        'spec.sources',
        'spec.syncPolicy.automated',
        'spec.syncPolicy.syncOptions',
      ].sort(),
    );
  });
});

describe('previewPatch', () => {
  const wanted = previewApplicationManifest(INPUT);

  it('applied as a merge patch, leaves no drift, keeps what others added, and is conditional on the version read', () => {
    const app = stored(wanted, (a) => {
      a.spec.source!.targetRevision = 'old-branch';
      a.metadata.finalizers = ['example.com/audit'];
      a.metadata.labels = { team: 'web', [PREVIEW_LABEL]: 'true' };
      a.spec.syncPolicy = { automated: { prune: false, selfHeal: true }, syncOptions: ['ServerSideApply=true'] };
      a.spec.sources = [{ repoURL: 'https://elsewhere.example.com/x.git', path: 'x' }];
      a.spec.destination = { name: 'in-cluster', namespace: 'todoapp-pr-12' };
    });
    const patch = previewPatch(app, wanted);
    expect((patch.metadata as { resourceVersion: string }).resourceVersion).toBe('4711');
    const after = applyMergePatch(app, patch) as PreviewApplication;
    expect(previewDrift(after, wanted)).toEqual([]);
    expect(after.metadata.finalizers).toEqual(['example.com/audit', RESOURCES_FINALIZER]);
    expect(after.metadata.labels).toEqual({ team: 'web', ...wanted.metadata.labels });
    expect(after.spec.syncPolicy).toEqual({ automated: { prune: true, selfHeal: true }, syncOptions: ['ServerSideApply=true', 'CreateNamespace=true'] });
    expect(after.spec.sources).toBeUndefined();
    expect(after.spec.destination).toEqual(wanted.spec.destination);
    expect(after.status).toEqual(app.status);
  });
});
