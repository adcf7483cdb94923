/**
 * The ways to run Slipway for real, checked without Docker or a cluster: docker-compose.yml and the
 * Dockerfile cross-checked against each other and the build output, and infra/k8s rendered with
 * kustomize and checked for least-privilege RBAC, config and secrets wiring, and the webhook Service.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseConfig, type SlipwayConfig } from '../../config/schema.js';
import { SEARCH_ATTRIBUTES } from '../../core/search-attributes.js';
import { kustomizePath } from '../../infra/kustomize.js';
import { dockerStages } from '../support/dockerfile.js';

const root = process.cwd();
const read = (path: string) => readFileSync(join(root, path), 'utf8');

const WORKER_MAIN = 'dist/worker/main.js';
const WEBHOOK_MAIN = 'dist/client/webhook/main.js';

/** Every env var a config names for secrets: `tokenFromEnv`, `urlFromEnv`. */
function secretVarsOf(config: SlipwayConfig): string[] {
  const names = new Set<string>();
  const walk = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if ((k === 'tokenFromEnv' || k === 'urlFromEnv') && typeof v === 'string') names.add(v);
        else walk(v);
      }
    }
  };
  walk(config);
  return [...names].sort();
}

// ------------------------------------------------------------------------------------ Dockerfile
describe('Dockerfile', () => {
  const stages = dockerStages(read('Dockerfile'));
  const stage = (name: string) => stages.find((s) => s.name === name)!;

  it('builds in one stage, installs production packages in another, and runs from a slim runtime', () => {
    expect(stages.map((s) => s.name)).toEqual(['kustomize', 'build', 'deps', 'runtime']);
    expect(stage('build').lines).toEqual(expect.arrayContaining([expect.stringMatching(/^RUN npm ci\b/), 'RUN npm run build:runtime']));
    expect(stage('deps').lines).toContainEqual(expect.stringMatching(/^RUN npm ci .*--omit=dev/));
    const runtime = stage('runtime').lines;
    expect(runtime).toContain('COPY --from=deps /app/node_modules ./node_modules');
    expect(runtime).toContain('COPY --from=build /app/dist ./dist');
    // The worker renders every overlay edit before committing it (activities/gitops/verify-edit.ts).
    expect(stage('kustomize').lines).toContainEqual(expect.stringMatching(/go install .*sigs\.k8s\.io\/kustomize\/kustomize\/v5@\$\{KUSTOMIZE_VERSION\}/));
    expect(runtime).toContain('COPY --from=kustomize /go/bin/kustomize /usr/local/bin/kustomize');
    expect(runtime, 'ESM needs package.json ("type": "module") next to dist').toContain('COPY package.json ./');
    expect(runtime, 'the GitOps activities run the git CLI').toContainEqual(expect.stringMatching(/apt-get install .*\bgit\b/));
    expect(runtime).toContain('USER node');
  });

  it('copies every source folder the runtime build compiles, and nothing the .dockerignore drops', () => {
    const include = (JSON.parse(read('tsconfig.runtime.json')) as { include: string[] }).include;
    const copied = stage('build').lines.filter((l) => l.startsWith('COPY ')).flatMap((l) => l.split(/\s+/).slice(1, -1));
    expect(copied).toEqual(expect.arrayContaining([...include, 'tsconfig.json', 'tsconfig.runtime.json']));
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.env']));
    for (const folder of include) expect(ignored).not.toContain(folder);
  });

  it('runs the worker by default, and the CMD paths exist after the build', () => {
    const cmd = stage('runtime').lines.find((l) => l.startsWith('CMD '))!;
    expect(JSON.parse(cmd.slice(4))).toEqual(['node', WORKER_MAIN]);
    expect(existsSync(join(root, WORKER_MAIN)), `${WORKER_MAIN} after npm run build`).toBe(true);
    expect(existsSync(join(root, WEBHOOK_MAIN)), `${WEBHOOK_MAIN} after npm run build`).toBe(true);
    expect(existsSync(join(root, 'dist/workflow-bundle.js')), 'the worker starts from the prebuilt workflow bundle').toBe(true);
  });
});

// ---------------------------------------------------------------------------- docker-compose.yml
interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[] | string;
  entrypoint?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
}

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };
  const services = compose.services;
  const dependsOn = (s: ComposeService) => (Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {}));
  const hostPort = (s: ComposeService, container: number) =>
    (s.ports ?? []).map((p) => p.split(':')).find((parts) => parts.at(-1) === String(container))?.at(-2);

  it('runs Temporal on PostgreSQL, with a persistent volume', () => {
    expect(Object.keys(services).sort()).toEqual(['postgresql', 'temporal', 'temporal-setup', 'temporal-ui', 'webhook', 'worker']);
    const temporal = services.temporal!;
    expect(temporal.image).toMatch(/^temporalio\/auto-setup:\d+\.\d+\.\d+$/);
    expect(dependsOn(temporal)).toContain('postgresql');
    expect(temporal.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql', DB_PORT: '5432' });
    expect(temporal.environment!.POSTGRES_USER).toBe(services.postgresql!.environment!.POSTGRES_USER);
    expect(temporal.environment!.POSTGRES_PWD).toBe(services.postgresql!.environment!.POSTGRES_PASSWORD);
    expect(hostPort(temporal, 7233)).toBe('7233');
    expect(services.postgresql!.image).toMatch(/^postgres:\d+$/);
    expect(services.postgresql!.volumes).toContain('temporal-postgres:/var/lib/postgresql/data');
    expect(compose.volumes).toHaveProperty('temporal-postgres');
  });

  it('registers Slipway’s search attributes once Temporal is healthy', () => {
    const setup = services['temporal-setup']!;
    expect(setup.image).toMatch(/^temporalio\/admin-tools:/);
    expect(setup.depends_on).toEqual({ temporal: { condition: 'service_healthy' } });
    const script = (setup.command as string[]).join('\n');
    for (const name of Object.keys(SEARCH_ATTRIBUTES)) expect(script).toContain(name);
    expect(script).toContain('--type Keyword');
  });

  it('serves the Temporal UI against temporal:7233', () => {
    const ui = services['temporal-ui']!;
    expect(ui.image).toMatch(/^temporalio\/ui:\d+\.\d+\.\d+$/);
    expect(ui.environment!.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(dependsOn(ui)).toContain('temporal');
    expect(hostPort(ui, 8080)).toBe('8080');
  });

  it('builds the worker and webhook from the Dockerfile, with their commands and settings', () => {
    const dockerfileCmd = JSON.parse(dockerStages(read('Dockerfile')).at(-1)!.lines.find((l) => l.startsWith('CMD '))!.slice(4));
    const { worker, webhook } = services as Record<'worker' | 'webhook', ComposeService>;
    for (const service of [worker, webhook]) {
      expect(service.build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
      expect(existsSync(join(root, service.build!.dockerfile))).toBe(true);
      expect(service.depends_on).toEqual({ 'temporal-setup': { condition: 'service_completed_successfully' } });
      expect(service.environment).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_NAMESPACE: 'default' });
      expect(service.environment!.SLIPWAY_UI_URL).toBe(`http://localhost:${hostPort(services['temporal-ui']!, 8080)}`);
    }
    // The policy is the worker's: only the worker mounts slipway.yaml and points SLIPWAY_CONFIG at it.
    expect(worker.environment!.SLIPWAY_CONFIG).toBe('/config/slipway.yaml');
    expect(worker.volumes).toContainEqual(expect.stringMatching(/:\/config\/slipway\.yaml:ro$/));
    expect(webhook.environment!.SLIPWAY_CONFIG).toBeUndefined();
    expect(webhook.volumes ?? []).not.toContainEqual(expect.stringMatching(/slipway\.yaml/));
    expect(worker.command).toEqual(dockerfileCmd);
    expect(webhook.command).toEqual(['node', WEBHOOK_MAIN]);
    for (const service of [worker, webhook]) expect(existsSync(join(root, (service.command as string[])[1]!))).toBe(true);

    // The webhook listens where its port mapping and health check say.
    expect(webhook.environment!.PORT).toBe('8080');
    expect(hostPort(webhook, 8080)).toBe('8090');
    // Argo CD access for the worker.
    expect(worker.environment!.KUBECONFIG).toBe('/config/kubeconfig');
    expect(worker.volumes).toContainEqual(expect.stringMatching(/:\/config\/kubeconfig:ro$/));
  });

  it('takes every secret from .env, never from the file', () => {
    const { worker, webhook } = services as Record<'worker' | 'webhook', ComposeService>;
    const fromEnv = (value: string | undefined, name: string) => expect(value, name).toMatch(new RegExp(`^\\$\\{${name}(:-|:\\?|\\})`));
    fromEnv(worker.environment!.GITHUB_TOKEN, 'GITHUB_TOKEN');
    fromEnv(worker.environment!.DISCORD_WEBHOOK_URL, 'DISCORD_WEBHOOK_URL');
    fromEnv(webhook.environment!.SLIPWAY_WEBHOOK_SECRET, 'SLIPWAY_WEBHOOK_SECRET');
    fromEnv(webhook.environment!.GITHUB_TOKEN, 'GITHUB_TOKEN');
    // The worker checks approvals given in GitHub comments against the same secret.
    fromEnv(worker.environment!.SLIPWAY_WEBHOOK_SECRET, 'SLIPWAY_WEBHOOK_SECRET');
    // The default pipeline mounted into the worker: every secret it names reaches the worker.
    const mount = worker.volumes!.find((v) => v.endsWith(':/config/slipway.yaml:ro'))!;
    const defaultFile = /\$\{SLIPWAY_CONFIG_FILE:-([^}]+)\}/.exec(mount)![1]!;
    const config = parseConfig(read(defaultFile), defaultFile);
    for (const name of secretVarsOf(config)) fromEnv(worker.environment![name], name);
  });
});

// ------------------------------------------------------------------------------------ infra/k8s
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: any;
}

describe('infra/k8s (rendered with kustomize)', () => {
  const rendered = execFileSync(kustomizePath(), ['build', join(root, 'infra/k8s')], { encoding: 'utf8' });
  const objects = parseAllDocuments(rendered).map((d) => d.toJS() as K8sObject);
  const find = (kind: string, name: string) => {
    const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
    if (!found) throw new Error(`no ${kind} ${name} in the rendered manifests`);
    return found;
  };
  const container = (deployment: K8sObject) => deployment.spec.template.spec.containers[0];
  const env = (deployment: K8sObject) => container(deployment).env as Array<{ name: string; value?: string; valueFrom?: any }>;

  it('holds a namespace, a service account, RBAC, both Deployments, the Service and the config', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort()).toEqual(
      [
        'ConfigMap/slipway/' + objects.find((o) => o.kind === 'ConfigMap')?.metadata.name,
        'Deployment/slipway/slipway-webhook',
        'Deployment/slipway/slipway-worker',
        'Namespace//slipway',
        'Role/argocd/slipway-applications',
        'RoleBinding/argocd/slipway-applications',
        'Service/slipway/slipway-webhook',
        'ServiceAccount/slipway/slipway',
      ].sort(),
    );
    expect(objects.filter((o) => o.kind === 'Secret'), 'secrets are referenced, never shipped').toEqual([]);
  });

  it('lets Slipway only get, list, watch and patch Argo CD Applications, in the argocd namespace', () => {
    expect(objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')).toEqual([]);
    const roles = objects.filter((o) => o.kind === 'Role');
    expect(roles).toHaveLength(1);
    const role = roles[0]!;
    expect(role.metadata.namespace).toBe('argocd');
    expect(role.rules).toHaveLength(1);
    const rule = role.rules[0];
    expect(rule.apiGroups).toEqual(['argoproj.io']);
    expect(rule.resources).toEqual(['applications']);
    expect([...rule.verbs].sort()).toEqual(['get', 'list', 'patch', 'watch']);
    expect(rule.resourceNames).toBeUndefined();

    const binding = find('RoleBinding', 'slipway-applications');
    expect(binding.metadata.namespace).toBe('argocd');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'slipway', namespace: 'slipway' }]);
    const worker = find('Deployment', 'slipway-worker');
    expect(worker.spec.template.spec.serviceAccountName).toBe('slipway');
    expect(find('ServiceAccount', 'slipway').metadata.namespace).toBe('slipway');
    // The webhook has no business with the Kubernetes API.
    expect(find('Deployment', 'slipway-webhook').spec.template.spec.automountServiceAccountToken).toBe(false);
  });

  it('mounts slipway.yaml from the ConfigMap into the worker only, and points SLIPWAY_CONFIG at it', () => {
    const configMap = objects.find((o) => o.kind === 'ConfigMap')!;
    const config = parseConfig(configMap.data['slipway.yaml'], 'ConfigMap slipway.yaml');
    expect(Object.keys(config.apps)).toContain('todoapp');
    const webhook = find('Deployment', 'slipway-webhook');
    expect(webhook.spec.template.spec.volumes ?? [], 'the webhook holds no copy of the policy').toEqual([]);
    expect(env(webhook).find((e) => e.name === 'SLIPWAY_CONFIG')).toBeUndefined();
    for (const name of ['slipway-worker']) {
      const deployment = find('Deployment', name);
      const volume = deployment.spec.template.spec.volumes.find((v: any) => v.configMap);
      expect(volume.configMap.name, `${name} mounts the generated ConfigMap`).toBe(configMap.metadata.name);
      const mount = container(deployment).volumeMounts.find((m: any) => m.name === volume.name);
      expect(mount.readOnly).toBe(true);
      expect(env(deployment).find((e) => e.name === 'SLIPWAY_CONFIG')?.value).toBe(`${mount.mountPath}/slipway.yaml`);
      expect(env(deployment).find((e) => e.name === 'TEMPORAL_ADDRESS')?.value).toMatch(/:7233$/);
    }
  });

  it('reads the secrets from the slipway-secrets Secret, by key', () => {
    const keysOf = (name: string) =>
      Object.fromEntries(
        env(find('Deployment', name))
          .filter((e) => e.valueFrom?.secretKeyRef)
          .map((e) => {
            const ref = e.valueFrom.secretKeyRef;
            expect(ref.name).toBe('slipway-secrets');
            expect(ref.key, 'each variable reads the key of its own name').toBe(e.name);
            return [e.name, ref.optional === true ? 'optional' : 'required'];
          }),
      );
    const worker = keysOf('slipway-worker');
    const webhook = keysOf('slipway-webhook');
    expect(worker).toMatchObject({ GITHUB_TOKEN: 'required', TEMPORAL_API_KEY: 'optional', DISCORD_WEBHOOK_URL: 'optional' });
    expect(webhook).toEqual({ SLIPWAY_WEBHOOK_SECRET: 'required', GITHUB_TOKEN: 'required', TEMPORAL_API_KEY: 'optional' });
    expect(worker).toMatchObject({ SLIPWAY_WEBHOOK_SECRET: 'optional' });
    // Every secret the shipped slipway.yaml names is given to the worker.
    const configMap = objects.find((o) => o.kind === 'ConfigMap')!;
    for (const name of secretVarsOf(parseConfig(configMap.data['slipway.yaml'], 'slipway.yaml'))) expect(worker, name).toHaveProperty(name);
    // No secret value is written in any manifest.
    for (const d of [find('Deployment', 'slipway-worker'), find('Deployment', 'slipway-webhook')]) {
      for (const e of env(d)) if (/TOKEN|SECRET|KEY|URL$/.test(e.name) && e.name !== 'SLIPWAY_UI_URL') expect(e.value, e.name).toBeUndefined();
    }
  });

  it('runs the worker and webhook commands of the image, which exist after the build', () => {
    const worker = container(find('Deployment', 'slipway-worker'));
    const webhook = container(find('Deployment', 'slipway-webhook'));
    expect(worker.command).toEqual(['node', WORKER_MAIN]);
    expect(webhook.command).toEqual(['node', WEBHOOK_MAIN]);
    expect(worker.image).toBe(webhook.image);
    for (const path of [WORKER_MAIN, WEBHOOK_MAIN]) expect(existsSync(join(root, path)), path).toBe(true);
  });

  it('routes the webhook Service to the webhook pods only, on their http port', () => {
    const service = find('Service', 'slipway-webhook');
    const webhookLabels = find('Deployment', 'slipway-webhook').spec.template.metadata.labels;
    const workerLabels = find('Deployment', 'slipway-worker').spec.template.metadata.labels;
    const selects = (labels: Record<string, string>) => Object.entries(service.spec.selector as Record<string, string>).every(([k, v]) => labels[k] === v);
    expect(selects(webhookLabels)).toBe(true);
    expect(selects(workerLabels)).toBe(false);
    const port = service.spec.ports[0];
    const containerPort = container(find('Deployment', 'slipway-webhook')).ports.find((p: any) => p.name === port.targetPort || p.containerPort === port.targetPort);
    expect(containerPort?.containerPort).toBe(8080);
    const webhookEnv = env(find('Deployment', 'slipway-webhook'));
    expect(webhookEnv.find((e) => e.name === 'PORT')?.value).toBe(String(containerPort.containerPort));
    expect(container(find('Deployment', 'slipway-webhook')).readinessProbe.httpGet.path).toBe('/healthz');
  });
});
