/** Creating Kubernetes objects from YAML files or values, keeping ones that already exist (a restart reuses the cluster's data). */
import { readFileSync } from 'node:fs';
import { ApiextensionsV1Api, KubernetesObjectApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

export function objectsIn(file: string): KubernetesObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as KubernetesObject | null)
    .filter((o): o is KubernetesObject => Boolean(o?.kind));
}

export async function createObjects(kubeConfig: KubeConfig, objects: KubernetesObject[], namespace?: string): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kubeConfig);
  for (const object of objects) {
    const body = namespace && !object.metadata?.namespace && object.kind !== 'CustomResourceDefinition' && object.kind !== 'Namespace'
      ? { ...object, metadata: { ...object.metadata, namespace } }
      : object;
    try {
      await api.create(body);
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw new Error(`creating ${object.kind}/${object.metadata?.name}: ${(err as Error).message}`);
    }
  }
}

/** Waits until every named CRD is Established. */
export async function waitEstablished(kubeConfig: KubeConfig, names: string[], timeoutMs = 30_000): Promise<void> {
  const api = kubeConfig.makeApiClient(ApiextensionsV1Api);
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    for (;;) {
      const crd = await api.readCustomResourceDefinition({ name });
      if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} was not Established within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
