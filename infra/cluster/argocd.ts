/**
 * The real Argo CD on the test cluster: its own CRDs and default ConfigMaps (from the module it
 * was built from), a `default` AppProject (argocd-server would create it; nothing else here
 * needs argocd-server), redis, the repo-server and the application-controller — the two
 * components that turn a git revision into Synced/Healthy. One multi-call binary; the role is
 * chosen by ARGOCD_BINARY_NAME.
 */
import { chmodSync, copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { findOnPath } from '../../activities/programs.js';
import { freePort, portOpen } from '../ports.js';
import { kustomizePath } from '../kustomize.js';
import { startGroupProcess, type GroupProcess } from '../kube/process-group.js';
import { argocdModuleFiles, argocdPath } from './binaries.js';
import { createObjects, objectsIn, waitEstablished } from './apply.js';
import { tail } from '../kube/health.js';

export const ARGOCD_NAMESPACE = 'argocd';

export interface RunningArgoCd {
  processes: Record<string, GroupProcess>;
  stop(): Promise<void>;
}

function redisBinary(): string {
  const found = process.env.SLIPWAY_REDIS ?? findOnPath('redis-server');
  if (!found) throw new Error('redis-server not found: install Debian\'s redis-server package (scripts/install-deps.sh does), or set SLIPWAY_REDIS');
  return found;
}

/** What Argo CD needs in the cluster before its controller starts. */
export async function installArgoCd(kubeConfig: KubeConfig): Promise<void> {
  const module = argocdModuleFiles();
  const yamlIn = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort().flatMap((f) => objectsIn(join(dir, f)));
  const crds = yamlIn(join(module, 'manifests/crds'));
  await createObjects(kubeConfig, crds);
  await waitEstablished(kubeConfig, crds.map((c) => c.metadata!.name!));
  await createObjects(kubeConfig, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ARGOCD_NAMESPACE } }]);
  await createObjects(kubeConfig, yamlIn(join(module, 'manifests/base/config')), ARGOCD_NAMESPACE);
  const project: KubernetesObject & { spec: unknown } = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AppProject',
    metadata: { name: 'default', namespace: ARGOCD_NAMESPACE },
    spec: {
      sourceRepos: ['*'],
      destinations: [{ server: '*', namespace: '*' }],
      clusterResourceWhitelist: [{ group: '*', kind: '*' }],
    },
  };
  await createObjects(kubeConfig, [project]);
}

async function waitPort(port: number, proc: GroupProcess, log: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await portOpen(port))) {
    if (proc.exited()) throw new Error(`${log}: the process ${proc.exited()} before listening on ${port}:\n${tail(log)}`);
    if (Date.now() > deadline) throw new Error(`nothing listened on ${port} within ${timeoutMs} ms:\n${tail(log)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function startArgoCd(dir: string, kubeconfig: string, timeoutMs = 60_000): Promise<RunningArgoCd> {
  const processes: Record<string, GroupProcess> = {};
  const stop = async () => {
    for (const name of ['argocd-application-controller', 'argocd-repo-server', 'redis']) await processes[name]?.stop();
  };
  try {
    // The repo-server runs git and kustomize from the PATH, through Argo CD's git wrapper.
    const bin = join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    copyFileSync(join(argocdModuleFiles(), 'hack/git-verify-wrapper.sh'), join(bin, 'git-verify-wrapper.sh'));
    chmodSync(join(bin, 'git-verify-wrapper.sh'), 0o755);
    copyFileSync(kustomizePath(), join(bin, 'kustomize'));
    chmodSync(join(bin, 'kustomize'), 0o755);
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, ARGOCD_GPG_ENABLED: 'false', HOME: join(dir, 'home') };
    mkdirSync(env.HOME, { recursive: true });

    const redisPort = await freePort();
    processes.redis = startGroupProcess(redisBinary(), ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--dir', dir, '--set-proc-title', 'no'], join(dir, 'redis.log'));
    await waitPort(redisPort, processes.redis, join(dir, 'redis.log'), timeoutMs);
    const redis = `127.0.0.1:${redisPort}`;

    const repoPort = await freePort();
    processes['argocd-repo-server'] = startGroupProcess(
      argocdPath(),
      ['--address', '127.0.0.1', '--port', String(repoPort), '--redis', redis, '--disable-tls', '--client-ca-path', '',
        '--metrics-address', '127.0.0.1', '--metrics-port', String(await freePort()), '--loglevel', 'warn'],
      join(dir, 'argocd-repo-server.log'),
      { ...env, ARGOCD_BINARY_NAME: 'argocd-repo-server', TMPDIR: join(dir, 'repo-server-tmp') },
    );
    mkdirSync(join(dir, 'repo-server-tmp'), { recursive: true });
    await waitPort(repoPort, processes['argocd-repo-server'], join(dir, 'argocd-repo-server.log'), timeoutMs);

    processes['argocd-application-controller'] = startGroupProcess(
      argocdPath(),
      ['--kubeconfig', kubeconfig, '--namespace', ARGOCD_NAMESPACE, '--redis', redis,
        '--repo-server', `127.0.0.1:${repoPort}`, '--repo-server-plaintext',
        '--metrics-port', String(await freePort()),
        // Slipway asks for a refresh after every write; the periodic one is only a backstop.
        '--app-resync', '180', '--loglevel', 'warn'],
      join(dir, 'argocd-application-controller.log'),
      { ...env, ARGOCD_BINARY_NAME: 'argocd-application-controller', ARGOCD_FAKE_IN_CLUSTER: 'true', KUBECONFIG: kubeconfig },
    );
    return { processes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
