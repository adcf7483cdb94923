/**
 * The Argo CD Application of a pull request's preview, as Slipway writes it, and how an existing
 * one differs from it (pure; preview-application.ts does the I/O).
 *
 * - Automated sync with prune: each push to the pull request changes the preview's overlay, and
 *   Argo CD deploys it without being asked; what a push removes from the overlay goes too.
 * - `CreateNamespace=true`: the preview's namespace exists only for it.
 * - Argo CD's resources finalizer: deleting the Application deletes what it deployed (without
 *   it, a deleted preview's Deployments would stay running, unmanaged).
 * - The `slipway.dev/preview` label: what marks an Application as a preview Slipway may change
 *   or delete. One without it is someone else's, whatever its name.
 */
import type { ArgoApplication } from './application.js';
import { ARGO_GROUP, ARGO_VERSION } from './resource.js';

export const PREVIEW_LABEL = 'slipway.dev/preview';
/** Which app a preview is of (the label listPreviewApplications filters by). */
export const PREVIEW_APP_LABEL = 'slipway.dev/app';
export const PREVIEW_PULL_REQUEST_LABEL = 'slipway.dev/pull-request';
/** Argo CD's finalizer for cascading deletion (foreground: the Application goes once its resources are gone). */
export const RESOURCES_FINALIZER = 'resources-finalizer.argocd.argoproj.io';
export const IN_CLUSTER = 'https://kubernetes.default.svc';
const CREATE_NAMESPACE = 'CreateNamespace=true';

/** An Application with the metadata this module reads besides ArgoApplication's. */
export type PreviewApplication = ArgoApplication & { metadata: ArgoApplication['metadata'] & { labels?: Record<string, string>; uid?: string } };

export interface PreviewApplicationInput {
  /** The Application's name. */
  application: string;
  /** Argo CD's namespace, where the Application lives. */
  namespace: string;
  /** The Argo CD project (default `default`). */
  project?: string;
  repoURL: string;
  /** The preview's overlay folder in the GitOps repository. */
  path: string;
  targetRevision: string;
  destination: { server?: string; namespace: string };
  /** Labels besides PREVIEW_LABEL (see previewLabels). */
  labels: Record<string, string>;
}

/** The labels of pull request `number`'s preview of `app`. */
export function previewLabels(app: string, number: number): Record<string, string> {
  return { [PREVIEW_APP_LABEL]: app, [PREVIEW_PULL_REQUEST_LABEL]: String(number) };
}

export function previewApplicationManifest(input: PreviewApplicationInput): PreviewApplication {
  return {
    apiVersion: `${ARGO_GROUP}/${ARGO_VERSION}`,
    kind: 'Application',
    metadata: {
      name: input.application,
      namespace: input.namespace,
      labels: { ...input.labels, [PREVIEW_LABEL]: 'true' },
      finalizers: [RESOURCES_FINALIZER],
    },
    spec: {
      project: input.project ?? 'default',
      source: { repoURL: input.repoURL, path: input.path, targetRevision: input.targetRevision },
      destination: { server: input.destination.server ?? IN_CLUSTER, namespace: input.destination.namespace },
      syncPolicy: { automated: { prune: true }, syncOptions: [CREATE_NAMESPACE] },
    },
  };
}

/** Whether Slipway may change or delete this Application: it carries the preview label. */
export function isPreview(app: Pick<PreviewApplication, 'metadata'>): boolean {
  return app.metadata.labels?.[PREVIEW_LABEL] === 'true';
}

/**
 * The fields of `existing` that are not as `wanted` has them, by name (empty: nothing to do).
 * Only what Slipway sets is compared: fields others add (Argo CD's status and operation, an
 * annotation, another label, another finalizer) are theirs and stay.
 */
export function previewDrift(existing: PreviewApplication, wanted: PreviewApplication): string[] {
  const drift: string[] = [];
  const labels = existing.metadata.labels ?? {};
  for (const [key, value] of Object.entries(wanted.metadata.labels ?? {})) {
    if (labels[key] !== value) drift.push(`metadata.labels.${key}`);
  }
  if (!(existing.metadata.finalizers ?? []).includes(RESOURCES_FINALIZER)) drift.push('metadata.finalizers');
  const have = existing.spec ?? ({} as ArgoApplication['spec']);
  const want = wanted.spec;
  if (have.project !== want.project) drift.push('spec.project');
  if (have.sources !== undefined) drift.push('spec.sources');
  for (const field of ['repoURL', 'path', 'targetRevision'] as const) {
    if (have.source?.[field] !== want.source?.[field]) drift.push(`spec.source.${field}`);
  }
  for (const field of ['server', 'namespace', 'name'] as const) {
    if (have.destination?.[field] !== want.destination[field]) drift.push(`spec.destination.${field}`);
  }
  if (have.syncPolicy?.automated?.prune !== true) drift.push('spec.syncPolicy.automated');
  if (!(have.syncPolicy?.syncOptions ?? []).includes(CREATE_NAMESPACE)) drift.push('spec.syncPolicy.syncOptions');
  return drift;
}

/**
 * The JSON merge patch that turns `existing` into `wanted`'s fields. Lists are replaced whole by
 * a merge patch, so the finalizers and sync options are those `existing` has plus Slipway's, in
 * their order; `sources` (which would take precedence over `source`) is removed.
 */
export function previewPatch(existing: PreviewApplication, wanted: PreviewApplication): Record<string, unknown> {
  const finalizers = existing.metadata.finalizers ?? [];
  const syncOptions = existing.spec?.syncPolicy?.syncOptions ?? [];
  return {
    metadata: {
      // The version the decision was made on: the patch lands only on it (409 otherwise).
      resourceVersion: existing.metadata.resourceVersion,
      labels: wanted.metadata.labels,
      finalizers: finalizers.includes(RESOURCES_FINALIZER) ? finalizers : [...finalizers, RESOURCES_FINALIZER],
    },
    spec: {
      project: wanted.spec.project,
      source: wanted.spec.source,
      ...(existing.spec?.sources !== undefined ? { sources: null } : {}),
      destination: { ...wanted.spec.destination, ...(existing.spec?.destination?.name !== undefined ? { name: null } : {}) },
      syncPolicy: { automated: { prune: true }, syncOptions: syncOptions.includes(CREATE_NAMESPACE) ? syncOptions : [...syncOptions, CREATE_NAMESPACE] },
    },
  };
}
