/**
 * Tier: the suite's shared dev Temporal server and shared cluster (a real Kubernetes control plane
 * with kwok nodes and the real Argo CD), plus Prism, in-process. Preview environments end to end:
 * the TodoApp GitOps repository in a real bare repository (a preview template beside production,
 * `main` refusing every push), the app's source repository a bare repository whose branches are
 * the pull requests' heads, GitHub's pull requests on it played by a twin behind Prism (every
 * request validated against GitHub's OpenAPI description), signed `pull_request` deliveries to the
 * real webhook server, and the real gitops, preview, pull-request, Argo CD and control activities.
 * Each test has an app of its own (its own previews workflow and Applications).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AppsV1Api } from '@kubernetes/client-node';
import type { Client } from '@temporalio/client';
import { createArgoActivities, createPreviewApplicationActivities } from '../../activities/argocd/index.js';
import { createControlActivities } from '../../activities/control/index.js';
import { createPullRequestActivities } from '../../activities/github/index.js';
import { createGitopsActivities, createPreviewWriteActivities, isAncestor } from '../../activities/gitops/index.js';
import type { NotifyActivities } from '../../activities/types.js';
import { previewWorkflowId, previewsWorkflowId } from '../../core/ids.js';
import { seedGitopsRepo, type SeededRepo } from '../../infra/examples/seed-repo.js';
import { startPrism, type PrismMock } from '../../infra/github-mock/prism.js';
import { previewStateQuery, previewsStateQuery } from '../../workflows/messages.js';
import { readApplication } from '../support/argocd-fixture.js';
import { runCliFromSource } from '../support/cli-from-source.js';
import { deleteApplications, sharedCluster, type SharedCluster } from '../support/cluster.js';
import { GithubTwin, type TwinPull } from '../support/github-twin.js';
import { asReadyCommit } from '../../infra/cluster/index.js';
import { eventually, uniqueApp } from '../support/pipelines.js';
import { TestPolicy } from '../support/policy.js';
import { startTemporalWebhook } from '../support/temporal-webhook.js';
import { protectMain } from '../support/protected-repo.js';
import { saveHistory, startTestWorker, testClient, workflowExists, type RunningWorker } from '../support/temporal.js';
import { pullRequestPayload, sign } from '../support/webhook-payloads.js';

const SOURCE = 'acme/todoapp';
const TOKEN_VAR = 'SLIPWAY_TEST_PREVIEW_TOKEN';
const SECRET = 'previews-webhook-secret';
const TEMPLATE = '1.2/overlays/preview-template';
const IMAGES = ['todoapp/frontend', 'todoapp/backend', 'todoapp/backend-todos', 'todoapp/broadcaster'];

let dir: string;
let gitops: SeededRepo;
let sourceBare: string;
let sourceWork: string;
let cluster: SharedCluster;
let prism: PrismMock;
let twin: GithubTwin;
let policy: TestPolicy;
let worker: RunningWorker;
let client: Client;
let webhook: Awaited<ReturnType<typeof startTemporalWebhook>>;
let webhookUrl: string;
const applications: string[] = [];

function sh(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'Dev', GIT_AUTHOR_EMAIL: 'dev@example.com', GIT_COMMITTER_NAME: 'Dev', GIT_COMMITTER_EMAIL: 'dev@example.com' } }).trim();
}

function gitops_(...args: string[]): string {
  return execFileSync('git', ['--git-dir', gitops.barePath, ...args], { encoding: 'utf8' }).trim();
}

/** A commit on the source repository's `branch` (the pull request's head): its id, one the cluster runs as a ready build. */
function pushToBranch(branch: string): string {
  sh(sourceWork, 'checkout', '--quiet', '-B', branch, 'main');
  for (;;) {
    sh(sourceWork, 'commit', '--quiet', '--allow-empty', '-m', `work on ${branch} ${Date.now()}`);
    const head = sh(sourceWork, 'rev-parse', 'HEAD');
    // The cluster takes some commit ids for builds that never become ready: make another commit then.
    if (asReadyCommit(head) === head) {
      sh(sourceWork, 'push', '--quiet', '--force', 'origin', `HEAD:refs/heads/${branch}`);
      return head;
    }
  }
}

/** This test's app: taken out of the policy after it, so the next test's pull requests are not its previews too. */
let current: string | undefined;

function addApp(previews: string): string {
  const app = uniqueApp('pv');
  current = app;
  policy.addApp(
    app,
    `  ${app}:
    source: { github: ${SOURCE}, tokenFromEnv: ${TOKEN_VAR} }
    images: [${IMAGES.join(', ')}]
    build: none
    previews: ${previews}
    environments:
      - name: staging
        overlay: 1.2/overlays/staging
        argocd: { application: ${app}-staging }`,
  );
  return app;
}

async function deliver(action: 'opened' | 'synchronize' | 'closed', pull: TwinPull): Promise<number> {
  const body = JSON.stringify(pullRequestPayload(action, { number: pull.number, head: pull.head, repo: SOURCE, merged: pull.merged }));
  const response = await fetch(webhookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-github-delivery': `p-${pull.number}-${action}-${Date.now()}`, 'x-hub-signature-256': await sign(SECRET, body) },
    body,
  });
  await response.text();
  return response.status;
}

function previewState(app: string, number: number) {
  return client.workflow.getHandle(previewWorkflowId(app, number)).query(previewStateQuery);
}

async function deployedImages(namespace: string): Promise<Record<string, string>> {
  const list = await cluster.kubeConfig.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace });
  return Object.fromEntries(list.items.map((d) => [d.metadata!.name!, d.spec!.template.spec!.containers[0]!.image!]));
}

async function applicationGone(name: string): Promise<boolean> {
  try {
    await readApplication(cluster.kubeConfig, 'argocd', name);
    return false;
  } catch {
    return true;
  }
}

const commentsOn = (number: number) => twin.comments.filter((c) => c.issue === number);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'slipway-previews-'));
  cluster = sharedCluster();
  // The GitOps repository with a preview template (production's overlay, copied) on main, then protected.
  gitops = await seedGitopsRepo(dir, { deployment: { progressDeadlineSeconds: 30 } });
  const work = join(dir, 'gitops-work');
  sh(dir, 'clone', '--quiet', gitops.barePath, work);
  cpSync(join(work, '1.2/overlays/production'), join(work, TEMPLATE), { recursive: true });
  sh(work, 'add', '-A');
  sh(work, 'commit', '--quiet', '-m', 'preview template');
  sh(work, 'push', '--quiet', 'origin', 'HEAD:main');
  protectMain(gitops.barePath);

  // The app's source repository: a bare repository whose branches are the pull requests' heads.
  sourceBare = join(dir, 'source.git');
  sh(dir, 'init', '--quiet', '--bare', '--initial-branch', 'main', sourceBare);
  sourceWork = join(dir, 'source-work');
  sh(dir, 'clone', '--quiet', sourceBare, sourceWork);
  sh(sourceWork, 'commit', '--quiet', '--allow-empty', '-m', 'initial');
  sh(sourceWork, 'push', '--quiet', 'origin', 'HEAD:main');

  prism = await startPrism({ logFile: join(process.cwd(), 'test-output', 'prism-previews.log') });
  twin = new GithubTwin(prism, sourceBare, SOURCE);
  await twin.start();
  process.env[TOKEN_VAR] = 'ghp_previewTestToken0123456789abcdef';

  policy = new TestPolicy(`gitops: { url: "${gitops.bareUrl}", branch: main }
engine: { heartbeatTimeout: 5s, stepTimeout: 20s }`);
  // A worker starts only with a policy that holds an app.
  policy.addApp('placeholder', `  placeholder:\n    images: [todoapp/frontend]\n    build: none\n    environments:\n      - name: staging\n        overlay: 1.2/overlays/staging\n        argocd: { application: placeholder-staging }`);
  const notify: NotifyActivities = { notify: async (input) => ({ delivered: input.channels.length, failed: 0 }) };
  worker = await startTestWorker(
    {
      ...createGitopsActivities(),
      ...createPreviewWriteActivities(),
      ...createPullRequestActivities({ baseUrl: twin.url }),
      ...createArgoActivities({ kubeConfig: cluster.kubeConfig, isAncestor }),
      ...createPreviewApplicationActivities({ kubeConfig: cluster.kubeConfig }),
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
  if (cluster) await deleteApplications(cluster.kubeConfig, applications);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  if (current) policy.removeApp(current);
  current = undefined;
  const refused = twin.requestViolations();
  prism.clear();
  expect(refused.map((r) => `${r.method} ${r.path}: ${r.violation}`)).toEqual([]);
});

describe('preview environments for pull requests', () => {
  it('is created when the pull request opens, updated on a push, and deleted when it closes; one comment on the pull request throughout', async () => {
    const app = addApp(`{ template: ${TEMPLATE}, url: "https://{name}.preview.todo.example", argocd: { timeout: 90s } }`);
    const application = `${app}-pr-1`;
    applications.push(application);
    const first = pushToBranch(`feature-${app}`);
    const pull = twin.open(`feature-${app}`);
    expect(await deliver('opened', pull)).toBe(202);

    await eventually(() => previewState(app, pull.number), (s) => s.phase === 'up' && s.head === first, 120_000);
    const argo = await readApplication(cluster.kubeConfig, 'argocd', application);
    expect(argo.spec.source?.targetRevision).toBe('slipway/previews');
    expect(argo.spec.source?.path).toBe(`1.2/overlays/previews/${application}`);
    expect(argo.status?.health?.status).toBe('Healthy');
    expect((await deployedImages(application)).frontend).toBe(`todoapp/frontend:${first}`);
    expect(gitops_('ls-tree', '--name-only', 'slipway/previews', '1.2/overlays/previews/')).toContain(`1.2/overlays/previews/${application}`);
    expect(commentsOn(pull.number)).toHaveLength(1);
    expect(commentsOn(pull.number)[0]!.body).toContain(`is up at https://pr-${pull.number}.preview.todo.example`);

    const second = pushToBranch(`feature-${app}`);
    expect(await deliver('synchronize', pull)).toBe(202);
    await eventually(() => previewState(app, pull.number), (s) => s.phase === 'up' && s.head === second, 120_000);
    expect((await deployedImages(application)).frontend).toBe(`todoapp/frontend:${second}`);
    // The same comment, edited: not a new one per push.
    expect(commentsOn(pull.number)).toHaveLength(1);
    expect(commentsOn(pull.number)[0]!.body).toContain(`Preview** of ${second.slice(0, 7)} is up`);

    twin.close(pull.number, 'dev');
    expect(await deliver('closed', twin.pull(pull.number))).toBe(202);
    const result = await client.workflow.getHandle(previewWorkflowId(app, pull.number)).result();
    expect(result.reason).toMatch(new RegExp(`#${pull.number} was closed$`));
    await eventually(() => applicationGone(application), (gone) => gone, 60_000);
    expect(gitops_('ls-tree', '--name-only', 'slipway/previews', '1.2/overlays/previews/')).not.toContain(`1.2/overlays/previews/${application}`);
    expect(commentsOn(pull.number)).toHaveLength(1);
    expect(commentsOn(pull.number)[0]!.body).toContain(`\`${application}\` was removed: #${pull.number} was closed`);
    // main was never written to.
    expect(gitops_('log', '-1', '--format=%s', 'main')).toBe('preview template');
    await saveHistory(client, 'preview-opened-pushed-closed', previewWorkflowId(app, pull.number));
  });

  it('a close whose delivery was lost is cleaned up by the time to live', async () => {
    const app = addApp(`{ template: ${TEMPLATE}, ttl: 8s, check: 1h, argocd: { timeout: 90s } }`);
    const application = `${app}-pr-${twin.pulls.length + 1}`;
    applications.push(application);
    pushToBranch(`feature-${app}`);
    const pull = twin.open(`feature-${app}`);
    await deliver('opened', pull);
    await eventually(() => previewState(app, pull.number), (s) => s.phase === 'up', 120_000);
    twin.close(pull.number, 'dev'); // and GitHub's delivery never arrives
    const result = await client.workflow.getHandle(previewWorkflowId(app, pull.number)).result();
    expect(result.reason).toMatch(/no push for 8s|was closed/);
    await eventually(() => applicationGone(application), (gone) => gone, 60_000);
  });

  it('the maximum holds: at max 1, the preview idle longest is removed to make room for the new one', async () => {
    const app = addApp(`{ template: ${TEMPLATE}, max: 1, argocd: { timeout: 90s } }`);
    pushToBranch(`feature-a-${app}`);
    const older = twin.open(`feature-a-${app}`);
    applications.push(`${app}-pr-${older.number}`);
    await deliver('opened', older);
    await eventually(() => previewState(app, older.number), (s) => s.phase === 'up', 120_000);

    pushToBranch(`feature-b-${app}`);
    const newer = twin.open(`feature-b-${app}`);
    applications.push(`${app}-pr-${newer.number}`);
    await deliver('opened', newer);
    const ended = await client.workflow.getHandle(previewWorkflowId(app, older.number)).result();
    expect(ended.reason).toContain(`removed to make room for #${newer.number}`);
    await eventually(() => applicationGone(`${app}-pr-${older.number}`), (gone) => gone, 60_000);
    await eventually(() => previewState(app, newer.number), (s) => s.phase === 'up', 120_000);
    const board = await client.workflow.getHandle(previewsWorkflowId(app)).query(previewsStateQuery);
    expect(board.active.map((a) => a.number)).toEqual([newer.number]);
    expect(commentsOn(older.number)).toHaveLength(1);
    expect(commentsOn(older.number)[0]!.body).toContain('removed to make room');
    expect(await workflowExists(client, previewWorkflowId(app, newer.number))).toBe(true);
    await saveHistory(client, 'preview-removed-to-make-room', previewWorkflowId(app, older.number));
    await saveHistory(client, 'previews-at-maximum', previewsWorkflowId(app));

    // The CLI lists it, and deletes it on request, saying who did.
    const vars = { SLIPWAY_TASK_QUEUE: worker.taskQueue, SLIPWAY_USER: 'operator' };
    const listed = await runCliFromSource(['previews', 'list', app, '--json'], vars);
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as Array<{ number: number; phase: string; name: string }>).map((p) => [p.number, p.phase, p.name])).toEqual([[newer.number, 'up', `pr-${newer.number}`]]);
    const deleted = await runCliFromSource(['previews', 'delete', app, String(newer.number)], vars);
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toContain(`removing the preview of ${app} #${newer.number}`);
    const gone = await client.workflow.getHandle(previewWorkflowId(app, newer.number)).result();
    expect(gone.reason).toContain('removed by operator (slipway previews delete)');
    expect(commentsOn(newer.number)[0]!.body).toContain('removed by operator');
    const none = await runCliFromSource(['previews', 'delete', app, String(newer.number)], vars);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`${app} #${newer.number} has no preview running`);
  });
});
