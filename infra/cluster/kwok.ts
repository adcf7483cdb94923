/**
 * Nodes and pods without a kubelet: kwok plays the kubelet of a few fake nodes (stages in
 * kwok-stages.yaml), so the scheduler places pods, Deployments roll out and report availability,
 * and a build marked bad never becomes Ready.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { freePort } from '../ports.js';
import { startGroupProcess, type GroupProcess } from '../kube/process-group.js';
import { kwokPath } from './binaries.js';

export const FAKE_NODE_ANNOTATION = 'kwok.x-k8s.io/node';

function stagesFile(): string {
  const here = fileURLToPath(new URL('./kwok-stages.yaml', import.meta.url));
  if (existsSync(here)) return here;
  // From a build under dist/, the YAML stays in the source tree.
  const fromDist = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../infra/cluster/kwok-stages.yaml');
  if (existsSync(fromDist)) return fromDist;
  throw new Error(`cannot find kwok-stages.yaml next to ${here}`);
}

export async function startKwok(dir: string, kubeconfig: string): Promise<GroupProcess> {
  return startGroupProcess(
    kwokPath(),
    [
      '--kubeconfig', kubeconfig,
      '--config', stagesFile(),
      '--manage-all-nodes=false',
      '--manage-nodes-with-annotation-selector', `${FAKE_NODE_ANNOTATION}=fake`,
      '--node-ip', '127.0.0.1',
      '--node-port', String(await freePort()),
      '--server-address', `127.0.0.1:${await freePort()}`,
      '--cidr', '10.244.0.1/24',
      '--node-lease-duration-seconds', '40',
    ],
    join(dir, 'kwok.log'),
  );
}

/** Creates `count` fake nodes and waits until the API server reports each Ready. */
export async function addFakeNodes(kubeConfig: KubeConfig, count: number, proc: GroupProcess, timeoutMs = 60_000): Promise<string[]> {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  const names = Array.from({ length: count }, (_, i) => `kwok-node-${i}`);
  for (const name of names) {
    try {
      await api.createNode({
        body: {
          metadata: {
            name,
            annotations: { [FAKE_NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
            labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'kwok' },
          },
        },
      });
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err;
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exited()) throw new Error(`kwok ${proc.exited()} before its nodes were Ready`);
    const nodes = await api.listNode();
    const ready = nodes.items.filter((n) => names.includes(n.metadata!.name!) && n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    if (ready.length === names.length) return names;
    if (Date.now() > deadline) throw new Error(`kwok nodes not Ready within ${timeoutMs} ms (${ready.length}/${names.length})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Image tags starting with this never become Ready on the fake nodes (kwok-stages.yaml). */
const NEVER_READY_TAG_PREFIX = 'dead';
/** …and these, only in a namespace whose name ends in "production". */
const NEVER_READY_IN_PRODUCTION_TAG_PREFIX = 'deaf';

/**
 * A commit-like 40-hex id whose images kwok never makes Ready — anywhere, or only in production
 * namespaces: how a test or the demo marks a build bad.
 */
export function neverReadyCommit(where: 'anywhere' | 'production' = 'anywhere'): string {
  const prefix = where === 'production' ? NEVER_READY_IN_PRODUCTION_TAG_PREFIX : NEVER_READY_TAG_PREFIX;
  return `${prefix}${randomBytes(18).toString('hex')}`;
}

/** `sha`, with its first digit changed where kwok would take it for a never-ready build: for made-up good builds. */
export function asReadyCommit(sha: string): string {
  return sha.startsWith(NEVER_READY_TAG_PREFIX) || sha.startsWith(NEVER_READY_IN_PRODUCTION_TAG_PREFIX) ? `0${sha.slice(1)}` : sha;
}
