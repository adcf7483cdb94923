/**
 * The GitOps remote refusing pushes for a while (an outage: the host does not answer): the
 * promotion's write retries, and lands when the remote is back — with no duplicate commit.
 * Real gitops activities on a real bare repository (reached through a stand-in ssh, see
 * flaky-ssh-remote.ts) and the real workflows; the rest of the world is a FakeWorld, except that
 * "healthy" means the commit is on the remote branch.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { createGitopsActivities } from '../../activities/gitops/index.js';
import type { ArgoActivities } from '../../activities/types.js';
import { parseConfig } from '../../config/schema.js';
import { imagesForCommit } from '../../core/images.js';
import { seedGitopsRepo } from '../../infra/examples/seed-repo.js';
import type { ReleasePipeline } from '../../workflows/types.js';
import { FakeWorld } from '../support/fake-world.js';
import { flakySshRemote } from '../support/flaky-ssh-remote.js';
import { commitSha, eventually, startRelease, uniqueApp } from '../support/pipelines.js';
import { TestPolicy } from '../support/policy.js';
import { startTestWorker, testClient, type RunningWorker } from '../support/temporal.js';

const run = promisify(execFile);
const IMAGES = ['todoapp/frontend', 'todoapp/backend', 'todoapp/backend-todos', 'todoapp/broadcaster'];

let worker: RunningWorker | undefined;
afterAll(async () => {
  await worker?.stop();
});

/** The worker's policy for this test: the app promoted through the (flaky) remote at `url`. */
function policyFor(app: string, url: string): { policy: TestPolicy; pipeline: ReleasePipeline } {
  const text = `
gitops: { url: "${url}", branch: main, author: { name: Slipway, email: slipway@example.com } }
engine: { heartbeatTimeout: 2s, stepTimeout: 20s }
apps:
  ${app}:
    source: { github: example/${app} }
    images: [${IMAGES.join(', ')}]
    build: none
    environments:
      - name: staging
        overlay: 1.2/overlays/staging
        argocd: { application: ${app}-staging, timeout: 20s }
        checks: []
      - name: production
        overlay: 1.2/overlays/production
        argocd: { application: ${app}-production, timeout: 20s }
`;
  const config = parseConfig(text, `${app}.slipway.yaml`);
  return { policy: TestPolicy.fromText(text), pipeline: { app, appConfig: config.apps[app]!, git: config.gitops, engine: config.engine } };
}

/** Argo CD for this test: "Synced and Healthy" as soon as the commit is on the remote branch. */
function commitOnBranchArgo(barePath: string): ArgoActivities {
  return {
    async refreshApplication() {},
    async waitForHealthy({ commit }) {
      await run('git', ['--git-dir', barePath, 'merge-base', '--is-ancestor', commit, 'refs/heads/main']);
      return { revision: commit, sync: 'Synced', health: 'Healthy' };
    },
  };
}

it('retries a promotion while the git remote refuses pushes and lands exactly one commit per environment', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-remote-down-'));
  const repo = await seedGitopsRepo(dir);
  const remote = flakySshRemote(repo.barePath, dir);
  const app = uniqueApp('todo');
  const world = new FakeWorld(join(dir, 'world'));
  world.setRules({ initial: {}, applications: {} });

  const { policy, pipeline } = policyFor(app, remote.url);
  worker = await startTestWorker(
    {
      ...world.activities(),
      ...createGitopsActivities({ env: remote.env, maxBackoffMs: 200 }),
      ...commitOnBranchArgo(repo.barePath),
    },
    undefined,
    policy.store,
  );
  const client = await testClient();
  const commit = commitSha();
  const handle = await startRelease(client, worker.taskQueue, pipeline, commit, { version: '1.3.0' });

  // The remote goes down before the first push, and comes back a few seconds after it first refused.
  remote.refusePushes();
  await eventually(async () => remote.refusals(), (n) => n >= 1, 60_000);
  await new Promise((r) => setTimeout(r, 3000));
  remote.acceptPushes();

  const result = await handle.result();
  expect(result.outcome).toBe('released');
  expect(remote.refusals()).toBeGreaterThanOrEqual(1);

  const git = async (...args: string[]) => (await run('git', ['--git-dir', repo.barePath, ...args])).stdout.trim();
  const kinds = (await git('log', '--format=%(trailers:key=Slipway-Environment,valueonly)%(trailers:key=Slipway-Release,valueonly)', `${repo.commit}..main`))
    .split('\n')
    .filter(Boolean);
  expect(kinds.sort()).toEqual([`production`, `release/${app}/${commit}`, 'staging', `release/${app}/${commit}`].sort());
  expect(await git('rev-list', '--count', 'main')).toBe('3');
  for (const env of ['staging', 'production']) {
    const overlay = await git('show', `main:1.2/overlays/${env}/kustomization.yaml`);
    for (const image of imagesForCommit(IMAGES, commit)) expect(overlay).toContain(`newTag: ${image.newTag}`);
  }
}, 180_000);
