/** Kubeconfig files for the test API server: one per client certificate, loadable by any Kubernetes client. */
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { CertPair } from './certs.js';
import { writeText } from './certs.js';

export function writeKubeconfig(file: string, server: string, caFile: string, user: string, cert: CertPair): KubeConfig {
  return writeUserKubeconfig(file, server, caFile, user, { 'client-certificate': cert.certFile, 'client-key': cert.keyFile });
}

/** A kubeconfig that authenticates with a bearer token (a ServiceAccount's, as a pod of it would), in `namespace`. */
export function writeTokenKubeconfig(file: string, server: string, caFile: string, user: string, token: string, namespace?: string): KubeConfig {
  return writeUserKubeconfig(file, server, caFile, user, { token }, namespace);
}

function writeUserKubeconfig(file: string, server: string, caFile: string, user: string, credentials: Record<string, string>, namespace?: string): KubeConfig {
  writeText(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'slipway-test', cluster: { server, 'certificate-authority': caFile } }],
      users: [{ name: user, user: credentials }],
      contexts: [{ name: user, context: { cluster: 'slipway-test', user, ...(namespace ? { namespace } : {}) } }],
      'current-context': user,
    }),
  );
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(file);
  return kubeConfig;
}

/** A kubeconfig for the standalone server's delegation flags: it points at our loopback core stub. */
export function writeDelegationKubeconfig(file: string, coreUrl: string): string {
  return writeText(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'core', cluster: { server: coreUrl } }],
      users: [{ name: 'delegation', user: { username: 'delegation', password: 'unused' } }],
      contexts: [{ name: 'core', context: { cluster: 'core', user: 'delegation' } }],
      'current-context': 'core',
    }),
  );
}
