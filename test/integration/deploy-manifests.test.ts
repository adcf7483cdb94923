/**
 * The ways to run Slipway for real, checked without Docker or a cluster: docker-compose.yml and the
 * Dockerfile cross-checked against each other and the build output, and infra/k8s rendered with
 * kustomize and checked for least-privilege RBAC, config and secrets wiring, locked-down
 * containers, network policies, and the webhook Service.
 */
import { execFileSync } from 'node:child_process';
import * as k8s from '@kubernetes/client-node';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { DEFAULT_MAX_CLONE_BYTES } from '../../activities/gitops/clone-root.js';
import { parseConfig, type SlipwayConfig } from '../../config/schema.js';
import { SEARCH_ATTRIBUTES } from '../../core/search-attributes.js';
import { kustomizePath } from '../../infra/kustomize.js';
import { TEMPORAL_SERVER_VERSION } from '../../infra/temporal/production-server.js';
import { workerConcurrencyFromEnv } from '../../worker/create-worker.js';
import { workerVersioningFromEnv } from '../../worker/versioning.js';
import { metricsAddressFromEnv } from '../../worker/telemetry.js';
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

/** The Argo CD Applications a config's environments name, as `namespace/name`. */
function applicationsOf(config: SlipwayConfig): string[] {
  return Object.values(config.apps)
    .flatMap((app) => app.environments.map((e) => `${e.argocd.namespace ?? 'argocd'}/${e.argocd.application}`))
    .sort();
}

/**
 * Fields of `value` that the Kubernetes model `type` (from @kubernetes/client-node, generated from
 * the API's OpenAPI description) does not have: a misspelt `readOnlyRootFilesystem` or `sizeLimit`
 * is dropped by the API server without a word, and the setting silently never applies.
 */
function unknownFields(value: unknown, type: string, path: string): string[] {
  if (value === null || value === undefined) return [];
  const array = /^Array<(.+)>$/.exec(type);
  if (array) return Array.isArray(value) ? value.flatMap((v, i) => unknownFields(v, array[1]!, `${path}[${i}]`)) : [`${path}: not a list`];
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) return Object.entries(value as object).flatMap(([k, v]) => unknownFields(v, map[1]!, `${path}.${k}`));
  const model = (k8s as unknown as Record<string, { getAttributeTypeMap?: () => Array<{ baseName: string; type: string }> }>)[type];
  if (!model?.getAttributeTypeMap) return [];
  const attributes = model.getAttributeTypeMap();
  return Object.entries(value as object).flatMap(([k, v]) => {
    const attribute = attributes.find((a) => a.baseName === k);
    return attribute ? unknownFields(v, attribute.type, `${path}.${k}`) : [`${path}.${k}: no such field in ${type}`];
  });
}

/** A Kubernetes quantity in bytes: `64Mi`, `4Gi`, `1G`. */
function quantityBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(text));
  if (!m) throw new Error(`not a quantity: ${text}`);
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * unit;
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

  it('runs on Node 24 LTS in every Node stage, and says how to pin the base images by digest', () => {
    const text = read('Dockerfile');
    const nodeImage = /^ARG NODE_IMAGE=(\S+)$/m.exec(text)?.[1];
    expect(nodeImage, 'Node 20 left support on 2026-04-30').toMatch(/^node:24[-.]/);
    // The suite runs on the same major (scripts/test.sh, with the version scripts/node-lts.sh pins).
    const suiteNode = /^NODE_LTS_VERSION=(\d+)\./m.exec(read('scripts/node-lts.sh'))?.[1];
    expect(nodeImage!.startsWith(`node:${suiteNode}`), `the image's ${nodeImage} and the suite's Node ${suiteNode}`).toBe(true);
    for (const name of ['build', 'deps', 'runtime']) expect(stage(name).from, name).toBe('${NODE_IMAGE}');
    // A digest can only be read from the registry: the file says how, and writes none it could not check.
    expect(text).toMatch(/^#.*imagetools inspect/m);
    expect(text).toMatch(/^#.*--build-arg NODE_IMAGE=node:24[^@\s]*@sha256:<[^>]+>/m);
    expect(text.replace(/^#.*$/gm, ''), 'no digest written without checking it').not.toMatch(/@sha256:/);
  });

  it('versions the worker by the build argument SLIPWAY_BUILD_ID, and leaves it unversioned without one', () => {
    const runtime = stage('runtime').lines;
    expect(runtime).toContain('ARG SLIPWAY_BUILD_ID=""');
    expect(runtime).toContain('ENV SLIPWAY_WORKER_BUILD_ID=${SLIPWAY_BUILD_ID}');
    // What the worker makes of the two: an empty build id is an unversioned worker, not an error.
    expect(workerVersioningFromEnv({ SLIPWAY_WORKER_BUILD_ID: '' })).toBeUndefined();
    expect(workerVersioningFromEnv({ SLIPWAY_WORKER_BUILD_ID: '0.1.0-3104a77' })?.buildId).toBe('0.1.0-3104a77');
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
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  command?: string[] | string;
  entrypoint?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: Array<string | { type: string; source: string; target: string; read_only?: boolean; bind?: { create_host_path?: boolean } }>;
}

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };
  const services = compose.services;
  const dependsOn = (s: ComposeService) => (Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {}));
  const hostPort = (s: ComposeService, container: number) =>
    (s.ports ?? []).map((p) => p.split(':')).find((parts) => parts.at(-1) === String(container))?.at(-2);
  /** The short-syntax volume lines of a service. */
  const volumeLines = (s: ComposeService) => (s.volumes ?? []).filter((v): v is string => typeof v === 'string');

  it('runs the Temporal server the tests run, on PostgreSQL with a persistent volume, with the config and setup scripts the tests use', () => {
    expect(Object.keys(services).sort()).toEqual(['postgresql', 'temporal', 'temporal-schema', 'temporal-setup', 'temporal-ui', 'webhook', 'worker']);
    const { temporal, 'temporal-schema': schema, 'temporal-setup': setup } = services as Record<string, ComposeService>;
    // The server version of infra/temporal/production-server.ts, for the server and its tools.
    const version = TEMPORAL_SERVER_VERSION.replace(/^v/, '');
    expect(temporal!.image).toBe(`temporalio/server:${version}`);
    expect(schema!.image).toBe(`temporalio/admin-tools:${version}`);
    expect(setup!.image).toBe(`temporalio/admin-tools:${version}`);

    // Each runs a file of infra/temporal, mounted read-only: the very files the tests run.
    const mounted = (s: ComposeService, file: string) => {
      const line = volumeLines(s).find((v) => v.startsWith('./infra/temporal:'));
      expect(line, 'infra/temporal mounted').toMatch(/:ro$/);
      const target = line!.split(':')[1]!;
      expect(existsSync(join(root, 'infra/temporal', file)), file).toBe(true);
      return `${target}/${file}`;
    };
    expect(temporal!.entrypoint!.join(' ')).toContain(`--config-file ${mounted(temporal!, 'server-postgres.yaml')} --allow-no-auth start`);
    expect(temporal!.environment!.TEMPORAL_DYNAMIC_CONFIG).toBe(mounted(temporal!, 'dynamicconfig.yaml'));
    expect(schema!.entrypoint).toEqual(['sh', mounted(schema!, 'setup-schema.sh')]);
    expect(setup!.entrypoint).toEqual(['sh', mounted(setup!, 'setup-namespace.sh')]);

    // Schema first, then the server, then the namespace; the worker and webhook after all of it.
    expect(schema!.depends_on).toEqual({ postgresql: { condition: 'service_healthy' } });
    expect(temporal!.depends_on).toEqual({ 'temporal-schema': { condition: 'service_completed_successfully' } });
    expect(dependsOn(setup!)).toEqual(['temporal']);
    expect(setup!.environment!.TEMPORAL_ADDRESS).toBe('temporal:7233');

    // The variables server-postgres.yaml and setup-schema.sh read, pointing at the postgresql service.
    for (const s of [temporal!, schema!]) {
      expect(s.environment).toMatchObject({ POSTGRES_SEEDS: 'postgresql', DB_PORT: '5432' });
      expect(s.environment!.POSTGRES_USER).toBe(services.postgresql!.environment!.POSTGRES_USER);
      expect(s.environment!.POSTGRES_PWD).toBe(services.postgresql!.environment!.POSTGRES_PASSWORD);
    }
    const config = read('infra/temporal/server-postgres.yaml');
    for (const name of ['POSTGRES_SEEDS', 'DB_PORT', 'POSTGRES_USER', 'POSTGRES_PWD', 'TEMPORAL_BIND_ADDRESS', 'TEMPORAL_BROADCAST_ADDRESS', 'TEMPORAL_DYNAMIC_CONFIG']) {
      expect(config, `server-postgres.yaml reads ${name}`).toContain(`env "${name}"`);
    }
    expect(hostPort(temporal!, 7233)).toBe('7233');
    expect(services.postgresql!.image).toMatch(/^postgres:\d+$/);
    expect(services.postgresql!.volumes).toContain('temporal-postgres:/var/lib/postgresql/data');
    expect(compose.volumes).toHaveProperty('temporal-postgres');
  });

  it('registers the search attributes core/search-attributes.ts names, no more and no fewer', () => {
    const script = read('infra/temporal/setup-namespace.sh');
    const listed = /^SEARCH_ATTRIBUTES="([^"]*)"$/m.exec(script)?.[1]?.split(/\s+/) ?? [];
    expect(Object.fromEntries(listed.map((entry) => entry.split(':') as [string, string]))).toEqual(SEARCH_ATTRIBUTES);
  });

  it('serves the Temporal UI against temporal:7233', () => {
    const ui = services['temporal-ui']!;
    expect(ui.image).toMatch(/^temporalio\/ui:\d+\.\d+\.\d+$/);
    expect(ui.environment!.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(dependsOn(ui)).toContain('temporal-setup');
    expect(hostPort(ui, 8080)).toBe('8080');
  });

  it('builds the worker and webhook from the Dockerfile, with their commands and settings', () => {
    const dockerfileCmd = JSON.parse(dockerStages(read('Dockerfile')).at(-1)!.lines.find((l) => l.startsWith('CMD '))!.slice(4));
    const { worker, webhook } = services as Record<'worker' | 'webhook', ComposeService>;
    for (const service of [worker, webhook]) {
      // SLIPWAY_BUILD_ID from .env becomes the worker's version in the image (worker/versioning.ts).
      expect(service.build).toEqual({ context: '.', dockerfile: 'Dockerfile', args: { SLIPWAY_BUILD_ID: '${SLIPWAY_BUILD_ID:-}' } });
      expect(existsSync(join(root, service.build!.dockerfile))).toBe(true);
      expect(service.depends_on).toEqual({ 'temporal-setup': { condition: 'service_completed_successfully' } });
      expect(service.environment).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_NAMESPACE: 'default' });
      expect(service.environment!.SLIPWAY_UI_URL).toBe(`http://localhost:${hostPort(services['temporal-ui']!, 8080)}`);
    }
    // The policy is the worker's: only the worker mounts slipway.yaml and points SLIPWAY_CONFIG at it.
    expect(worker.environment!.SLIPWAY_CONFIG).toBe('/config/slipway.yaml');
    expect(volumeLines(worker)).toContainEqual(expect.stringMatching(/:\/config\/slipway\.yaml:ro$/));
    expect(webhook.environment!.SLIPWAY_CONFIG).toBeUndefined();
    expect(JSON.stringify(webhook.volumes ?? [])).not.toMatch(/slipway\.yaml/);
    expect(worker.command).toEqual(dockerfileCmd);
    expect(webhook.command).toEqual(['node', WEBHOOK_MAIN]);
    for (const service of [worker, webhook]) expect(existsSync(join(root, (service.command as string[])[1]!))).toBe(true);

    // The webhook listens where its port mapping and health check say.
    expect(webhook.environment!.PORT).toBe('8080');
    expect(hostPort(webhook, 8080)).toBe('8090');
    // Argo CD access for the worker.
    expect(worker.environment!.KUBECONFIG).toBe('/config/kubeconfig');
  });

  it('serves the worker’s /metrics on its container’s every interface unless .env sets it empty, publishes no port by default, and gives the webhook none', () => {
    const { worker, webhook } = services as Record<'worker' | 'webhook', ComposeService>;
    const fallback = /^\$\{SLIPWAY_METRICS_ADDRESS-([^}]*)\}$/.exec(worker.environment!.SLIPWAY_METRICS_ADDRESS ?? '')?.[1];
    expect(fallback, 'unset: the default; set empty: off').toBeDefined();
    expect(metricsAddressFromEnv({ SLIPWAY_METRICS_ADDRESS: fallback })?.bindAddress).toBe('0.0.0.0:9464');
    expect(worker.ports, 'the commented mapping is the way to publish it').toBeUndefined();
    expect(read('docker-compose.yml')).toMatch(/^ {4}# ports:\n {4}# {3}- "127\.0\.0\.1:9464:9464"$/m);
    expect(webhook.environment).not.toHaveProperty('SLIPWAY_METRICS_ADDRESS');
  });

  it('mounts a kubeconfig file of the worker’s own, read-only, never the operator’s ~/.kube/config', () => {
    const { worker, webhook } = services as Record<'worker' | 'webhook', ComposeService>;
    expect(JSON.stringify(worker.volumes), 'no default of the operator’s own kubeconfig').not.toMatch(/\.kube\/config|~/);
    const mount = (worker.volumes ?? []).find((v) => typeof v === 'object' && v.target === worker.environment!.KUBECONFIG);
    expect(mount, 'a bind mount of one file at KUBECONFIG').toMatchObject({ type: 'bind', read_only: true });
    if (typeof mount !== 'object') throw new Error('unreachable');
    // A missing file stops the start; Docker would otherwise make an empty folder in its place.
    expect(mount.bind?.create_host_path).toBe(false);
    const fallback = /^\$\{SLIPWAY_KUBECONFIG:-([^}]+)\}$/.exec(mount.source)?.[1];
    expect(fallback, 'the path comes from SLIPWAY_KUBECONFIG').toBeDefined();
    // The default lives where git and the image build never take it from.
    const topFolder = fallback!.replace(/^\.\//, '').split('/')[0]!;
    expect(read('.gitignore').split('\n')).toContain(`${topFolder}/`);
    expect(read('.dockerignore').split('\n')).toContain(topFolder);
    expect(JSON.stringify(webhook.volumes ?? []), 'the webhook has no Kubernetes access').not.toMatch(/kube/);
    expect(webhook.environment).not.toHaveProperty('KUBECONFIG');
  });

  it('gives the webhook only its own secrets: none of the worker’s tokens, a GitHub token of its own', () => {
    const { worker, webhook } = services as Record<'worker' | 'webhook', ComposeService>;
    const webhookEnv = webhook.environment!;
    // What client/webhook/main.ts reads: its secret, its port, Temporal's settings, a GitHub token for comments.
    const allowed = ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_API_KEY', 'TEMPORAL_TLS', 'SLIPWAY_TASK_QUEUE', 'SLIPWAY_UI_URL', 'SLIPWAY_WEBHOOK_SECRET', 'GITHUB_TOKEN', 'GITHUB_API_URL', 'PORT', 'HOST'];
    expect(Object.keys(webhookEnv).filter((name) => !allowed.includes(name))).toEqual([]);
    expect(webhookEnv).not.toHaveProperty('GITOPS_TOKEN');
    expect(webhookEnv.GITHUB_TOKEN, 'a token of its own, not the worker’s').toMatch(/^\$\{WEBHOOK_GITHUB_TOKEN(:-|\})/);
    // No value handed to the webhook comes from a variable that is the worker's alone.
    const mount = volumeLines(worker).find((v) => v.endsWith(':/config/slipway.yaml:ro'))!;
    const defaultFile = /\$\{SLIPWAY_CONFIG_FILE:-([^}]+)\}/.exec(mount)![1]!;
    const workerOnly = ['GITHUB_TOKEN', 'GITOPS_TOKEN', 'DISCORD_WEBHOOK_URL', 'PROD_DATABASE_URL', 'BACKUP_VERIFY_DATABASE_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', ...secretVarsOf(parseConfig(read(defaultFile), defaultFile))];
    for (const [name, value] of Object.entries(webhookEnv)) {
      for (const secret of workerOnly) expect(String(value), `webhook ${name}`).not.toMatch(new RegExp(`\\$\\{${secret}(:|\\})`));
    }
    expect(worker.environment!.GITHUB_TOKEN).toMatch(/^\$\{GITHUB_TOKEN(:-|\})/);
    expect(worker.environment!.GITOPS_TOKEN).toMatch(/^\$\{GITOPS_TOKEN(:-|\})/);
  });

  it('keeps the worker’s backups on a named volume the image’s user owns', () => {
    const worker = services.worker!;
    const dir = worker.environment!.SLIPWAY_BACKUP_DIR!;
    const volume = volumeLines(worker).find((v) => v.split(':')[1] === dir);
    expect(volume, `a volume mounted at SLIPWAY_BACKUP_DIR (${dir})`).toBeDefined();
    expect(compose.volumes).toHaveProperty(volume!.split(':')[0]!);
    // A new named volume takes the owner of the image's folder: without one it is root's, and the
    // worker (USER node) cannot write there.
    const runtime = dockerStages(read('Dockerfile')).at(-1)!.lines;
    const made = runtime.find((l) => /^RUN .*install -d -o node -g node /.test(l));
    expect(made, `the image makes ${dir}, owned by node`).toBeDefined();
    expect(made!.split(/\s+/)).toContain(dir);
    expect(runtime.indexOf(made!)).toBeLessThan(runtime.indexOf('USER node'));
  });

  it('takes every secret from .env, never from the file', () => {
    const { worker, webhook } = services as Record<'worker' | 'webhook', ComposeService>;
    const fromEnv = (value: string | undefined, name: string) => expect(value, name).toMatch(new RegExp(`^\\$\\{${name}(:-|:\\?|\\})`));
    fromEnv(worker.environment!.GITHUB_TOKEN, 'GITHUB_TOKEN');
    fromEnv(worker.environment!.DISCORD_WEBHOOK_URL, 'DISCORD_WEBHOOK_URL');
    fromEnv(webhook.environment!.SLIPWAY_WEBHOOK_SECRET, 'SLIPWAY_WEBHOOK_SECRET');
    fromEnv(webhook.environment!.GITHUB_TOKEN, 'WEBHOOK_GITHUB_TOKEN');
    // The worker checks approvals given in GitHub comments against the same secret.
    fromEnv(worker.environment!.SLIPWAY_WEBHOOK_SECRET, 'SLIPWAY_WEBHOOK_SECRET');
    // The default pipeline mounted into the worker: every secret it names reaches the worker.
    const mount = volumeLines(worker).find((v) => v.endsWith(':/config/slipway.yaml:ro'))!;
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

  it('holds a namespace, a service account, RBAC, both Deployments and their network policies, the Service, the backup volume and the config', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort()).toEqual(
      [
        'ConfigMap/slipway/' + objects.find((o) => o.kind === 'ConfigMap')?.metadata.name,
        'Deployment/slipway/slipway-webhook',
        'Deployment/slipway/slipway-worker',
        'Namespace//slipway',
        'NetworkPolicy/slipway/slipway-webhook',
        'NetworkPolicy/slipway/slipway-worker',
        'PersistentVolumeClaim/slipway/slipway-backups',
        'Role/argocd/slipway-applications',
        'RoleBinding/argocd/slipway-applications',
        'Service/slipway/slipway-webhook',
        'ServiceAccount/slipway/slipway',
      ].sort(),
    );
    expect(objects.filter((o) => o.kind === 'Secret'), 'secrets are referenced, never shipped').toEqual([]);
  });

  it('shows in the README an AppProject that admits the example’s Applications and nothing wider', () => {
    const blocks = [...read('README.md').matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!.replace(/^ {3}/gm, ''));
    const projects = blocks.filter((b) => /^kind: AppProject$/m.test(b)).map((b) => parse(b) as K8sObject);
    expect(projects).toHaveLength(1);
    const project = projects[0]!;
    expect(project.apiVersion).toBe('argoproj.io/v1alpha1');
    expect(JSON.stringify(project.spec), 'no wildcard source, destination or resource').not.toContain('*');
    const example = 'infra/examples/todoapp/argocd';
    const apps = readdirSync(join(root, example)).flatMap((f) => parseAllDocuments(read(`${example}/${f}`)).map((d) => d.toJS() as K8sObject));
    expect(apps.length).toBeGreaterThan(0);
    for (const app of apps) {
      expect(project.metadata.namespace).toBe(app.metadata.namespace);
      expect(project.spec.sourceRepos).toContain(app.spec.source.repoURL);
      expect(project.spec.destinations).toContainEqual({ server: app.spec.destination.server, namespace: app.spec.destination.namespace });
    }
    // Only what the example's Applications deploy to.
    expect(project.spec.destinations).toHaveLength(new Set(apps.map((a) => `${a.spec.destination.server} ${a.spec.destination.namespace}`)).size);
    expect(project.spec.sourceRepos).toEqual([...new Set(apps.map((a) => a.spec.source.repoURL))]);
  });

  it('uses only fields the Kubernetes API has, so no setting is silently dropped', () => {
    const problems = objects.flatMap((o) => {
      const type = `V1${o.kind}`;
      if (!(type in k8s)) return [`${o.kind}/${o.metadata.name}: no model ${type} to check against`];
      return unknownFields(o, type, `${o.kind}/${o.metadata.name}`);
    });
    expect(problems).toEqual([]);
  });

  it('lets Slipway only get, list, watch and patch the Argo CD Applications its policy names, in the argocd namespace', () => {
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
    expect(JSON.stringify(role.rules), 'no wildcard').not.toContain('*');
    // Exactly the Applications the shipped policy names, all in the Role's namespace...
    const configMap = objects.find((o) => o.kind === 'ConfigMap')!;
    const configured = applicationsOf(parseConfig(configMap.data['slipway.yaml'], 'ConfigMap slipway.yaml'));
    expect(configured.every((a) => a.startsWith(`${role.metadata.namespace}/`)), configured.join(', ')).toBe(true);
    expect(rule.resourceNames, 'the Role names its Applications').toBeDefined();
    expect([...rule.resourceNames].sort()).toEqual(configured.map((a) => a.split('/')[1]).sort());
    // ...which are the example app's Applications, as its slipway.yaml and its Argo CD manifests name them.
    const example = 'infra/examples/todoapp';
    expect(applicationsOf(parseConfig(read(`${example}/slipway.yaml`), `${example}/slipway.yaml`))).toEqual(configured);
    const exampleApps = readdirSync(join(root, example, 'argocd'))
      .filter((f) => f.endsWith('.yaml'))
      .flatMap((f) => parseAllDocuments(read(`${example}/argocd/${f}`)).map((d) => d.toJS() as K8sObject))
      .filter((o) => o.kind === 'Application')
      .map((o) => `${o.metadata.namespace}/${o.metadata.name}`)
      .sort();
    expect(exampleApps).toEqual(configured);

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
    expect((webhook.spec.template.spec.volumes ?? []).filter((v: any) => v.configMap), 'the webhook holds no copy of the policy').toEqual([]);
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
            // The webhook's GITHUB_TOKEN is a token of its own, kept under its own key.
            const key = name === 'slipway-webhook' && e.name === 'GITHUB_TOKEN' ? 'WEBHOOK_GITHUB_TOKEN' : e.name;
            expect(ref.key, 'each variable reads the key of its own name').toBe(key);
            return [ref.key, ref.optional === true ? 'optional' : 'required'];
          }),
      );
    const worker = keysOf('slipway-worker');
    const webhook = keysOf('slipway-webhook');
    expect(worker).toMatchObject({ GITHUB_TOKEN: 'required', TEMPORAL_API_KEY: 'optional', DISCORD_WEBHOOK_URL: 'optional' });
    // Pushes work without a GitHub token; with one the webhook answers comments.
    expect(webhook).toEqual({ SLIPWAY_WEBHOOK_SECRET: 'required', WEBHOOK_GITHUB_TOKEN: 'optional', TEMPORAL_API_KEY: 'optional' });
    expect(worker).not.toHaveProperty('WEBHOOK_GITHUB_TOKEN');
    expect(worker).toMatchObject({ SLIPWAY_WEBHOOK_SECRET: 'optional' });
    // Every secret the shipped slipway.yaml names is given to the worker.
    const configMap = objects.find((o) => o.kind === 'ConfigMap')!;
    for (const name of secretVarsOf(parseConfig(configMap.data['slipway.yaml'], 'slipway.yaml'))) expect(worker, name).toHaveProperty(name);
    // No secret value is written in any manifest.
    for (const d of [find('Deployment', 'slipway-worker'), find('Deployment', 'slipway-webhook')]) {
      for (const e of env(d)) if (/TOKEN|SECRET|KEY|URL$/.test(e.name) && e.name !== 'SLIPWAY_UI_URL') expect(e.value, e.name).toBeUndefined();
    }
  });

  it.each(['slipway-worker', 'slipway-webhook'])('runs %s non-root on a read-only root, with no capabilities, no privilege escalation and the runtime’s seccomp profile', (name) => {
    const pod = find('Deployment', name).spec.template.spec;
    const own = container(find('Deployment', name)).securityContext ?? {};
    // What the container gets: its own setting, else the pod's.
    const effective = (key: string) => own[key] ?? pod.securityContext?.[key];
    expect(effective('runAsNonRoot')).toBe(true);
    expect(effective('runAsUser')).toBeGreaterThan(0);
    expect(own.readOnlyRootFilesystem).toBe(true);
    expect(own.allowPrivilegeEscalation).toBe(false);
    expect(own.privileged).not.toBe(true);
    expect(own.capabilities).toEqual({ drop: ['ALL'] });
    expect(effective('seccompProfile')).toEqual({ type: 'RuntimeDefault' });
    expect(pod.hostNetwork ?? false).toBe(false);
    expect(pod.hostPID ?? false).toBe(false);
  });

  it.each([
    ['slipway-worker', DEFAULT_MAX_CLONE_BYTES],
    ['slipway-webhook', 0],
  ])('gives %s a size-limited /tmp of its own (an emptyDir), above what it keeps there itself', (name, keepsBytes) => {
    const deployment = find('Deployment', name);
    const mount = (container(deployment).volumeMounts ?? []).find((m: any) => m.mountPath === '/tmp');
    expect(mount, '/tmp is a volume: the root filesystem is read-only').toBeDefined();
    const volume = deployment.spec.template.spec.volumes.find((v: any) => v.name === mount.name);
    expect(volume.emptyDir, '/tmp is an emptyDir').toBeDefined();
    expect(volume.emptyDir.sizeLimit, 'an unbounded /tmp can fill the node’s disk').toBeDefined();
    // The worker bounds its GitOps clones there at 1 GiB (activities/gitops/clone-root.ts) and
    // needs room beside them for mirrors, builds and a dump in progress.
    expect(quantityBytes(volume.emptyDir.sizeLimit)).toBeGreaterThan(keepsBytes);
  });

  it('gives the worker a writable place for all it writes: backups on a persistent volume, HOME and TMPDIR in /tmp', () => {
    const worker = find('Deployment', 'slipway-worker');
    const spec = worker.spec.template.spec;
    const mounts = container(worker).volumeMounts as Array<{ name: string; mountPath: string; readOnly?: boolean }>;
    const vars = Object.fromEntries(env(worker).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
    const writableMountOf = (path: string) =>
      mounts.filter((m) => !m.readOnly && (path === m.mountPath || path.startsWith(`${m.mountPath}/`))).sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
    // Backups outlive the pod: SLIPWAY_BACKUP_DIR is on the claim the kustomization ships.
    const backups = writableMountOf(vars.SLIPWAY_BACKUP_DIR ?? '(unset)');
    expect(backups, `SLIPWAY_BACKUP_DIR (${vars.SLIPWAY_BACKUP_DIR}) on a writable volume`).toBeDefined();
    const claim = spec.volumes.find((v: any) => v.name === backups!.name).persistentVolumeClaim?.claimName;
    expect(find('PersistentVolumeClaim', claim).spec.accessModes).toEqual(['ReadWriteOnce']);
    // One pod holds a ReadWriteOnce claim: the old one goes before the new one starts, and the
    // claim is writable for the worker's group.
    expect(worker.spec.replicas).toBe(1);
    expect(worker.spec.strategy?.type).toBe('Recreate');
    expect(spec.securityContext.fsGroup).toBe(spec.securityContext.runAsGroup);
    // git and ssh write under HOME; the image's /home/node is on the read-only root.
    expect(writableMountOf(vars.HOME ?? '/home/node')?.mountPath).toBe('/tmp');
    expect(vars.TMPDIR ?? '/tmp').toBe('/tmp');
  });

  it('serves the worker’s /metrics where its container port, its scrape annotations and SLIPWAY_METRICS_ADDRESS agree', () => {
    const worker = find('Deployment', 'slipway-worker');
    const address = metricsAddressFromEnv({ SLIPWAY_METRICS_ADDRESS: env(worker).find((e) => e.name === 'SLIPWAY_METRICS_ADDRESS')?.value });
    expect(address?.bindAddress, 'on every interface of the pod, for Prometheus to reach').toMatch(/^0\.0\.0\.0:\d+$/);
    const port = Number(address!.bindAddress.split(':')[1]);
    expect(container(worker).ports).toEqual([{ name: 'metrics', containerPort: port, protocol: 'TCP' }]);
    expect(worker.spec.template.metadata.annotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port), 'prometheus.io/path': '/metrics' });
  });

  it('bounds the worker’s concurrent activities for its 1Gi memory limit', () => {
    const worker = find('Deployment', 'slipway-worker');
    expect(container(worker).resources.limits.memory).toBe('1Gi');
    const vars = Object.fromEntries(env(worker).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
    expect(vars).toHaveProperty('SLIPWAY_MAX_CONCURRENT_ACTIVITIES');
    const { maxConcurrentActivityTaskExecutions } = workerConcurrencyFromEnv(vars);
    // At least 20 MiB of the limit per slot: most slots hold waits of about 1 MB, git + kustomize
    // peak near 60 MB, beside a worker of a few hundred MB.
    expect(maxConcurrentActivityTaskExecutions * 20 * 2 ** 20).toBeLessThanOrEqual(quantityBytes(container(worker).resources.limits.memory));
  });

  describe('network policies', () => {
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    const labelsOf = (name: string) => find('Deployment', name).spec.template.metadata.labels as Record<string, string>;
    const selects = (policy: K8sObject, labels: Record<string, string>) =>
      Object.entries(policy.spec.podSelector.matchLabels ?? {}).every(([k, v]) => labels[k] === v) && !policy.spec.podSelector.matchExpressions;
    const policyOf = (name: string) => {
      const matching = policies.filter((p) => selects(p, labelsOf(name)));
      expect(matching, `one NetworkPolicy selects the ${name} pods`).toHaveLength(1);
      return matching[0]!;
    };
    const egressPorts = (policy: K8sObject) =>
      new Set((policy.spec.egress as any[]).flatMap((rule) => (rule.ports ?? [{ port: 'any' }]).map((p: any) => `${p.protocol ?? 'TCP'}/${p.port}`)));
    const temporalPort = (name: string) => env(find('Deployment', name)).find((e) => e.name === 'TEMPORAL_ADDRESS')!.value!.split(':').at(-1);

    it('select the worker and the webhook pods, each its own, denying what they do not list in both directions', () => {
      const worker = policyOf('slipway-worker');
      const webhook = policyOf('slipway-webhook');
      expect(worker).not.toBe(webhook);
      expect(Object.keys(worker.spec.podSelector.matchLabels ?? {}), 'a selector that picks nothing out selects every pod').not.toEqual([]);
      expect(selects(worker, labelsOf('slipway-webhook'))).toBe(false);
      expect(selects(webhook, labelsOf('slipway-worker'))).toBe(false);
      for (const policy of [worker, webhook]) {
        expect(policy.metadata.namespace).toBe(find('Deployment', 'slipway-worker').metadata.namespace);
        expect([...policy.spec.policyTypes].sort()).toEqual(['Egress', 'Ingress']);
        for (const rule of policy.spec.egress) expect(rule.ports?.length, `an egress rule without ports allows every port: ${JSON.stringify(rule)}`).toBeGreaterThan(0);
      }
      // The worker serves only its /metrics, to the monitoring namespace; the webhook takes deliveries on its http port only.
      const metricsPort = container(find('Deployment', 'slipway-worker')).ports.find((p: any) => p.name === 'metrics').containerPort;
      expect(worker.spec.ingress.flatMap((r: any) => r.ports ?? [{ port: 'any' }]).map((p: any) => `${p.protocol ?? 'TCP'}/${p.port}`)).toEqual([`TCP/${metricsPort}`]);
      for (const rule of worker.spec.ingress) expect(rule.from, 'from the monitoring namespace, not from anywhere').toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }]);
      const containerPort = container(find('Deployment', 'slipway-webhook')).ports.find((p: any) => p.name === 'http').containerPort;
      expect(webhook.spec.ingress.flatMap((r: any) => r.ports ?? [{ port: 'any' }]).map((p: any) => p.port)).toEqual([containerPort]);
    });

    it('let the worker reach DNS, Temporal, the Kubernetes API, GitHub and the GitOps remote (https and ssh), and the database it backs up', () => {
      const worker = policyOf('slipway-worker');
      const ports = egressPorts(worker);
      for (const port of ['UDP/53', 'TCP/53', `TCP/${temporalPort('slipway-worker')}`, 'TCP/443', 'TCP/6443', 'TCP/22']) expect(ports, port).toContain(port);
      const configMap = objects.find((o) => o.kind === 'ConfigMap')!;
      const config = parseConfig(configMap.data['slipway.yaml'], 'slipway.yaml');
      const backsUp = Object.values(config.apps).some((app) => app.environments.some((e) => e.backup));
      if (backsUp) expect(ports, 'PostgreSQL, for the backups slipway.yaml schedules').toContain('TCP/5432');
      const dns = worker.spec.egress.find((r: any) => r.ports.some((p: any) => p.port === 53));
      expect(dns.to).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }]);
    });

    it('let the webhook reach only DNS, Temporal and GitHub’s API: not the Kubernetes API, ssh or databases', () => {
      const ports = [...egressPorts(policyOf('slipway-webhook'))].sort();
      expect(ports).toEqual(['TCP/443', 'TCP/53', `TCP/${temporalPort('slipway-webhook')}`, 'UDP/53'].sort());
    });
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
