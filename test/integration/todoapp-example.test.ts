/**
 * The TodoApp example (seed 004) as a real GitOps repository: its overlays render with kustomize,
 * staging and production differ the way the seed describes, and an overlay write shows up in the
 * rendered Deployments.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { createGitopsActivities } from '../../activities/gitops/index.js';
import { parseConfig } from '../../config/schema.js';
import { imagesForCommit } from '../../core/images.js';
import { seedGitopsRepo, todoappExampleDir, type SeededRepo } from '../../infra/examples/seed-repo.js';
import { kustomizePath } from '../../infra/kustomize.js';

const run = promisify(execFile);
const IMAGES = ['todoapp/frontend', 'todoapp/backend', 'todoapp/backend-todos', 'todoapp/broadcaster'];
const DEPLOYMENTS = ['frontend', 'backend', 'backend-todos', 'broadcaster'];

interface Resource {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: any;
}

let root: string;
let repo: SeededRepo;
let kustomize: string;

beforeAll(async () => {
  kustomize = kustomizePath();
  root = await mkdtemp(join(tmpdir(), 'slipway-todoapp-'));
  repo = await seedGitopsRepo(root);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Renders an overlay at the branch head, from a fresh clone of the bare repository. */
async function render(overlay: string): Promise<Resource[]> {
  const work = await mkdtemp(join(root, 'render-'));
  try {
    await run('git', ['clone', '--quiet', repo.barePath, work]);
    const { stdout } = await run(kustomize, ['build', join(work, overlay)], { maxBuffer: 16 * 1024 * 1024 });
    return parseAllDocuments(stdout).map((d) => d.toJS() as Resource);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function find(resources: Resource[], kind: string, name: string): Resource | undefined {
  return resources.find((r) => r.kind === kind && r.metadata.name === name);
}

function container(resources: Resource[], deployment: string): { image: string; env?: Array<{ name: string; value?: string; valueFrom?: any }> } {
  const d = find(resources, 'Deployment', deployment);
  expect(d, `Deployment ${deployment}`).toBeDefined();
  return d!.spec.template.spec.containers[0];
}

function ids(resources: Resource[]): string[] {
  return resources.map((r) => `${r.kind}/${r.metadata.name}`).sort();
}

describe('the TodoApp GitOps example', () => {
  it('renders both overlays; they differ exactly as seed 004 says', async () => {
    const staging = await render('1.2/overlays/staging');
    const production = await render('1.2/overlays/production');

    // The same application in both: four Deployments with Services, PostgreSQL, the todo CronJob.
    for (const resources of [staging, production]) {
      for (const name of DEPLOYMENTS) {
        expect(find(resources, 'Deployment', name)).toBeDefined();
        expect(find(resources, 'Service', name)).toBeDefined();
      }
      expect(find(resources, 'StatefulSet', 'postgres')).toBeDefined();
      expect(find(resources, 'CronJob', 'todo-cronjob')).toBeDefined();
    }

    // Namespaces.
    expect(new Set(staging.map((r) => r.metadata.namespace))).toEqual(new Set(['staging']));
    expect(new Set(production.map((r) => r.metadata.namespace))).toEqual(new Set(['production']));

    // Backups only in production; otherwise the same resources.
    expect(find(staging, 'CronJob', 'postgres-backup')).toBeUndefined();
    expect(find(production, 'CronJob', 'postgres-backup')).toBeDefined();
    expect(ids(production)).toEqual([...ids(staging), 'CronJob/postgres-backup'].sort());

    // Broadcaster: LOG_ONLY in staging, Discord webhook from a Secret in production.
    const stagingEnv = container(staging, 'broadcaster').env!;
    expect(stagingEnv.find((e) => e.name === 'LOG_ONLY')?.value).toBe('true');
    expect(stagingEnv.find((e) => e.name === 'DISCORD_WEBHOOK_URL')).toBeUndefined();
    const productionEnv = container(production, 'broadcaster').env!;
    expect(productionEnv.find((e) => e.name === 'LOG_ONLY')).toBeUndefined();
    expect(productionEnv.find((e) => e.name === 'DISCORD_WEBHOOK_URL')?.valueFrom).toEqual({
      secretKeyRef: { name: 'broadcaster-discord', key: 'webhook-url' },
    });

    // Replicas: production runs two of the user-facing services.
    expect(find(staging, 'Deployment', 'frontend')!.spec.replicas).toBe(1);
    expect(find(production, 'Deployment', 'frontend')!.spec.replicas).toBe(2);
    expect(find(production, 'Deployment', 'backend')!.spec.replicas).toBe(2);

    // Images come from each overlay's images: list.
    for (const name of DEPLOYMENTS) {
      expect(container(staging, name).image).toBe(`todoapp/${name}:8c1f2e3`);
      expect(container(production, name).image).toBe(`todoapp/${name}:5b7a9d0`);
    }
  });

  it('after a promotion, the new tags are in the rendered staging Deployments and production is untouched', async () => {
    const sha = '9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291807';
    const productionBefore = await render('1.2/overlays/production');
    const gitops = createGitopsActivities({ logger: { info: () => {}, warn: () => {} } });
    const result = await gitops.writeOverlayImages({
      git: repo.git,
      overlay: '1.2/overlays/staging',
      images: imagesForCommit(IMAGES, sha),
      context: { app: 'todoapp', environment: 'staging', releaseId: `release/todoapp/${sha}`, sourceCommit: sha, kind: 'promote' },
    });
    expect(result.changed).toBe(true);

    const staging = await render('1.2/overlays/staging');
    for (const name of DEPLOYMENTS) expect(container(staging, name).image).toBe(`todoapp/${name}:${sha}`);
    // Images not managed by the pipeline keep theirs.
    expect(find(staging, 'StatefulSet', 'postgres')!.spec.template.spec.containers[0].image).toBe('postgres:16');
    expect(await render('1.2/overlays/production')).toEqual(productionBefore);
  });

  it('slipway.yaml is valid and matches the repository: overlays, images and Argo CD applications', async () => {
    const dir = todoappExampleDir();
    const config = parseConfig(await readFile(join(dir, 'slipway.yaml'), 'utf8'), 'slipway.yaml');
    const app = config.apps.todoapp!;
    expect(app.images).toEqual(IMAGES);
    const [staging, production] = app.environments;
    expect(staging!.name).toBe('staging');
    expect(staging!.checks).toEqual([{ soak: 30_000 }]);
    expect(staging!.notify).toBe('log');
    expect(staging!.backup).toBeUndefined();
    expect(production!.approval).toMatchObject({ required: true, timeout: 24 * 3600_000, fourEyes: true });
    expect(app.triggers).toEqual({ push: [{ branch: 'main', to: 'staging' }] });
    expect(production!.freeze).toEqual([{ cron: '0 17 * * FRI', duration: 64 * 3600_000, reason: 'weekend freeze' }]);
    expect(production!.notify).toEqual({ discord: { urlFromEnv: 'DISCORD_WEBHOOK_URL' } });
    expect(production!.backup).toMatchObject({ postgres: { urlFromEnv: 'PROD_DATABASE_URL' }, keep: 14 });

    const gitops = createGitopsActivities({ logger: { info: () => {}, warn: () => {} } });
    for (const env of app.environments) {
      // Every configured image has an entry in the environment's overlay.
      const read = await gitops.readOverlayImages({ git: repo.git, overlay: env.overlay, imageNames: IMAGES });
      expect(read.images.map((i) => i.name)).toEqual(IMAGES);
      // The Argo CD Application for the environment watches that overlay on the GitOps branch.
      const application = parse(await readFile(join(dir, 'argocd', `${env.argocd.application}.yaml`), 'utf8'));
      expect(application.metadata).toEqual({ name: env.argocd.application, namespace: env.argocd.namespace });
      expect(application.spec.source).toMatchObject({ targetRevision: config.gitops.branch, path: env.overlay });
      expect(application.spec.destination.namespace).toBe(env.name);
    }
  });
});
