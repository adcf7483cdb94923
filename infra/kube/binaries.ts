/** The standalone CRD API server, built with `go install k8s.io/apiextensions-apiserver@v0.36.3` into the tool cache. */
import { ensureGoTool } from '../tools.js';

export const APIEXTENSIONS_APISERVER_VERSION = 'v0.36.3';

export function apiextensionsApiserverPath(): string {
  return ensureGoTool({
    name: 'apiextensions-apiserver',
    goPackage: 'k8s.io/apiextensions-apiserver',
    version: APIEXTENSIONS_APISERVER_VERSION,
    binary: 'apiextensions-apiserver',
    envVar: 'SLIPWAY_APIEXTENSIONS_APISERVER',
    usePath: false,
  });
}
