/**
 * Makes the TodoApp example (infra/examples/todoapp) a real GitOps repository: a bare repository
 * on disk whose `main` holds the example's manifests as its first commit. The demo and the tests
 * point Slipway at it like at any remote.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { parseDocument } from 'yaml';
import type { GitTarget } from '../../activities/types.js';

const run = promisify(execFile);

/** What goes into the repository: the manifests, not the pipeline config. */
const REPO_CONTENT = ['1.2', 'argocd', 'README.md'];

export const EXAMPLE_AUTHOR = { name: 'TodoApp Team', email: 'team@todoapp.example' };

export interface SeededRepo {
  /** file:// URL of the bare repository. */
  bareUrl: string;
  barePath: string;
  branch: 'main';
  /** The first (and only) commit on main. */
  commit: string;
  /** A GitTarget for the gitops activities, authored as Slipway. */
  git: GitTarget;
}

/** The example's source folder, from the source tree or from a build under dist/. */
export function todoappExampleDir(): string {
  const here = fileURLToPath(new URL('./todoapp/', import.meta.url));
  if (existsSync(join(here, 'slipway.yaml'))) return here;
  const fromDist = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../infra/examples/todoapp');
  if (existsSync(join(fromDist, 'slipway.yaml'))) return fromDist;
  throw new Error(`cannot find the TodoApp example next to ${here}`);
}

/** Creates `<dir>/todoapp-gitops.git` (the folder must not hold one yet) and pushes the example to main. */
/**
 * How a cluster shared by several users of the example (test files, a bench) tells their
 * deployments apart, and how soon a rollout that never becomes available counts as failed.
 */
export interface ExampleDeployment {
  /** The namespace each environment's overlay deploys to (default: the overlay's own, `staging`/`production`). */
  namespace?: (environment: string) => string;
  /** Set on every Deployment by each overlay (Kubernetes' default is 600 s). */
  progressDeadlineSeconds?: number;
}

/** Rewrites the overlays of a copy of the example as `deployment` says (kustomize `namespace:` and a Deployment patch). */
async function adjustOverlays(work: string, deployment: ExampleDeployment): Promise<void> {
  const overlays = join(work, '1.2', 'overlays');
  for (const environment of await readdir(overlays)) {
    const file = join(overlays, environment, 'kustomization.yaml');
    const doc = parseDocument(await readFile(file, 'utf8'));
    if (deployment.namespace) doc.set('namespace', deployment.namespace(environment));
    if (deployment.progressDeadlineSeconds !== undefined) {
      const patch = `- op: add\n  path: /spec/progressDeadlineSeconds\n  value: ${deployment.progressDeadlineSeconds}\n`;
      if (!doc.has('patches')) doc.set('patches', doc.createNode([]));
      (doc.get('patches') as { add(v: unknown): void }).add(doc.createNode({ target: { kind: 'Deployment' }, patch }));
    }
    await writeFile(file, doc.toString());
  }
}

export async function seedGitopsRepo(dir: string, opts: { name?: string; deployment?: ExampleDeployment } = {}): Promise<SeededRepo> {
  const barePath = resolve(dir, opts.name ?? 'todoapp-gitops.git');
  if (existsSync(barePath)) throw new Error(`${barePath} already exists`);
  await mkdir(barePath, { recursive: true });
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: EXAMPLE_AUTHOR.name,
    GIT_AUTHOR_EMAIL: EXAMPLE_AUTHOR.email,
    GIT_COMMITTER_NAME: EXAMPLE_AUTHOR.name,
    GIT_COMMITTER_EMAIL: EXAMPLE_AUTHOR.email,
  };
  const git = (cwd: string, ...args: string[]) => run('git', args, { cwd, env }).then((r) => r.stdout.trim());

  await git(barePath, 'init', '--quiet', '--bare', '--initial-branch=main');
  const work = await mkdtemp(join(tmpdir(), 'slipway-seed-'));
  try {
    await git(work, 'init', '--quiet', '--initial-branch=main');
    const source = todoappExampleDir();
    for (const entry of REPO_CONTENT) await cp(join(source, entry), join(work, entry), { recursive: true });
    if (opts.deployment) await adjustOverlays(work, opts.deployment);
    await git(work, 'add', '--all');
    await git(work, '-c', 'commit.gpgsign=false', 'commit', '--quiet', '-m', 'TodoApp 1.2: base, staging and production overlays, Argo CD applications');
    await git(work, 'push', '--quiet', barePath, 'HEAD:refs/heads/main');
    const commit = await git(work, 'rev-parse', 'HEAD');
    const bareUrl = pathToFileURL(barePath).href;
    return {
      bareUrl,
      barePath,
      branch: 'main',
      commit,
      git: { url: bareUrl, branch: 'main', author: { name: 'Slipway', email: 'slipway@example.com' } },
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
