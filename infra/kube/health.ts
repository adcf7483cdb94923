/** Waiting for a Kubernetes server process to answer its health endpoint over TLS, failing with its log when it exits or times out. */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { CertPair } from './certs.js';
import type { GroupProcess } from './process-group.js';

/** Polls `url` with the client certificate (and `caFile`, or none for a self-signed component) until it answers 200. */
export async function waitHealthy(url: string, caFile: string | undefined, client: CertPair, proc: GroupProcess, log: string, timeoutMs: number): Promise<void> {
  const ca = caFile ? readFileSync(caFile) : undefined;
  const cert = readFileSync(client.certFile);
  const key = readFileSync(client.keyFile);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exited()) throw new Error(`${url}: the process ${proc.exited()} before it was healthy:\n${tail(log)}`);
    const status = await new Promise<number>((resolve) => {
      const req = request(url, { ca, cert, key, rejectUnauthorized: Boolean(ca), timeout: 2000 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(0));
      req.on('timeout', () => req.destroy());
      req.end();
    });
    if (status === 200) return;
    if (Date.now() > deadline) {
      await proc.stop();
      throw new Error(`${url} was not healthy within ${timeoutMs} ms:\n${tail(log)}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}

export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
