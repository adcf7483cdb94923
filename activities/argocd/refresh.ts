/**
 * Asking Argo CD to look again: the `argocd.argoproj.io/refresh: normal` annotation (what
 * `argocd app get --refresh` sets), and with `sync`, an `operation` like the one the Argo CD API
 * server writes for `argocd app sync --revision`. A JSON merge patch, so running it twice is
 * harmless.
 */
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import type { RefreshInput } from '../types.js';
import { applicationApi, REFRESH_ANNOTATION, type ArgoOperation } from './application.js';
import { toActivityError } from './kube-errors.js';

export function refreshPatch(input: RefreshInput): Record<string, unknown> {
  const patch: Record<string, unknown> = { metadata: { annotations: { [REFRESH_ANNOTATION]: 'normal' } } };
  if (input.sync) {
    const operation: ArgoOperation = {
      sync: { ...(input.revision ? { revision: input.revision } : {}) },
      initiatedBy: { username: 'slipway' },
    };
    patch.operation = operation;
  }
  return patch;
}

export async function refreshApplication(kubeConfig: KubeConfig, input: RefreshInput): Promise<void> {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  try {
    await api.patchNamespacedCustomObject(
      { ...applicationApi, namespace: input.app.namespace, name: input.app.application, body: refreshPatch(input) },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  } catch (err) {
    throw toActivityError(err, input.app, input.sync ? 'refreshing and syncing' : 'refreshing');
  }
}
