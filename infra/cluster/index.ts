/**
 * The real cluster tier: Kubernetes' control plane (etcd, kube-apiserver with RBAC,
 * kube-controller-manager, kube-scheduler), kwok nodes, and the real Argo CD
 * (application-controller + repo-server + redis), all on loopback, started once and shared by a
 * whole test run, the demo or a bench. Versions are in ./binaries.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { writeTokenKubeconfig } from '../kube/kubeconfig.js';
import type { GroupProcess } from '../kube/process-group.js';
import { installArgoCd, startArgoCd } from './argocd.js';
import { createObjects } from './apply.js';
import { ARGOCD_VERSION, KUBERNETES_VERSION } from './binaries.js';
import { startControlPlane } from './control-plane.js';
import { addFakeNodes, startKwok } from './kwok.js';

export { ARGOCD_NAMESPACE } from './argocd.js';
export { asReadyCommit, neverReadyCommit } from './kwok.js';
export { ARGOCD_VERSION, KUBERNETES_VERSION, KWOK_VERSION, ETCD_VERSION } from './binaries.js';

export interface RealCluster {
  /** https://127.0.0.1:<port> of kube-apiserver. */
  url: string;
  caFile: string;
  /** Kubeconfig of `admin` in `system:masters`. */
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  dir: string;
  versions: { kubernetes: string; argocd: string };
  /** Process group ids of every component, for teardown checks. */
  pids(): Record<string, number>;
  /** A kubeconfig for another user (client certificate CN=user, O=groups). */
  kubeConfigFor(user: string, groups: string[]): KubeConfig;
  /** A kubeconfig carrying a fresh token of a ServiceAccount, as a pod of it would use. */
  serviceAccountKubeConfig(namespace: string, name: string): Promise<{ kubeConfig: KubeConfig; path: string }>;
  restartApiServer(): Promise<void>;
  stop(): Promise<void>;
}

/** Where kube-controller-manager's host-path provisioner makes volumes (fixed in Kubernetes). */
const HOSTPATH_ROOT = '/tmp/hostpath_pv/';

/** The folders the host-path provisioner made for this cluster's volumes: nothing of a run stays on the machine. */
async function removeProvisionedVolumes(kubeConfig: KubeConfig): Promise<void> {
  try {
    const volumes = await kubeConfig.makeApiClient(CoreV1Api).listPersistentVolume();
    for (const pv of volumes.items) {
      const path = pv.spec?.hostPath?.path;
      if (path?.startsWith(HOSTPATH_ROOT)) rmSync(path, { recursive: true, force: true });
    }
  } catch {
    /* the API server is already gone: nothing to ask */
  }
}

export interface StartRealClusterOptions {
  /** Keep the cluster's data and logs here; a temp folder, removed on stop(), when omitted. */
  dir?: string;
  nodes?: number;
  log?: (line: string) => void;
}

/** What another process needs to use a running cluster (written to <dir>/cluster.json). */
export interface ClusterInfo {
  url: string;
  caFile: string;
  kubeconfigPath: string;
  versions: { kubernetes: string; argocd: string };
}

export function loadClusterKubeConfig(info: Pick<ClusterInfo, 'kubeconfigPath'>): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(info.kubeconfigPath);
  return kubeConfig;
}

export async function startRealCluster(options: StartRealClusterOptions = {}): Promise<RealCluster> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const ownsDir = !options.dir;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'slipway-cluster-'));
  mkdirSync(dir, { recursive: true });
  const started = Date.now();
  const processes: Record<string, GroupProcess> = {};
  let stopControlPlane: (() => Promise<void>) | undefined;
  let stopArgo: (() => Promise<void>) | undefined;
  const stopAll = async () => {
    await stopArgo?.();
    await processes.kwok?.stop();
    await stopControlPlane?.();
  };
  try {
    const plane = await startControlPlane(dir);
    stopControlPlane = plane.stop;
    // Storage: kube-controller-manager's host-path provisioner (--enable-hostpath-provisioner)
    // behind a default StorageClass, so the example's PostgreSQL StatefulSet gets its volume.
    await createObjects(plane.kubeConfig, [
      {
        apiVersion: 'storage.k8s.io/v1',
        kind: 'StorageClass',
        metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
        provisioner: 'kubernetes.io/host-path',
      } as never,
    ]);
    processes.kwok = await startKwok(dir, plane.adminKubeconfig);
    await addFakeNodes(plane.kubeConfig, options.nodes ?? 2, processes.kwok);
    await installArgoCd(plane.kubeConfig);
    const argo = await startArgoCd(dir, plane.adminKubeconfig);
    stopArgo = argo.stop;
    Object.assign(processes, argo.processes);
    const versions = { kubernetes: KUBERNETES_VERSION, argocd: ARGOCD_VERSION };
    const info: ClusterInfo = { url: plane.url, caFile: plane.caFile, kubeconfigPath: plane.adminKubeconfig, versions };
    writeFileSync(join(dir, 'cluster.json'), JSON.stringify(info, null, 2));
    log(`real cluster up in ${((Date.now() - started) / 1000).toFixed(1)} s: Kubernetes ${versions.kubernetes} (kwok nodes), Argo CD ${versions.argocd} at ${plane.url} (${dir})`);

    let stopped = false;
    return {
      ...info,
      kubeConfig: plane.kubeConfig,
      dir,
      versions,
      pids: () => Object.fromEntries(Object.entries({ ...plane.processes(), ...processes }).map(([name, p]) => [name, p.pid])),
      kubeConfigFor: plane.kubeConfigFor,
      async serviceAccountKubeConfig(namespace, name) {
        const token = await plane.kubeConfig.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
          namespace,
          name,
          body: { spec: { audiences: ['https://kubernetes.default.svc.cluster.local'], expirationSeconds: 3600 } },
        });
        const path = join(dir, `sa-${namespace}-${name}.kubeconfig`);
        const kubeConfig = writeTokenKubeconfig(path, plane.url, plane.caFile, name, token.status!.token, namespace);
        return { kubeConfig, path };
      },
      restartApiServer: plane.restartApiServer,
      async stop() {
        if (stopped) return;
        stopped = true;
        await removeProvisionedVolumes(plane.kubeConfig);
        await stopAll();
        if (ownsDir) rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await stopAll();
    if (ownsDir) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

