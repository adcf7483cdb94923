/**
 * Tier: the suite's shared dev Temporal server and shared cluster (a real Kubernetes control plane
 * with kwok nodes and the real Argo CD), plus Prism, in-process. Pull-request mode end to end: the
 * TodoApp GitOps repository in a real bare repository whose `main` refuses every push through a
 * pre-receive hook, as a protected branch does; GitHub's pull requests played by a twin of that
 * repository that sends every request to Prism first (validated against GitHub's OpenAPI
 * description; none may be refused); the real webhook server, given signed `pull_request`
 * deliveries; the real gitops, pull-request, Argo CD and control activities on a worker.
 *
 * Each test releases its own app (own environment workflow) into the same production overlay and
 * Argo CD Application, one after the other.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Client } from '@temporalio/client';
import { createArgoActivities, type ArgoApplication } from '../../activities/argocd/index.js';
import { createControlActivities } from '../../activities/control/index.js';
import { createPullRequestActivities } from '../../activities/github/index.js';
import { createGitopsActivities, createPullRequestWriteActivities, isAncestor } from '../../activities/gitops/index.js';
import type { NotifyActivities } from '../../activities/types.js';
import { environmentWorkflowId } from '../../core/ids.js';
import { createApplications, exampleApplications } from '../../infra/demo/applications.js';
import { seedGitopsRepo, type SeededRepo } from '../../infra/examples/seed-repo.js';
import { startPrism, type PrismMock } from '../../infra/github-mock/prism.js';
import { environmentStateQuery, releaseStatusQuery } from '../../workflows/messages.js';
import { readApplication } from '../support/argocd-fixture.js';
import { failureTextOf } from '../support/failures.js';
import { deleteApplications, sharedCluster, unreadyBuild, type SharedCluster } from '../support/cluster.js';
import { BOT, GithubTwin, type TwinPull } from '../support/github-twin.js';
import { commitSha, eventually, pullRequestAppYaml, startRelease, uniqueApp } from '../support/pipelines.js';
import { TestPolicy } from '../support/policy.js';
import { startTemporalWebhook } from '../support/temporal-webhook.js';
import { protectMain } from '../support/protected-repo.js';
import { saveHistory, startTestWorker, testClient, type RunningWorker } from '../support/temporal.js';
import { pullRequestPayload, sign } from '../support/webhook-payloads.js';

const REPO = 'acme/gitops';
const TOKEN_VAR = 'SLIPWAY_TEST_PR_MODE_TOKEN';
const TOKEN = 'ghp_prModeTestToken0123456789abcdef';
const SECRET = 'pull-request-mode-webhook-secret';
const PREFIX = 'prmode';
const APPLICATION = `${PREFIX}-todoapp-production`;
const OVERLAY = '1.2/overlays/production';
const IMAGES = ['todoapp/frontend', 'todoapp/backend', 'todoapp/backend-todos', 'todoapp/broadcaster'];

let dir: string;
let repo: SeededRepo;
let cluster: SharedCluster;
let prism: PrismMock;
let twin: GithubTwin;
let policy: TestPolicy;
let worker: RunningWorker;
let client: Client;
let webhook: Awaited<ReturnType<typeof startTemporalWebhook>>;
let webhookUrl: string;

function git(...args: string[]): string {
  return execFileSync('git', ['--git-dir', repo.barePath, ...args], { encoding: 'utf8' }).trim();
}

function overlayTags(rev = 'main'): string[] {
  const kustomization = parse(git('show', `${rev}:${OVERLAY}/kustomization.yaml`)) as { images: Array<{ newTag: string }> };
  return kustomization.images.map((i) => String(i.newTag));
}

function application(): Promise<ArgoApplication> {
  return readApplication(cluster.kubeConfig, 'argocd', APPLICATION);
}

/** An app of its own in the policy, its production environment in pull-request mode with `write`. */
function addApp(write: string): string {
  const app = uniqueApp('prmode');
  policy.addApp(app, pullRequestAppYaml(app, { images: IMAGES, overlay: OVERLAY, application: APPLICATION, write, timeout: '60s' }));
  return app;
}

async function release(app: string, commit = commitSha(), version?: string) {
  return startRelease(client, worker.taskQueue, { app } as never, commit, version ? { version } : {});
}

/** The pull request the twin holds for a branch of this release, once it is there. */
async function pullOf(app: string, commit: string, rollback = false): Promise<TwinPull> {
  return eventually(
    async () => twin.pulls.find((p) => p.head.includes(`${app}-${commit}`) && p.head.endsWith(rollback ? '.rollback' : '/production')),
    (p) => p !== undefined,
    90_000,
  ) as Promise<TwinPull>;
}

/** GitHub's delivery about a pull request, signed as GitHub signs it; the webhook's answer. */
async function deliver(action: 'closed' | 'opened', pull: TwinPull): Promise<{ status: number; body: Record<string, unknown> }> {
  const body = JSON.stringify(pullRequestPayload(action, { number: pull.number, head: pull.head, repo: REPO, merged: pull.merged }));
  const response = await fetch(webhookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-github-delivery': `d-${pull.number}-${action}`, 'x-hub-signature-256': await sign(SECRET, body) },
    body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/**
 * Releases a build that never becomes ready into a new app's production (`write`, with autoMerge):
 * merged, then Degraded, then rolled back. Returns the app, the overlay's tags before and the build.
 */
async function failedAfterMerge(write: string): Promise<{ app: string; good: string[]; bad: string }> {
  const app = addApp(write);
  const good = overlayTags();
  const bad = unreadyBuild();
  const failure = await failureTextOf((await release(app, bad)).result());
  expect(failure).toMatch(/Degraded/);
  expect(failure).toMatch(/rolled back/);
  return { app, good, bad };
}

/** Records the histories of a release, its environment and its promotions for the replay suite (test-output/histories/). */
async function record(name: string, app: string, commit: string): Promise<void> {
  await saveHistory(client, `release-${name}`, `release/${app}/${commit}`);
  await saveHistory(client, `environment-${name}`, environmentWorkflowId(app, 'production'));
  const promotions = await eventually(
    async () => {
      const ids: string[] = [];
      for await (const w of client.workflow.list({ query: `WorkflowType = 'promotion' AND SlipwayApp = '${app}'` })) ids.push(w.workflowId);
      return ids;
    },
    (ids) => ids.length > 0,
    10_000,
  );
  for (const [i, id] of [...promotions].sort().entries()) await saveHistory(client, `promotion-${name}${i ? `-${i + 1}` : ''}`, id);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'slipway-pr-mode-'));
  cluster = sharedCluster();
  repo = await seedGitopsRepo(dir, { deployment: { namespace: (env) => `${PREFIX}-${env}`, progressDeadlineSeconds: 10 } });
  // Slipway's rollback commits may bypass the protection (for the `rollback: push` test); nothing else may.
  protectMain(repo.barePath, { rollbacksBypass: true });
  const production = exampleApplications(repo.bareUrl, { name: (n) => `${PREFIX}-${n}`, namespace: (env) => `${PREFIX}-${env}` }).filter((a) => a.metadata.name === APPLICATION);
  await createApplications(cluster.kubeConfig, production);

  prism = await startPrism({ logFile: join(process.cwd(), 'test-output', 'prism-promotion-pull-request.log') });
  twin = new GithubTwin(prism, repo.barePath, REPO);
  await twin.start();
  process.env[TOKEN_VAR] = TOKEN;

  policy = new TestPolicy(`gitops: { url: "${repo.bareUrl}", branch: main, github: ${REPO}, githubTokenFromEnv: ${TOKEN_VAR} }
engine: { heartbeatTimeout: 5s, stepTimeout: 20s }`);
  // A worker starts only with a policy that holds an app.
  addApp('pull-request');
  const notify: NotifyActivities = { notify: async (input) => ({ delivered: input.channels.length, failed: 0 }) };
  const mirrors = join(dir, 'mirrors');
  worker = await startTestWorker(
    {
      ...createGitopsActivities(),
      ...createPullRequestWriteActivities({ mirrors }),
      ...createPullRequestActivities({ baseUrl: twin.url, uiUrl: 'http://temporal-ui.example:8233', namespace: 'default' }),
      ...createArgoActivities({ kubeConfig: cluster.kubeConfig, isAncestor }),
      ...createControlActivities(),
      ...notify,
    },
    undefined,
    policy.store,
  );
  client = await testClient();
  webhook = await startTemporalWebhook({ client, taskQueue: worker.taskQueue, secret: SECRET });
  webhookUrl = webhook.url;
}, 240_000);

afterAll(async () => {
  await webhook?.stop();
  await worker?.stop();
  await twin?.stop();
  await prism?.stop();
  delete process.env[TOKEN_VAR];
  if (cluster) await deleteApplications(cluster.kubeConfig, [APPLICATION]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  const refused = twin.requestViolations();
  prism.clear();
  expect(refused.map((r) => `${r.method} ${r.path}: ${r.violation}`)).toEqual([]);
});

describe('pull-request mode: promotions through a pull request on a protected main', () => {
  it('opens exactly one pull request, leaves main alone, and on the signed merged delivery gates on the merge commit and completes', async () => {
    const app = addApp('{ pullRequest: { poll: 1h, labels: [deploy], reviewers: [alice] } }');
    const mainBefore = git('rev-parse', 'main');
    const commit = commitSha();
    const handle = await release(app, commit, '2.0.0');
    const pull = await pullOf(app, commit);
    await eventually(() => handle.query(releaseStatusQuery), (s) => s.environments[0]?.phase === 'awaiting-merge', 30_000);

    expect(git('rev-parse', 'main')).toBe(mainBefore);
    expect(overlayTags(`refs/heads/${pull.head}`)).toEqual(IMAGES.map(() => commit));
    expect(pull).toMatchObject({ base: 'main', state: 'open', title: `promote ${app} to production: ${commit.slice(0, 7)} (2.0.0)`, labels: ['deploy'], reviewers: ['alice'] });
    expect(pull.body).toContain(`(http://temporal-ui.example:8233/namespaces/default/workflows/release%2F${app}%2F${commit})`);
    const status = await handle.query(releaseStatusQuery);
    expect(status.environments[0]!.detail).toContain(`https://github.com/${REPO}/pull/${pull.number}`);

    // A person squash-merges it on GitHub; GitHub tells the webhook.
    const mergeCommit = twin.merge(pull.number, 'alice', 'squash');
    const answered = await deliver('closed', twin.pull(pull.number));
    expect(answered.status).toBe(202);
    expect(answered.body.woken).toEqual([expect.stringMatching(new RegExp(`^promotion/${app}/production/`))]);

    const result = await handle.result();
    expect(result.outcome).toBe('released');
    expect(result.environments.production).toMatchObject({ phase: 'promoted', gitopsCommit: mergeCommit, pullRequest: { number: pull.number, mergedBy: 'alice' } });
    expect(result.environments.production!.images).toBeUndefined();
    const argo = await application();
    expect(argo.status?.sync?.revision).toBe(mergeCommit);
    expect(argo.status?.health?.status).toBe('Healthy');
    expect(overlayTags()).toEqual(IMAGES.map(() => commit));
    // One pull request for the release, created once.
    expect(twin.pulls.filter((p) => p.head === pull.head)).toHaveLength(1);
    expect(twin.calls.filter((c) => c === `POST /repos/${REPO}/pulls`)).toHaveLength(1);
    await record('pull-request-merged', app, commit);
  });

  it('a lost delivery is recovered by the poll: the merge is noticed without any webhook delivery', async () => {
    const app = addApp('{ pullRequest: { poll: 1s } }');
    const commit = commitSha();
    const handle = await release(app, commit);
    const pull = await pullOf(app, commit);
    const mergeCommit = twin.merge(pull.number, 'carol');
    const result = await handle.result();
    expect(result.environments.production).toMatchObject({ phase: 'promoted', gitopsCommit: mergeCommit, pullRequest: { mergedBy: 'carol' } });
  });

  it('a pull request closed without merging ends the promotion rejected, naming who closed it; nothing reaches main', async () => {
    const app = addApp('{ pullRequest: { poll: 1h } }');
    const mainBefore = git('rev-parse', 'main');
    const commit = commitSha();
    const handle = await release(app, commit);
    const pull = await pullOf(app, commit);
    twin.close(pull.number, 'bob');
    expect((await deliver('closed', twin.pull(pull.number))).status).toBe(202);
    const failure = await failureTextOf(handle.result());
    expect(failure).toMatch(/rejected by bob/);
    expect(git('rev-parse', 'main')).toBe(mainBefore);
    const state = await client.workflow.getHandle(environmentWorkflowId(app, 'production')).query(environmentStateQuery);
    expect(state.recent[0]).toMatchObject({ outcome: 'rejected', result: { outcome: 'rejected', by: 'bob' } });
    // Nothing more was said or done on the closed pull request.
    expect(twin.comments.filter((c) => c.issue === pull.number)).toEqual([]);
    await record('pull-request-closed', app, commit);
  });

  it('changes a person pushed to the branch before merging are what the gate waits on, and what the release records', async () => {
    const app = addApp('{ pullRequest: { poll: 1h } }');
    const commit = commitSha();
    const handle = await release(app, commit);
    const pull = await pullOf(app, commit);
    // Alice pins the backend to another build on the branch, then merges.
    const work = join(dir, `person-${app}`);
    const person = (...args: string[]) => execFileSync('git', args, { cwd: work, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'Alice', GIT_AUTHOR_EMAIL: 'alice@example.com', GIT_COMMITTER_NAME: 'Alice', GIT_COMMITTER_EMAIL: 'alice@example.com' } });
    execFileSync('git', ['clone', '--quiet', '--branch', pull.head, repo.bareUrl, work]);
    const file = join(work, OVERLAY, 'kustomization.yaml');
    const text = readFileSync(file, 'utf8');
    const backendAt = text.indexOf('name: todoapp/backend\n');
    const pinned = text.slice(0, backendAt) + text.slice(backendAt).replace(commit, 'pinned-by-alice');
    writeFileSync(file, pinned);
    person('commit', '--quiet', '-am', 'pin the backend');
    person('push', '--quiet', 'origin', `HEAD:refs/heads/${pull.head}`);
    const mergeCommit = twin.merge(pull.number, 'alice');
    await deliver('closed', twin.pull(pull.number));

    const result = await handle.result();
    const deployed = result.environments.production!;
    expect(deployed.gitopsCommit).toBe(mergeCommit);
    expect(deployed.images?.find((i) => i.name === 'todoapp/backend')?.newTag).toBe('pinned-by-alice');
    expect(deployed.images?.find((i) => i.name === 'todoapp/frontend')?.newTag).toBe(commit);
    const state = await client.workflow.getHandle(environmentWorkflowId(app, 'production')).query(environmentStateQuery);
    expect(state.current?.images.find((i) => i.name === 'todoapp/backend')?.newTag).toBe('pinned-by-alice');
    expect(state.recent[0]?.notes?.join(' ')).toMatch(new RegExp(`merged through pull request #${pull.number} by alice .*with changes pushed to its branch`));
  });

  it('a newer release closes the older, unmerged pull request with a comment; the newer one goes through its own', async () => {
    const app = addApp('{ pullRequest: { poll: 1h } }');
    const older = commitSha();
    const olderHandle = await release(app, older, '3.0.0');
    const olderPull = await pullOf(app, older);
    const newer = commitSha();
    const newerHandle = await release(app, newer, '3.1.0');

    const olderResult = await olderHandle.result();
    expect(olderResult.outcome).toBe('superseded');
    expect(olderResult.supersededBy).toBe(`release/${app}/${newer}`);
    expect(twin.pull(olderPull.number)).toMatchObject({ state: 'closed', merged: false, closedBy: BOT });
    const said = twin.comments.filter((c) => c.issue === olderPull.number);
    expect(said).toHaveLength(1);
    expect(said[0]!.body).toContain(`Superseded by a newer release, 3.1.0 (${newer.slice(0, 7)})`);

    const newerPull = await pullOf(app, newer);
    expect(newerPull.number).not.toBe(olderPull.number);
    const mergeCommit = twin.merge(newerPull.number, 'alice');
    await deliver('closed', twin.pull(newerPull.number));
    expect((await newerHandle.result()).environments.production).toMatchObject({ phase: 'promoted', gitopsCommit: mergeCommit });
    await record('pull-request-superseded', app, older);
  });

  it('a build that fails after its merge is rolled back through a rollback pull request, which Slipway merges with autoMerge; the release says so', async () => {
    const { app, good, bad } = await failedAfterMerge('{ pullRequest: { poll: 1s, autoMerge: true, mergeMethod: squash } }');

    const pull = twin.pulls.find((p) => p.head.includes(`${app}-${bad}`) && p.head.endsWith('/production'))!;
    const rollback = twin.pulls.find((p) => p.head.includes(`${app}-${bad}`) && p.head.endsWith('.rollback'))!;
    expect(pull).toMatchObject({ merged: true, mergedBy: BOT });
    expect(rollback).toMatchObject({ merged: true, mergedBy: BOT, title: `roll back ${app} in production: undo ${bad.slice(0, 7)}` });
    // Both went to main only through their merges; main holds the images from before again.
    expect(git('log', '--format=%s', '-2', 'main').split('\n')).toEqual([`${rollback.title} (#${rollback.number})`, `${pull.title} (#${pull.number})`]);
    expect(overlayTags()).toEqual(good);
    const argo = await application();
    expect(argo.status?.sync?.revision).toBe(twin.pull(rollback.number).mergeCommit);
    expect(argo.status?.health?.status).toBe('Healthy');
    await record('pull-request-rollback', app, bad);
  });

  it('with rollback: push, a build that fails after its merge is rolled back by a commit pushed to main (the protection lets rollbacks through), and no rollback pull request is opened', async () => {
    const { app, good, bad } = await failedAfterMerge('{ pullRequest: { poll: 1s, autoMerge: true, rollback: push } }');

    const ours = twin.pulls.filter((p) => p.head.includes(`${app}-${bad}`));
    expect(ours.map((p) => p.head.endsWith('.rollback'))).toEqual([false]);
    expect(ours[0]).toMatchObject({ merged: true, mergedBy: BOT });
    const [rollback, merge] = git('log', '--format=%an|%s', '-2', 'main').split('\n');
    expect(rollback).toMatch(/^Slipway\|/);
    expect(merge).toBe(`GitHub|Merge pull request #${ours[0]!.number} from acme/${ours[0]!.head}`);
    expect(overlayTags()).toEqual(good);
    expect((await application()).status?.health?.status).toBe('Healthy');
  });
});
