/** A single-member etcd (Debian's `etcd-server` package, or a given binary) on free loopback ports, data in a given folder. */
import { join } from 'node:path';
import { findOnPath } from '../../activities/programs.js';
import { freePort, portOpen } from '../ports.js';
import { startGroupProcess, type GroupProcess } from './process-group.js';

export interface RunningEtcd {
  url: string;
  process: GroupProcess;
}

export function etcdBinary(): string {
  const fromEnv = process.env.SLIPWAY_ETCD;
  if (fromEnv) return fromEnv;
  const onPath = findOnPath('etcd');
  if (!onPath) throw new Error('etcd not found: install Debian\'s etcd-server package (scripts/install-deps.sh does), or set SLIPWAY_ETCD');
  return onPath;
}

export async function startEtcd(dataDir: string, logDir: string, timeoutMs = 30_000, binary = etcdBinary(), extraArgs: string[] = []): Promise<RunningEtcd> {
  const clientPort = await freePort();
  const peerPort = await freePort();
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const proc = startGroupProcess(
    binary,
    [
      '--name', 'slipway', '--data-dir', dataDir,
      '--listen-client-urls', url, '--advertise-client-urls', url,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `slipway=${peer}`,
      '--quota-backend-bytes', String(256 * 1024 * 1024),
      '--logger', 'zap', '--log-level', 'warn',
      ...extraArgs,
    ],
    join(logDir, 'etcd.log'),
  );
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exited()) throw new Error(`etcd ${proc.exited()} before answering (see ${join(logDir, 'etcd.log')})`);
    if (await portOpen(clientPort)) {
      try {
        const res = await fetch(`${url}/health`);
        if (res.ok && ((await res.json()) as { health?: string }).health === 'true') return { url, process: proc };
      } catch {
        /* not yet */
      }
    }
    if (Date.now() > deadline) {
      await proc.stop();
      throw new Error(`etcd did not become healthy on ${url} within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
