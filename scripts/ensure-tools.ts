/** Builds (first run) or finds (later runs) every Go-built tool the suite uses, before tests start. */
import { argocdPath, etcd36Path, kubeApiserverPath, kwokPath } from '../infra/cluster/binaries.js';
import { apiextensionsApiserverPath } from '../infra/kube/binaries.js';
import { temporalCliPath } from '../infra/temporal/cli.js';
import { temporalServerPath } from '../infra/temporal/production-server.js';
import { kustomizePath } from '../infra/kustomize.js';
import { versitygwPath } from '../infra/s3/binary.js';

const tools: Array<[string, () => string]> = [
  ['temporal', temporalCliPath],
  ['kustomize', kustomizePath],
  ['apiextensions-apiserver', apiextensionsApiserverPath],
  // The real cluster: the first build of these takes about 15 minutes, later runs none.
  ['etcd 3.6', etcd36Path],
  ['kwok', kwokPath],
  ['Kubernetes control plane', kubeApiserverPath],
  ['Argo CD', argocdPath],
  // The production Temporal server (and temporal-sql-tool) for the production-server tier.
  ['Temporal server', temporalServerPath],
  // The S3-compatible server the object-store backup tests run against (about a minute to build).
  ['versitygw', versitygwPath],
];

for (const [name, ensure] of tools) {
  const started = Date.now();
  const path = ensure();
  console.log(`${name}: ${path} (${Math.round((Date.now() - started) / 1000)}s)`);
}
