/** Kubeconfig files for the test API server: one per client certificate, loadable by any Kubernetes client. */
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { CertPair } from './certs.js';
import { writeText } from './certs.js';

export function writeKubeconfig(file: string, server: string, caFile: string, user: string, cert: CertPair): KubeConfig {
  writeText(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'slipway-test', cluster: { server, 'certificate-authority': caFile } }],
      users: [{ name: user, user: { 'client-certificate': cert.certFile, 'client-key': cert.keyFile } }],
      contexts: [{ name: user, context: { cluster: 'slipway-test', user } }],
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
