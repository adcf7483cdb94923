/**
 * The Kubernetes API client the Argo CD activities use: as `KubeConfig.makeApiClient` builds it,
 * plus a deadline on every request, so an API server that accepts a connection and never answers
 * fails the call (retryably) instead of holding the activity. Watches are not made through it:
 * they are meant to stay open and end with their own signal.
 */
import { CustomObjectsApi, ServerConfiguration, createConfiguration, type KubeConfig } from '@kubernetes/client-node';

/** Long enough for a slow API server under load, short against a step's timeout. */
export const DEFAULT_KUBE_REQUEST_TIMEOUT_MS = 15_000;

export function customObjectsApi(kubeConfig: KubeConfig, timeoutMs = DEFAULT_KUBE_REQUEST_TIMEOUT_MS): CustomObjectsApi {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  return new CustomObjectsApi(
    createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: kubeConfig },
      promiseMiddleware: [
        {
          pre: (request) => {
            const own = request.getSignal();
            const deadline = AbortSignal.timeout(timeoutMs);
            request.setSignal(own ? AbortSignal.any([own, deadline]) : deadline);
            return Promise.resolve(request);
          },
          post: (response) => Promise.resolve(response),
        },
      ],
    }),
  );
}
