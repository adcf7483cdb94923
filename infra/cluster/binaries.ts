/**
 * The real cluster's programs, built from Go modules into the versioned tool cache
 * (~/.cache/slipway/<tool>-<version>/): Kubernetes' control plane, the etcd it needs, kwok for
 * nodes and pods without a kubelet, and Argo CD. Versions, replace lists and toolchains are the
 * ones known to build from the module proxy (see the README's "Test tiers").
 */
import { join, dirname } from 'node:path';
import { ensureGoTool, goModReplaces, type GoTool } from '../tools.js';

export const KUBERNETES_VERSION = 'v1.36.3';
export const ETCD_VERSION = 'v3.6.8';
export const KWOK_VERSION = 'v0.8.0';
export const ARGOCD_VERSION = 'v3.6.1';

/** Kubernetes' staging modules, each replaced by its own published version (v0.<minor>.<patch>). */
const STAGING = [
  'api', 'apiextensions-apiserver', 'apimachinery', 'apiserver', 'cli-runtime', 'client-go', 'cloud-provider',
  'cluster-bootstrap', 'code-generator', 'component-base', 'component-helpers', 'controller-manager', 'cri-api',
  'cri-client', 'cri-streaming', 'csi-translation-lib', 'dynamic-resource-allocation', 'endpointslice', 'externaljwt',
  'kms', 'kube-aggregator', 'kube-controller-manager', 'kube-proxy', 'kube-scheduler', 'kubectl', 'kubelet', 'metrics',
  'mount-utils', 'pod-security-admission', 'sample-apiserver', 'sample-controller', 'streaming',
];

function versionFlags(): string[] {
  const [major, minor] = KUBERNETES_VERSION.slice(1).split('.');
  // Without these the servers report v0.0.0-master, which some clients refuse.
  return ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((pkg) => [
    `-X ${pkg}.gitVersion=${KUBERNETES_VERSION}`,
    `-X ${pkg}.gitMajor=${major}`,
    `-X ${pkg}.gitMinor=${minor}`,
    `-X ${pkg}.gitTreeState=clean`,
  ]);
}

const kubernetes: GoTool = {
  name: 'kubernetes',
  goPackage: 'k8s.io/kubernetes',
  version: KUBERNETES_VERSION,
  binary: 'kube-apiserver',
  envVar: 'SLIPWAY_KUBE_APISERVER',
  usePath: false,
  wrapper: {
    module: 'k8s.io/kubernetes',
    replaces: STAGING.map((m) => `k8s.io/${m} => k8s.io/${m} v0.${KUBERNETES_VERSION.slice(3)}`),
    packages: {
      'kube-apiserver': 'k8s.io/kubernetes/cmd/kube-apiserver',
      'kube-controller-manager': 'k8s.io/kubernetes/cmd/kube-controller-manager',
      'kube-scheduler': 'k8s.io/kubernetes/cmd/kube-scheduler',
    },
    ldflags: versionFlags(),
  },
};

const etcd: GoTool = {
  name: 'etcd',
  goPackage: 'go.etcd.io/etcd/server/v3',
  version: ETCD_VERSION,
  binary: 'etcd',
  envVar: 'SLIPWAY_ETCD36',
  usePath: false,
  wrapper: {
    module: 'go.etcd.io/etcd/server/v3',
    replaces: ['api', 'client/pkg', 'client', 'pkg'].map((m) => `go.etcd.io/etcd/${m}/v3 => go.etcd.io/etcd/${m}/v3 ${ETCD_VERSION}`),
    packages: { etcd: 'go.etcd.io/etcd/server/v3' },
  },
};

const kwok: GoTool = {
  name: 'kwok',
  goPackage: 'sigs.k8s.io/kwok/cmd/kwok',
  version: KWOK_VERSION,
  binary: 'kwok',
  envVar: 'SLIPWAY_KWOK',
  usePath: false,
};

const argocd: GoTool = {
  name: 'argocd',
  goPackage: 'github.com/argoproj/argo-cd/v3',
  version: ARGOCD_VERSION,
  binary: 'argocd',
  envVar: 'SLIPWAY_ARGOCD',
  usePath: false,
  wrapper: {
    module: 'github.com/argoproj/argo-cd/v3',
    // Argo CD's own replace block, minus the gitops-engine line that points into its source tree
    // (the published gitops-engine module of the same version is used instead).
    replaces: (goMod) => goModReplaces(goMod).filter((line) => !/=>\s*\.\//.test(line)),
    packages: { argocd: 'github.com/argoproj/argo-cd/v3/cmd' },
    ldflags: [`-X github.com/argoproj/argo-cd/v3/common.version=${ARGOCD_VERSION.slice(1)}`],
    toolchain: 'go1.27.3',
    copyFromModule: ['manifests/crds', 'manifests/base/config', 'hack/git-verify-wrapper.sh'],
  },
};

export const kubeApiserverPath = (): string => ensureGoTool(kubernetes);
export const kubeControllerManagerPath = (): string => join(dirname(kubeApiserverPath()), 'kube-controller-manager');
export const kubeSchedulerPath = (): string => join(dirname(kubeApiserverPath()), 'kube-scheduler');
export const etcd36Path = (): string => ensureGoTool(etcd);
export const kwokPath = (): string => ensureGoTool(kwok);
export const argocdPath = (): string => ensureGoTool(argocd);
/** Argo CD's CRDs, default ConfigMaps and git wrapper, copied from its module at build time. */
export const argocdModuleFiles = (): string => join(dirname(argocdPath()), 'module');
