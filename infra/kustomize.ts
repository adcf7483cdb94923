/** kustomize, for rendering overlays in tests and the demo; pinned like the other Go-built tools. */
import { ensureGoTool } from './tools.js';

export const KUSTOMIZE_VERSION = 'v5.8.1';

export function kustomizePath(): string {
  return ensureGoTool({
    name: 'kustomize',
    goPackage: 'sigs.k8s.io/kustomize/kustomize/v5',
    version: KUSTOMIZE_VERSION,
    binary: 'kustomize',
    envVar: 'SLIPWAY_KUSTOMIZE',
    usePath: true,
  });
}
