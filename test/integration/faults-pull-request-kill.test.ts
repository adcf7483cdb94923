/**
 * Tier: the suite's shared dev Temporal server, Prism in-process, worker processes with the real
 * activities (test/support/real-worker-process.ts) that are SIGKILLed; the shared cluster only for
 * the workers' kubeconfig (nothing here reaches Argo CD: every pull request is closed unmerged).
 * Pull-request mode when the worker dies around its side effects: right after GitHub created the
 * pull request but before the worker heard the answer, and right at the push of the branch. Each
 * time the next attempt, on another worker, finds what the dead one made: one branch commit, one
 * pull request.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { seedGitopsRepo, type SeededRepo } from '../../infra/examples/seed-repo.js';
import { startPrism, type PrismMock } from '../../infra/github-mock/prism.js';
import { releaseStatusQuery } from '../../workflows/messages.js';
import { sharedCluster } from '../support/cluster.js';
import { failureTextOf } from '../support/failures.js';
import { GithubTwin, type TwinPull } from '../support/github-twin.js';
import { commitSha, eventually, pullRequestAppYaml, startRelease, uniqueApp } from '../support/pipelines.js';
import { TestPolicy } from '../support/policy.js';
import { protectMain } from '../support/protected-repo.js';
import { temporalAddress, testClient, uniqueTaskQueue } from '../support/temporal.js';
import { killWorker, startWorkerProcess } from '../support/worker-processes.js';

const REPO = 'acme/gitops';
const TOKEN_VAR = 'SLIPWAY_TEST_PR_KILL_TOKEN';
const OVERLAY = '1.2/overlays/production';
const IMAGES = ['todoapp/frontend', 'todoapp/backend', 'todoapp/backend-todos', 'todoapp/broadcaster'];

let dir: string;
let repo: SeededRepo;
let prism: PrismMock;
let twin: GithubTwin;
let policy: TestPolicy;
let client: Client;
let bundle: string;
const taskQueue = uniqueTaskQueue('pr-kill');
const workers: ChildProcess[] = [];
let pushes: Array<(commit: string) => void> = [];

function git(...args: string[]): string {
  return execFileSync('git', ['--git-dir', repo.barePath, ...args], { encoding: 'utf8' }).trim();
}

async function startWorker(pushPauseMs = 0): Promise<ChildProcess> {
  const child = await startWorkerProcess({
    script: 'test/support/real-worker-process.ts',
    temporalAddress: temporalAddress(),
    taskQueue,
    worldDir: '',
    workflowBundle: bundle,
    policyFile: policy.file,
    extra: {
      KUBECONFIG: sharedCluster().kubeconfigPath,
      CLONE_ROOT: join(dir, 'clones'),
      MIRROR_DIR: join(dir, 'mirrors'),
      GITHUB_API_URL: twin.url,
      [TOKEN_VAR]: 'ghp_prKillTestToken0123456789abcdef',
      ...(pushPauseMs > 0 ? { PUSH_PAUSE_MS: String(pushPauseMs), PUSH_SEED: String(workers.length + 1) } : {}),
    },
    onLine: (line) => {
      if (line.startsWith('pushing ')) for (const waiter of pushes.splice(0)) waiter(line.slice('pushing '.length));
    },
  });
  workers.push(child);
  return child;
}

function addApp(): string {
  const app = uniqueApp('prkill');
  policy.addApp(app, pullRequestAppYaml(app, { images: IMAGES, overlay: OVERLAY, application: `${app}-production`, write: '{ pullRequest: { poll: 1s } }' }));
  return app;
}

/** The commits on a branch that carry this release's Slipway trailers. */
function ownCommits(branch: string, app: string, commit: string): string[] {
  return git('log', '--format=%H %B%x1e', `refs/heads/${branch}`)
    .split('\x1e')
    .filter((c) => c.includes(`Slipway-Release: release/${app}/${commit}`))
    .map((c) => c.trim().split(' ')[0]!);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'slipway-pr-kill-'));
  mkdirSync(join(dir, 'clones'));
  // Another run in this tree may rewrite the suite's bundle: the workers load a copy.
  bundle = join(dir, 'workflow-bundle.js');
  writeFileSync(bundle, readFileSync(inject('workflowBundlePath')));
  repo = await seedGitopsRepo(dir);
  protectMain(repo.barePath);
  prism = await startPrism({ logFile: join(process.cwd(), 'test-output', 'prism-faults-pull-request-kill.log') });
  twin = new GithubTwin(prism, repo.barePath, REPO);
  await twin.start();
  policy = new TestPolicy(`gitops: { url: "${repo.bareUrl}", branch: main, github: ${REPO}, githubTokenFromEnv: ${TOKEN_VAR} }
engine: { heartbeatTimeout: 3s, stepTimeout: 5s }`);
  addApp();
  client = await testClient();
}, 240_000);

afterAll(async () => {
  for (const w of workers) await killWorker(w);
  await twin?.stop();
  await prism?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  for (const w of workers.splice(0)) await killWorker(w);
  twin.beforeCreateAnswer = undefined;
  const refused = twin.requestViolations();
  prism.clear();
  expect(refused.map((r) => `${r.method} ${r.path}: ${r.violation}`)).toEqual([]);
});

describe('pull-request mode when the worker is killed', () => {
  it('killed after GitHub created the pull request and before the answer: the next worker finds it, and there is one pull request', async () => {
    const app = addApp();
    const commit = commitSha();
    let created!: (pull: TwinPull) => void;
    const createdSeen = new Promise<TwinPull>((resolve) => (created = resolve));
    let answer!: () => void;
    const answerHeld = new Promise<void>((resolve) => (answer = resolve));
    twin.beforeCreateAnswer = async (pull) => {
      created(pull);
      await answerHeld;
    };
    const first = await startWorker();
    const handle = await startRelease(client, taskQueue, { app } as never, commit);

    const pull = await createdSeen;
    await killWorker(first);
    answer(); // into a closed connection: the dead worker never hears it
    await startWorker();

    await eventually(() => handle.query(releaseStatusQuery), (s) => s.environments[0]?.phase === 'awaiting-merge', 60_000);
    expect(twin.pulls.filter((p) => p.head === pull.head)).toHaveLength(1);
    expect(twin.calls.filter((c) => c === `POST /repos/${REPO}/pulls`)).toHaveLength(1);
    // The retry looked before it would create: that look found the dead worker's pull request.
    const promotion = (await handle.query(releaseStatusQuery)).environments[0]!.detail;
    expect(promotion).toContain(`/pull/${pull.number}`);
    expect(ownCommits(pull.head, app, commit)).toHaveLength(1);

    twin.close(pull.number, 'dave');
    expect(await failureTextOf(handle.result())).toMatch(/rejected by dave/);
  });

  it('killed at the push of the branch: the next worker finds or makes the one branch commit, and opens one pull request', async () => {
    const app = addApp();
    const commit = commitSha();
    const first = await startWorker(1500);
    const pushing = new Promise<string>((resolve) => pushes.push(resolve));
    const handle = await startRelease(client, taskQueue, { app } as never, commit);
    await pushing;
    // Somewhere in 0–1.5 s before the push, or during it: either way the next attempt must end with one commit.
    await new Promise((resolve) => setTimeout(resolve, 700));
    await killWorker(first);
    await startWorker();

    await eventually(() => handle.query(releaseStatusQuery), (s) => s.environments[0]?.phase === 'awaiting-merge', 60_000);
    const ours = twin.pulls.filter((p) => p.head.includes(`${app}-${commit}`));
    expect(ours).toHaveLength(1);
    expect(ownCommits(ours[0]!.head, app, commit)).toHaveLength(1);
    expect(git('rev-parse', 'main')).toBe(repo.commit);

    twin.close(ours[0]!.number, 'erin');
    expect(await failureTextOf(handle.result())).toMatch(/rejected by erin/);
  });
});
