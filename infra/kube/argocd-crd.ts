/**
 * The Argo CD Application CRD (`applications.argoproj.io`), written by us with the fields Slipway
 * and the stand-in use. Like Argo CD's own CRD it has no status subresource: the application
 * controller writes `status` (and clears `operation`) with ordinary updates of the main resource.
 * Everything else is kept as given (`x-kubernetes-preserve-unknown-fields`; client-node spells it x_kubernetes_preserve_unknown_fields), as Argo's many
 * optional fields would be.
 */
import { ApiextensionsV1Api, type KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
// The CRD serves the resource where the activities look for it: one definition, in runtime code.
import { ARGO_APPLICATIONS, ARGO_GROUP, ARGO_VERSION } from '../../activities/argocd/resource.js';

const open = { type: 'object', x_kubernetes_preserve_unknown_fields: true } as const;

export const applicationCrd: V1CustomResourceDefinition = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${ARGO_APPLICATIONS}.${ARGO_GROUP}` },
  spec: {
    group: ARGO_GROUP,
    scope: 'Namespaced',
    names: { kind: 'Application', listKind: 'ApplicationList', plural: ARGO_APPLICATIONS, singular: 'application', shortNames: ['app', 'apps'] },
    versions: [
      {
        name: ARGO_VERSION,
        served: true,
        storage: true,
        additionalPrinterColumns: [
          { name: 'Sync Status', type: 'string', jsonPath: '.status.sync.status' },
          { name: 'Health Status', type: 'string', jsonPath: '.status.health.status' },
          { name: 'Revision', type: 'string', jsonPath: '.status.sync.revision', priority: 10 },
        ],
        schema: {
          openAPIV3Schema: {
            type: 'object',
            required: ['metadata', 'spec'],
            properties: {
              apiVersion: { type: 'string' },
              kind: { type: 'string' },
              metadata: { type: 'object' },
              spec: {
                ...open,
                required: ['destination', 'project'],
                properties: {
                  project: { type: 'string' },
                  destination: { ...open, properties: { server: { type: 'string' }, namespace: { type: 'string' }, name: { type: 'string' } } },
                  source: {
                    ...open,
                    required: ['repoURL'],
                    properties: { repoURL: { type: 'string' }, path: { type: 'string' }, targetRevision: { type: 'string' } },
                  },
                  syncPolicy: { ...open, properties: { automated: { ...open } } },
                },
              },
              operation: {
                ...open,
                properties: {
                  sync: { ...open, properties: { revision: { type: 'string' }, prune: { type: 'boolean' } } },
                  initiatedBy: { type: 'object', properties: { username: { type: 'string' }, automated: { type: 'boolean' } } },
                },
              },
              status: {
                ...open,
                properties: {
                  reconciledAt: { type: 'string', format: 'date-time' },
                  sync: { ...open, properties: { status: { type: 'string' }, revision: { type: 'string' } } },
                  health: { ...open, properties: { status: { type: 'string' }, message: { type: 'string' } } },
                  operationState: {
                    ...open,
                    properties: {
                      phase: { type: 'string' },
                      message: { type: 'string' },
                      startedAt: { type: 'string', format: 'date-time' },
                      finishedAt: { type: 'string', format: 'date-time' },
                    },
                  },
                },
              },
            },
          },
        },
      },
    ],
  },
};

/** Creates the CRD (an existing one is kept) and waits until the API server reports it Established. */
export async function installApplicationCrd(kubeConfig: KubeConfig, timeoutMs = 30_000): Promise<void> {
  const api = kubeConfig.makeApiClient(ApiextensionsV1Api);
  const name = applicationCrd.metadata!.name!;
  try {
    await api.createCustomResourceDefinition({ body: applicationCrd });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const crd = await api.readCustomResourceDefinition({ name });
    if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    if (Date.now() > deadline) throw new Error(`CRD ${name} was not Established within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
