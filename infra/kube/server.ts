/**
 * A real Kubernetes API server for tests and the demo: etcd plus the standalone
 * apiextensions-apiserver (real storage, watch, resourceVersions, patches, schema validation for
 * custom resources), serving TLS on a free loopback port, with client-certificate authentication.
 * The flags follow upstream's test/integration/fixtures/server.go: skip the authentication lookup,
 * delegation kubeconfigs (here pointing at a loopback stub that denies everyone outside
 * system:masters), and no admission or flow control that would need a core kube-apiserver.
 * The Argo CD Application CRD is installed and Established before this returns.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { freePort } from '../ports.js';
import { installApplicationCrd } from './argocd-crd.js';
import { startCoreStub, type CoreStub } from './authz-webhook.js';
import { apiextensionsApiserverPath } from './binaries.js';
import { clientCert, ensureClusterCerts, type ClusterCerts } from './certs.js';
import { waitHealthy } from './health.js';
import { startEtcd, type RunningEtcd } from './etcd.js';
import { writeDelegationKubeconfig, writeKubeconfig } from './kubeconfig.js';
import { startGroupProcess, type GroupProcess } from './process-group.js';

export interface KubeApiServer {
  /** https://127.0.0.1:<port> */
  url: string;
  /** Kubeconfig of `admin` in `system:masters`. */
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  /** The folder holding certificates, etcd data and logs. */
  dir: string;
  /** Process group ids of etcd and the API server (for teardown checks). */
  pids(): { etcd: number; apiserver: number };
  /** A kubeconfig for another user (a client certificate with that CN and O=groups). */
  kubeConfigFor(user: string, groups: string[]): KubeConfig;
  /** Stops the API server process and starts it again on the same port, keeping etcd and its data. */
  restart(): Promise<void>;
  /** Stops every process and removes the folder (unless `dataDir` was given). */
  stop(): Promise<void>;
}

export interface StartKubeApiServerOptions {
  /** Keep certificates, etcd data and logs here; a temp folder, removed on stop(), when omitted. */
  dataDir?: string;
  startTimeoutMs?: number;
}

export async function startKubeApiServer(options: StartKubeApiServerOptions = {}): Promise<KubeApiServer> {
  const binary = apiextensionsApiserverPath();
  const ownsDir = !options.dataDir;
  const dir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'slipway-kube-'));
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  mkdirSync(join(dir, 'pki'), { recursive: true });
  const certs = ensureClusterCerts(join(dir, 'pki'));
  const admin = clientCert(join(dir, 'pki'), 'admin', ['system:masters']);

  let etcd: RunningEtcd | undefined;
  let core: CoreStub | undefined;
  let apiserver: GroupProcess | undefined;
  const stopAll = async () => {
    await apiserver?.stop();
    await etcd?.process.stop();
    await core?.close();
  };
  try {
    etcd = await startEtcd(join(dir, 'etcd'), dir);
    core = await startCoreStub(await freePort());
    const delegation = writeDelegationKubeconfig(join(dir, 'delegation.kubeconfig'), core.url);
    const port = await freePort();
    const url = `https://127.0.0.1:${port}`;
    const args = apiserverArgs({ etcdUrl: etcd.url, port, dir, certs, delegation });
    const launch = async () => {
      apiserver = startGroupProcess(binary, args, join(dir, 'apiserver.log'));
      await waitHealthy(`${url}/readyz`, certs.caFile, admin, apiserver, join(dir, 'apiserver.log'), timeoutMs);
    };
    await launch();

    const kubeconfigPath = join(dir, 'admin.kubeconfig');
    const kubeConfig = writeKubeconfig(kubeconfigPath, url, certs.caFile, 'admin', admin);
    await installApplicationCrd(kubeConfig);

    let stopped = false;
    return {
      url,
      kubeconfigPath,
      kubeConfig,
      dir,
      pids: () => ({ etcd: etcd!.process.pid, apiserver: apiserver!.pid }),
      kubeConfigFor(user, groups) {
        const cert = clientCert(join(dir, 'pki'), user, groups);
        return writeKubeconfig(join(dir, `${cert.certFile.split('/').pop()}.kubeconfig`), url, certs.caFile, user, cert);
      },
      async restart() {
        await apiserver!.stop();
        await launch();
      },
      async stop() {
        if (stopped) return;
        stopped = true;
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

function apiserverArgs(o: { etcdUrl: string; port: number; dir: string; certs: ClusterCerts; delegation: string }): string[] {
  return [
    '--etcd-servers', o.etcdUrl,
    '--bind-address', '127.0.0.1',
    '--advertise-address', '127.0.0.1',
    '--secure-port', String(o.port),
    '--cert-dir', join(o.dir, 'pki'),
    '--tls-cert-file', o.certs.serving.certFile,
    '--tls-private-key-file', o.certs.serving.keyFile,
    '--client-ca-file', o.certs.caFile,
    '--authentication-skip-lookup',
    '--authentication-kubeconfig', o.delegation,
    '--authorization-kubeconfig', o.delegation,
    '--kubeconfig', o.delegation,
    // Denials are answered at once by the stub; don't cache them across tests' users.
    '--authorization-webhook-cache-unauthorized-ttl', '0s',
    '--enable-priority-and-fairness=false',
    '--disable-admission-plugins', 'NamespaceLifecycle,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ValidatingAdmissionPolicy,MutatingAdmissionPolicy',
  ];
}
