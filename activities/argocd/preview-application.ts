/**
 * The Argo CD Applications of pull-request previews, through the Kubernetes API: made or brought
 * up to date, deleted (with what they deployed), listed. Every request has kube-api.ts's deadline.
 *
 * Only Applications with the preview label are ever changed or deleted: one without it is someone
 * else's, and a preview whose name it takes is refused (PreviewApplicationTaken), never written.
 * That check is made on the version read, and every write is conditional on that version —
 * create fails if the name was taken meanwhile (409), a patch and a delete carry its
 * resourceVersion (and a delete its uid) as preconditions — so an Application that changed hands
 * between the read and the write is never touched: it is read and decided on again.
 *
 * Updates are JSON merge patches with that precondition rather than server-side apply: apply
 * cannot say "only if it does not exist" (it would take over an Application created meanwhile by
 * someone else), nor "only this version"; and the merge patch sets just Slipway's fields, keeping
 * what Argo CD (status, operation) and people (annotations, other labels) put there.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { PatchStrategy, setHeaderOptions, type CustomObjectsApi } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import { heartbeat } from '../activity-context.js';
import { FailureType, type ArgoApplicationRef } from '../types.js';
import { applicationApi } from './application.js';
import { describeRef, isMissingObject, statusCode, toActivityError } from './kube-errors.js';
import { customObjectsApi } from './kube-api.js';
import {
  PREVIEW_APP_LABEL,
  PREVIEW_LABEL,
  PREVIEW_PULL_REQUEST_LABEL,
  RESOURCES_FINALIZER,
  isPreview,
  previewApplicationManifest,
  previewDrift,
  previewPatch,
  type PreviewApplication,
  type PreviewApplicationInput,
} from './preview-manifest.js';

export interface PreviewDeps {
  kubeConfig: KubeConfig;
  /** Deadline of each Kubernetes request (default kube-api.ts's). */
  requestTimeoutMs?: number;
}

export interface EnsuredPreviewApplication {
  application: string;
  namespace: string;
  action: 'created' | 'updated' | 'unchanged';
  /** The fields that were not as wanted (what an update changed). */
  drift: string[];
  resourceVersion?: string;
}

export interface PreviewApplicationSummary {
  application: string;
  namespace: string;
  app?: string;
  pullRequest?: number;
  path?: string;
  targetRevision?: string;
  destinationNamespace?: string;
  sync?: string;
  health?: string;
  /** Deletion was asked for; it goes once Argo CD has deleted what it deployed. */
  deleting: boolean;
}

/** How often a write that lost the race for the Application (409) is decided again. */
const MAX_CONFLICTS = 5;
/** Listing is bounded: pages of PAGE_SIZE, at most MAX_PAGES of them. */
const PAGE_SIZE = 250;
const MAX_PAGES = 8;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;

export async function ensurePreviewApplication(deps: PreviewDeps, input: PreviewApplicationInput): Promise<EnsuredPreviewApplication> {
  const api = customObjectsApi(deps.kubeConfig, deps.requestTimeoutMs);
  const ref = { application: input.application, namespace: input.namespace };
  const wanted = previewApplicationManifest(input);
  const done = (action: EnsuredPreviewApplication['action'], app: PreviewApplication | undefined, drift: string[]): EnsuredPreviewApplication => ({
    ...ref,
    action,
    drift,
    ...(app?.metadata.resourceVersion ? { resourceVersion: app.metadata.resourceVersion } : {}),
  });
  for (let round = 1; round <= MAX_CONFLICTS; round++) {
    heartbeat({ ensuring: input.application, round });
    const existing = await readApplication(api, ref, 'reading');
    if (!existing) {
      try {
        return done('created', (await api.createNamespacedCustomObject({ ...applicationApi, namespace: ref.namespace, body: wanted })) as PreviewApplication, []);
      } catch (err) {
        if (statusCode(err) === 409) continue; // made meanwhile: decide on what is there now
        throw failure(err, ref, 'creating');
      }
    }
    refuseForeign(existing, ref, input.labels[PREVIEW_APP_LABEL]);
    if (existing.metadata.deletionTimestamp) {
      // A preview closed and opened again quickly: the old one is still deleting what it deployed.
      throw ApplicationFailure.retryable(`${describeRef(ref)} is being deleted (since ${existing.metadata.deletionTimestamp}); it is made again once it is gone`, 'PreviewApplicationDeleting');
    }
    const drift = previewDrift(existing, wanted);
    if (drift.length === 0) return done('unchanged', existing, []);
    try {
      return done('updated', (await mergePatch(api, ref, previewPatch(existing, wanted))) as PreviewApplication, drift);
    } catch (err) {
      // Changed (409) or deleted (404) since it was read: decide again on what is there now.
      if (statusCode(err) === 409 || isMissingObject(err)) continue;
      throw failure(err, ref, 'updating');
    }
  }
  throw ApplicationFailure.retryable(`${describeRef(ref)} changed ${MAX_CONFLICTS} times while Slipway was bringing it up to date`, 'PreviewApplicationConflict');
}

/**
 * Deletes a preview's Application, and with Argo CD's resources finalizer (added first when a
 * person removed it) everything it deployed. Returns whether it was there; one already deleting
 * is left to finish. The Application is gone once Argo CD has deleted its resources.
 */
export async function deletePreviewApplication(deps: PreviewDeps, ref: ArgoApplicationRef): Promise<{ existed: boolean }> {
  const api = customObjectsApi(deps.kubeConfig, deps.requestTimeoutMs);
  for (let round = 1; round <= MAX_CONFLICTS; round++) {
    heartbeat({ deleting: ref.application, round });
    const existing = await readApplication(api, ref, 'reading');
    if (!existing) return { existed: false };
    refuseForeign(existing, ref, undefined);
    if (existing.metadata.deletionTimestamp) return { existed: true };
    const finalizers = existing.metadata.finalizers ?? [];
    try {
      if (!finalizers.includes(RESOURCES_FINALIZER)) {
        await mergePatch(api, ref, { metadata: { resourceVersion: existing.metadata.resourceVersion, finalizers: [...finalizers, RESOURCES_FINALIZER] } });
        continue; // delete the version that has it
      }
      await api.deleteNamespacedCustomObject({
        ...applicationApi,
        namespace: ref.namespace,
        name: ref.application,
        body: { preconditions: { uid: existing.metadata.uid, resourceVersion: existing.metadata.resourceVersion } },
      });
      return { existed: true };
    } catch (err) {
      if (statusCode(err) === 409) continue;
      if (isMissingObject(err)) return { existed: true }; // deleted by someone else meanwhile
      throw failure(err, ref, 'deleting');
    }
  }
  throw ApplicationFailure.retryable(`${describeRef(ref)} changed ${MAX_CONFLICTS} times while Slipway was deleting it`, 'PreviewApplicationConflict');
}

/** The preview Applications in Argo CD's namespace (of one app when given), by label. */
export async function listPreviewApplications(deps: PreviewDeps, input: { namespace: string; app?: string }): Promise<PreviewApplicationSummary[]> {
  if (input.app !== undefined && !LABEL_VALUE.test(input.app)) {
    // It goes into a label selector: `a,b` or `a=b` would widen it.
    throw ApplicationFailure.nonRetryable(`"${input.app}" is not an app name (a label value: letters, digits, - _ ., at most 63)`, FailureType.InvalidConfig);
  }
  const api = customObjectsApi(deps.kubeConfig, deps.requestTimeoutMs);
  const labelSelector = `${PREVIEW_LABEL}=true${input.app !== undefined ? `,${PREVIEW_APP_LABEL}=${input.app}` : ''}`;
  const found: PreviewApplicationSummary[] = [];
  let next: string | undefined;
  for (let page = 1; page <= MAX_PAGES; page++) {
    heartbeat({ listing: labelSelector, page });
    let list: { items: PreviewApplication[]; metadata?: { continue?: string } };
    try {
      list = (await api.listNamespacedCustomObject({ ...applicationApi, namespace: input.namespace, labelSelector, limit: PAGE_SIZE, ...(next ? { _continue: next } : {}) })) as typeof list;
    } catch (err) {
      throw failure(err, { application: `(${labelSelector})`, namespace: input.namespace }, 'listing');
    }
    found.push(...list.items.map(summary));
    next = list.metadata?.continue || undefined;
    if (!next) return found;
  }
  throw new Error(`more than ${MAX_PAGES * PAGE_SIZE} preview Applications in ${input.namespace} (${labelSelector}); not all were listed`);
}

function summary(app: PreviewApplication): PreviewApplicationSummary {
  const labels = app.metadata.labels ?? {};
  const number = Number(labels[PREVIEW_PULL_REQUEST_LABEL]);
  return {
    application: app.metadata.name,
    namespace: app.metadata.namespace,
    ...(labels[PREVIEW_APP_LABEL] ? { app: labels[PREVIEW_APP_LABEL] } : {}),
    ...(Number.isSafeInteger(number) && number > 0 ? { pullRequest: number } : {}),
    ...(app.spec?.source?.path ? { path: app.spec.source.path } : {}),
    ...(app.spec?.source?.targetRevision ? { targetRevision: app.spec.source.targetRevision } : {}),
    ...(app.spec?.destination?.namespace ? { destinationNamespace: app.spec.destination.namespace } : {}),
    ...(app.status?.sync?.status ? { sync: app.status.sync.status } : {}),
    ...(app.status?.health?.status ? { health: app.status.health.status } : {}),
    deleting: Boolean(app.metadata.deletionTimestamp),
  };
}

/** The Application, or undefined when there is none of that name. */
async function readApplication(api: CustomObjectsApi, ref: ArgoApplicationRef, doing: string): Promise<PreviewApplication | undefined> {
  try {
    return (await api.getNamespacedCustomObject({ ...applicationApi, namespace: ref.namespace, name: ref.application })) as PreviewApplication;
  } catch (err) {
    if (isMissingObject(err)) return undefined;
    throw failure(err, ref, doing);
  }
}

function mergePatch(api: CustomObjectsApi, ref: ArgoApplicationRef, body: Record<string, unknown>): Promise<unknown> {
  return api.patchNamespacedCustomObject(
    { ...applicationApi, namespace: ref.namespace, name: ref.application, body },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

/** An Application without the preview label, or another app's preview: not Slipway's to change. */
function refuseForeign(existing: PreviewApplication, ref: ArgoApplicationRef, app: string | undefined): void {
  if (!isPreview(existing)) {
    throw ApplicationFailure.nonRetryable(`${describeRef(ref)} exists and is not a Slipway preview (it has no ${PREVIEW_LABEL}=true label); it was left as it is`, FailureType.PreviewApplicationTaken);
  }
  const owner = existing.metadata.labels?.[PREVIEW_APP_LABEL];
  if (app !== undefined && owner !== undefined && owner !== app) {
    throw ApplicationFailure.nonRetryable(`${describeRef(ref)} is the preview of another app (${PREVIEW_APP_LABEL}=${owner}, not ${app}); it was left as it is`, FailureType.PreviewApplicationTaken);
  }
}

/** kube-errors' mapping (404 of the Application, 401/403 non-retryable), and an invalid object (422: a bad name or label) as InvalidConfig. */
function failure(err: unknown, ref: ArgoApplicationRef, doing: string): Error {
  const mapped = toActivityError(err, ref, doing);
  if (statusCode(err) === 422) return ApplicationFailure.nonRetryable(mapped.message, FailureType.InvalidConfig);
  return mapped;
}
