/**
 * The suite's real cluster (Kubernetes control plane, kwok nodes, the real Argo CD), started once
 * in global-setup.ts and shared by every test file that deploys for real. Test files keep out of
 * each other's way by names: their own Applications (in Argo CD's namespace) and destination
 * namespaces, prefixed per file.
 */
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { inject } from 'vitest';
import { applicationApi } from '../../activities/argocd/index.js';
import { ARGOCD_NAMESPACE, loadClusterKubeConfig, neverReadyCommit, type ClusterInfo } from '../../infra/cluster/index.js';

export interface SharedCluster extends ClusterInfo {
  kubeConfig: KubeConfig;
  /** "Argo CD v3.6.1 on Kubernetes v1.36.3", for test titles and output. */
  describe: string;
}

let cached: SharedCluster | undefined;

export function sharedCluster(): SharedCluster {
  if (cached) return cached;
  const raw = inject('cluster');
  if (!raw) throw new Error('no real cluster: this test needs the real Argo CD and Kubernetes (do not set SLIPWAY_TEST_CLUSTER=off)');
  const info = JSON.parse(raw) as ClusterInfo;
  cached = {
    ...info,
    kubeConfig: loadClusterKubeConfig(info),
    describe: `Argo CD ${info.versions.argocd} on Kubernetes ${info.versions.kubernetes}`,
  };
  return cached;
}

/** A build whose pods kwok never makes Ready (infra/cluster/kwok-stages.yaml): a 40-hex commit starting with "dead". */
export const unreadyBuild = neverReadyCommit;

/** Deletes the Applications a test file created (what they deployed stays, unmanaged, until the run ends). */
export async function deleteApplications(kubeConfig: KubeConfig, names: string[], namespace = ARGOCD_NAMESPACE): Promise<void> {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  for (const name of names) {
    await api.deleteNamespacedCustomObject({ ...applicationApi, namespace, name }).catch(() => undefined);
  }
}
