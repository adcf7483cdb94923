/**
 * The Argo CD Applications of the TodoApp example (infra/examples/todoapp/argocd/*.yaml), created
 * in the demo's Kubernetes API server with their repoURL pointing at the demo's GitOps repository.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { applicationApi, type ArgoApplication } from '../../activities/argocd/index.js';
import { todoappExampleDir } from '../examples/seed-repo.js';

export interface ApplicationNaming {
  /** The Application's name, from the example's (`todoapp-staging`). */
  name?: (name: string) => string;
  /** The destination namespace for an environment (the overlay's folder name); see ExampleDeployment. */
  namespace?: (environment: string) => string;
}

export function exampleApplications(repoURL: string, naming: ApplicationNaming = {}): ArgoApplication[] {
  const dir = join(todoappExampleDir(), 'argocd');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const app = parse(readFileSync(join(dir, f), 'utf8')) as ArgoApplication;
      if (!app.spec.source) throw new Error(`${f}: the Application has no spec.source`);
      app.spec.source.repoURL = repoURL;
      if (naming.name) app.metadata.name = naming.name(app.metadata.name);
      const environment = app.spec.source.path?.split('/').pop();
      if (naming.namespace && environment && app.spec.destination) app.spec.destination.namespace = naming.namespace(environment);
      return app;
    });
}

export async function createApplications(kubeConfig: KubeConfig, apps: ArgoApplication[]): Promise<void> {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  for (const body of apps) {
    await api.createNamespacedCustomObject({ ...applicationApi, namespace: body.metadata.namespace ?? 'argocd', body });
  }
}
