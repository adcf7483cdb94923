/**
 * The parts of an Argo CD Application (argoproj.io/v1alpha1) Slipway reads and writes, with the
 * field names of Argo CD's pkg/apis/application/v1alpha1/types.go.
 */
import { ARGO_APPLICATIONS, ARGO_GROUP, ARGO_VERSION } from './resource.js';

/** ApplicationSource: where manifests come from. A `ref`-only source (no path) lends files to others. */
export interface ArgoSource {
  repoURL: string;
  path?: string;
  targetRevision?: string;
  ref?: string;
  chart?: string;
}

export interface ArgoOperation {
  /**
   * `revision` for an Application with `spec.source`; `revisions` (one per entry of
   * `spec.sources`, in order; an empty entry means that source's targetRevision) for a
   * multi-source one.
   */
  sync?: { revision?: string; revisions?: string[]; prune?: boolean; sources?: ArgoSource[]; syncOptions?: string[] };
  initiatedBy?: { username?: string; automated?: boolean };
  retry?: Record<string, unknown>;
  info?: Array<{ name: string; value: string }>;
}

/** OperationState.phase: Running and Terminating are in progress; the others are completed. */
export type ArgoOperationPhase = 'Running' | 'Terminating' | 'Succeeded' | 'Failed' | 'Error';

export interface ArgoResourceStatus {
  group?: string;
  version?: string;
  kind: string;
  namespace?: string;
  name: string;
  status?: string;
  health?: { status?: string; message?: string };
}

export interface ArgoApplicationStatus {
  /** `revision` for a single-source Application, `revisions` (in `spec.sources` order) for a multi-source one. */
  sync?: { status?: string; revision?: string; revisions?: string[]; comparedTo?: unknown };
  /** Argo CD 3 no longer sets `health.message`; the per-resource messages in `resources` say why. */
  health?: { status?: string; message?: string; lastTransitionTime?: string };
  resources?: ArgoResourceStatus[];
  reconciledAt?: string;
  operationState?: {
    operation?: ArgoOperation;
    phase?: string;
    message?: string;
    startedAt?: string;
    finishedAt?: string;
    syncResult?: { revision?: string; revisions?: string[] };
  };
  history?: Array<{ id: number; revision?: string; revisions?: string[]; deployedAt: string }>;
  summary?: { images?: string[] };
}

export interface ArgoApplication {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace: string;
    resourceVersion?: string;
    annotations?: Record<string, string>;
    generation?: number;
    finalizers?: string[];
    /** Set once deletion was asked for; the Application goes when its finalizers are done. */
    deletionTimestamp?: string;
  };
  spec: {
    project: string;
    destination: { server?: string; namespace?: string; name?: string };
    source?: ArgoSource;
    /** Several sources (Argo CD ≥ 2.6); when present, `source` is ignored. */
    sources?: ArgoSource[];
    syncPolicy?: { automated?: Record<string, unknown>; syncOptions?: string[]; retry?: Record<string, unknown> };
  };
  operation?: ArgoOperation;
  status?: ArgoApplicationStatus;
}

/** Annotation that asks the application controller to refresh (compare with git again). */
export const REFRESH_ANNOTATION = 'argocd.argoproj.io/refresh';

export const applicationApi = { group: ARGO_GROUP, version: ARGO_VERSION, plural: ARGO_APPLICATIONS } as const;

export function applicationsPath(namespace: string): string {
  return `/apis/${ARGO_GROUP}/${ARGO_VERSION}/namespaces/${encodeURIComponent(namespace)}/${ARGO_APPLICATIONS}`;
}
