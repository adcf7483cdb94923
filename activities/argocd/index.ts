/**
 * Argo CD, through the Kubernetes API: the Application custom resource (argoproj.io/v1alpha1).
 * Activities are made by a factory so the worker decides the Kubernetes credentials and how git
 * ancestry is answered (activities/gitops's isAncestor in the worker).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { deletePreviewApplication, ensurePreviewApplication, type PreviewDeps } from './preview-application.js';
import { previewLabels } from './preview-manifest.js';
import type { ArgoActivities, PreviewApplicationActivities } from '../types.js';
import { readOverlayAtRevision, type ReadOverlayAt } from '../gitops/read-at-revision.js';
import { refreshApplication } from './refresh.js';
import { waitForHealthy, type IsAncestor } from './wait-for-healthy.js';

export interface ArgoActivitiesOptions {
  kubeConfig: KubeConfig;
  /** Whether `descendant` contains `ancestor` in the GitOps repo; without it only the exact commit counts as synced. */
  isAncestor?: IsAncestor;
  /**
   * Reads an overlay at a later commit, so a wait given the images it wrote counts that commit as
   * ours only while it holds them (default: from the ancestry checks' mirror of the remote).
   */
  readOverlayAt?: ReadOverlayAt;
  /** How often the activities heartbeat (default 2 s). */
  heartbeatIntervalMs?: number;
  /** Outside an activity, how long a sync request waits for another operation to end (default 5 min). */
  operationWaitMs?: number;
  /** How long a sync request follows its queued operation for Argo CD to take it (default 10 s). */
  acceptWaitMs?: number;
}

export function createArgoActivities(options: ArgoActivitiesOptions): ArgoActivities {
  const deps = { ...options, readOverlayAt: options.readOverlayAt ?? readOverlayAtRevision };
  return {
    refreshApplication: (input) => refreshApplication(deps, input),
    waitForHealthy: (input) => waitForHealthy(deps, input),
  };
}

export type { IsAncestor } from './wait-for-healthy.js';
export { judge, summarize, type Classify, type Ownership, type Verdict } from './judge.js';
export { decideSync, type SyncDecision } from './sync-request.js';
export { gitopsSlot, normalizeRepoURL, type SourceSlot } from './sources.js';
export { REFRESH_ANNOTATION, applicationApi, applicationsPath, type ArgoApplication, type ArgoApplicationStatus, type ArgoOperation, type ArgoSource } from './application.js';
export { watchApplication } from './watch-application.js';

/** The previews' Applications (preview-application.ts): created or brought in line, and deleted, labelled as pull request `number`'s preview of `app`. */
export function createPreviewApplicationActivities(deps: PreviewDeps): PreviewApplicationActivities {
  return {
    ensurePreviewApplication: async ({ app, number, ...input }) => {
      const ensured = await ensurePreviewApplication(deps, { ...input, labels: previewLabels(app, number) });
      return { action: ensured.action };
    },
    deletePreviewApplication: ({ application, namespace }) => deletePreviewApplication(deps, { application, namespace }),
  };
}
