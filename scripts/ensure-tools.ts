/** Builds (first run) or finds (later runs) every Go-built tool the suite uses, before tests start. */
import { apiextensionsApiserverPath } from '../infra/kube/binaries.js';
import { temporalCliPath } from '../infra/temporal/cli.js';
import { kustomizePath } from '../infra/kustomize.js';

const tools: Array<[string, () => string]> = [
  ['temporal', temporalCliPath],
  ['kustomize', kustomizePath],
  ['apiextensions-apiserver', apiextensionsApiserverPath],
];

for (const [name, ensure] of tools) {
  const started = Date.now();
  const path = ensure();
  console.log(`${name}: ${path} (${Math.round((Date.now() - started) / 1000)}s)`);
}
