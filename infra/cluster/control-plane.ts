/**
 * Kubernetes' own control plane on loopback: etcd 3.6, kube-apiserver with RBAC authorization
 * (client certificates for people and components, service-account tokens for workloads),
 * kube-controller-manager (Deployments roll out, ReplicaSets make pods, PVCs bind) and
 * kube-scheduler (pods land on nodes). Certificates and flags as in ../kube, with the real
 * apiserver instead of the standalone CRD server.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { freePort } from '../ports.js';
import { clientCert, ensureClusterCerts, type ClusterCerts } from '../kube/certs.js';
import { waitHealthy } from '../kube/health.js';
import { startEtcd, type RunningEtcd } from '../kube/etcd.js';
import { writeKubeconfig } from '../kube/kubeconfig.js';
import { startGroupProcess, type GroupProcess } from '../kube/process-group.js';
import { etcd36Path, kubeApiserverPath, kubeControllerManagerPath, kubeSchedulerPath } from './binaries.js';

export interface ControlPlane {
  url: string;
  caFile: string;
  adminKubeconfig: string;
  kubeConfig: KubeConfig;
  processes(): Record<string, GroupProcess>;
  kubeConfigFor(user: string, groups: string[]): KubeConfig;
  /** Stops kube-apiserver and starts it again on the same port; etcd and the controllers stay. */
  restartApiServer(): Promise<void>;
  stop(): Promise<void>;
}

function serviceAccountKey(dir: string): string {
  const key = join(dir, 'service-account.key');
  if (!existsSync(key)) {
    const made = spawnSync('openssl', ['genrsa', '-out', key, '2048'], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`openssl genrsa failed: ${made.stderr}`);
  }
  return key;
}

export async function startControlPlane(dir: string, timeoutMs = 90_000): Promise<ControlPlane> {
  const pki = join(dir, 'pki');
  mkdirSync(pki, { recursive: true });
  const certs = ensureClusterCerts(pki);
  const admin = clientCert(pki, 'admin', ['system:masters']);
  const saKey = serviceAccountKey(pki);
  const running: Record<string, GroupProcess> = {};
  let etcd: RunningEtcd | undefined;
  const stopAll = async () => {
    for (const name of ['kube-scheduler', 'kube-controller-manager', 'kube-apiserver']) await running[name]?.stop();
    await etcd?.process.stop();
  };
  try {
    etcd = await startEtcd(join(dir, 'etcd'), dir, 30_000, etcd36Path(), ['--unsafe-no-fsync']);
    running.etcd = etcd.process;
    const port = await freePort();
    const url = `https://127.0.0.1:${port}`;
    const adminKubeconfig = join(dir, 'admin.kubeconfig');
    const kubeConfig = writeKubeconfig(adminKubeconfig, url, certs.caFile, 'admin', admin);

    const launchApiServer = async () => {
      running['kube-apiserver'] = startGroupProcess(kubeApiserverPath(), apiserverArgs(etcd!.url, port, pki, certs, saKey), join(dir, 'kube-apiserver.log'));
      await waitHealthy(`${url}/readyz`, certs.caFile, admin, running['kube-apiserver'], join(dir, 'kube-apiserver.log'), timeoutMs);
    };
    await launchApiServer();

    const [cmPort, schedPort] = [await freePort(), await freePort()];
    running['kube-controller-manager'] = startGroupProcess(
      kubeControllerManagerPath(),
      [
        '--kubeconfig', adminKubeconfig,
        '--authentication-kubeconfig', adminKubeconfig,
        '--authorization-kubeconfig', adminKubeconfig,
        '--bind-address', '127.0.0.1', '--secure-port', String(cmPort),
        '--service-account-private-key-file', saKey,
        '--root-ca-file', certs.caFile,
        '--use-service-account-credentials=false',
        '--leader-elect=false',
        '--enable-hostpath-provisioner',
        // No cloud, no pod network: the controllers that need them stay off.
        '--controllers', '*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller',
      ],
      join(dir, 'kube-controller-manager.log'),
    );
    running['kube-scheduler'] = startGroupProcess(
      kubeSchedulerPath(),
      [
        '--kubeconfig', adminKubeconfig,
        '--authentication-kubeconfig', adminKubeconfig,
        '--authorization-kubeconfig', adminKubeconfig,
        '--bind-address', '127.0.0.1', '--secure-port', String(schedPort),
        '--leader-elect=false',
      ],
      join(dir, 'kube-scheduler.log'),
    );
    await waitHealthy(`https://127.0.0.1:${cmPort}/healthz`, undefined, admin, running['kube-controller-manager'], join(dir, 'kube-controller-manager.log'), timeoutMs);
    await waitHealthy(`https://127.0.0.1:${schedPort}/healthz`, undefined, admin, running['kube-scheduler'], join(dir, 'kube-scheduler.log'), timeoutMs);

    return {
      url,
      caFile: certs.caFile,
      adminKubeconfig,
      kubeConfig,
      processes: () => ({ ...running }),
      kubeConfigFor(user, groups) {
        const cert = clientCert(pki, user, groups);
        return writeKubeconfig(join(dir, `${cert.certFile.split('/').pop()}.kubeconfig`), url, certs.caFile, user, cert);
      },
      async restartApiServer() {
        await running['kube-apiserver']!.stop();
        await launchApiServer();
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function apiserverArgs(etcdUrl: string, port: number, pki: string, certs: ClusterCerts, saKey: string): string[] {
  return [
    '--etcd-servers', etcdUrl,
    '--bind-address', '127.0.0.1',
    '--advertise-address', '127.0.0.1',
    '--secure-port', String(port),
    '--cert-dir', pki,
    '--tls-cert-file', certs.serving.certFile,
    '--tls-private-key-file', certs.serving.keyFile,
    '--client-ca-file', certs.caFile,
    '--authorization-mode', 'Node,RBAC',
    '--service-account-issuer', 'https://kubernetes.default.svc.cluster.local',
    '--service-account-key-file', saKey,
    '--service-account-signing-key-file', saKey,
    '--service-cluster-ip-range', '10.96.0.0/16',
    '--enable-priority-and-fairness=false',
    // The watch cache serves the controllers' lists; one is enough for a test cluster.
    '--watch-cache=true',
  ];
}
