/**
 * The parts of an Argo CD Application (argoproj.io/v1alpha1) Slipway reads and writes, with the
 * field names of Argo CD's pkg/apis/application/v1alpha1/types.go.
 */
import { ARGO_APPLICATIONS, ARGO_GROUP, ARGO_VERSION } from './resource.js';

export interface ArgoOperation {
  sync?: { revision?: string; prune?: boolean };
  initiatedBy?: { username?: string; automated?: boolean };
  info?: Array<{ name: string; value: string }>;
}

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
  sync?: { status?: string; revision?: string; comparedTo?: unknown };
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
    syncResult?: { revision?: string };
  };
  history?: Array<{ id: number; revision: string; deployedAt: string }>;
  summary?: { images?: string[] };
}

export interface ArgoApplication {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; resourceVersion?: string; annotations?: Record<string, string>; generation?: number };
  spec: {
    project: string;
    destination: { server?: string; namespace?: string; name?: string };
    source?: { repoURL: string; path?: string; targetRevision?: string };
    syncPolicy?: { automated?: Record<string, unknown> };
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
