/**
 * Argo CD, through the Kubernetes API: the Application custom resource (argoproj.io/v1alpha1).
 * Activities are made by a factory so the worker decides the Kubernetes credentials and how git
 * ancestry is answered (activities/gitops's isAncestor in the worker).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { ArgoActivities } from '../types.js';
import { refreshApplication } from './refresh.js';
import { waitForHealthy, type IsAncestor } from './wait-for-healthy.js';

export interface ArgoActivitiesOptions {
  kubeConfig: KubeConfig;
  /** Whether `descendant` contains `ancestor` in the GitOps repo; without it only the exact commit counts as synced. */
  isAncestor?: IsAncestor;
  /** How often waitForHealthy heartbeats (default 2 s). */
  heartbeatIntervalMs?: number;
}

export function createArgoActivities(options: ArgoActivitiesOptions): ArgoActivities {
  return {
    refreshApplication: (input) => refreshApplication(options.kubeConfig, input),
    waitForHealthy: (input) => waitForHealthy(options, input),
  };
}

export type { IsAncestor } from './wait-for-healthy.js';
export { judge, summarize, type Verdict } from './judge.js';
export { REFRESH_ANNOTATION, applicationApi, applicationsPath, type ArgoApplication, type ArgoApplicationStatus, type ArgoOperation } from './application.js';
export { watchApplication } from './watch-application.js';
