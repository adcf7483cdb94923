/**
 * TLS material for the test Kubernetes API server, made with Debian's `openssl`: one CA that
 * signs the serving certificate (for 127.0.0.1) and the client certificates. The API server maps
 * a client certificate to a user by its CN and to groups by its O fields, so "admin in
 * system:masters" is simply a certificate with those subject fields.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CertPair {
  certFile: string;
  keyFile: string;
}

export interface ClusterCerts {
  caFile: string;
  serving: CertPair;
}

function openssl(args: string[], what: string): void {
  const result = spawnSync('openssl', args, { encoding: 'utf8' });
  if (result.error) throw new Error(`cannot run openssl (${what}): ${result.error.message} — install Debian's openssl`);
  if (result.status !== 0) throw new Error(`openssl ${what} failed (exit ${result.status}): ${result.stderr.trim()}`);
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function signedPair(dir: string, name: string, subject: string, extensions: string[]): CertPair {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  const ca = join(dir, 'ca.crt');
  const caKey = join(dir, 'ca.key');
  // `req -x509 -CA` (OpenSSL 3) makes and signs the certificate in one step.
  openssl(
    ['req', '-x509', ...EC_KEY, '-keyout', keyFile, '-out', certFile, '-days', '30', '-subj', subject,
      '-CA', ca, '-CAkey', caKey, ...extensions.flatMap((e) => ['-addext', e])],
    `certificate ${name}`,
  );
  return { certFile, keyFile };
}

/** Creates the CA and the serving certificate in `dir` (kept when they are already there, so a restart reuses them). */
export function ensureClusterCerts(dir: string): ClusterCerts {
  const caFile = join(dir, 'ca.crt');
  if (!existsSync(caFile)) {
    openssl(
      ['req', '-x509', ...EC_KEY, '-keyout', join(dir, 'ca.key'), '-out', caFile, '-days', '30',
        '-subj', '/CN=slipway-test-ca', '-addext', 'basicConstraints=critical,CA:TRUE',
        '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
      'CA',
    );
  }
  const serving = existsSync(join(dir, 'serving.crt'))
    ? { certFile: join(dir, 'serving.crt'), keyFile: join(dir, 'serving.key') }
    : signedPair(dir, 'serving', '/CN=127.0.0.1', [
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        'extendedKeyUsage=serverAuth',
        'basicConstraints=critical,CA:FALSE',
      ]);
  return { caFile, serving };
}

/** A client certificate for `user` in `groups`, signed by the cluster CA in `dir`. */
export function clientCert(dir: string, user: string, groups: string[]): CertPair {
  const safe = user.replace(/[^A-Za-z0-9_.-]/g, '_');
  const subject = `/CN=${user}${groups.map((g) => `/O=${g}`).join('')}`;
  return signedPair(dir, `client-${safe}`, subject, ['extendedKeyUsage=clientAuth', 'basicConstraints=critical,CA:FALSE']);
}

export function writeText(file: string, text: string): string {
  writeFileSync(file, text, { mode: 0o600 });
  return file;
}
