/**
 * The GitHub webhook on a real port, starting releases and relaying approvals on the suite's real
 * Temporal dev server. The webhook holds no copy of the policy: it asks the worker on its task
 * queue, which reads its own slipway.yaml (a real file, through the real PolicyStore). GitHub's API
 * is Prism serving GitHub's OpenAPI description (pull requests, reactions, replies — and the
 * worker's own check of an approval comment). Deliveries are GitHub's own example payloads,
 * signed as GitHub signs them. Each app has a repository of its own, so one test's releases never
 * wait in another's environment queue.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fetchPolicy, PolicyUnavailableError } from '../../client/policy.js';
import { sendDecisionViaTemporal, type DecisionTarget, type SendDecision } from '../../client/webhook/approval-relay.js';
import { createGithubClient } from '../../client/webhook/github.js';
import { createWebhookServer, type WebhookServerOptions } from '../../client/webhook/server.js';
import { createdTagViaTemporal, startReleaseViaTemporal } from '../../client/webhook/start-release.js';
import { environmentWorkflowId, releaseWorkflowId, tagReleaseWorkflowId } from '../../core/ids.js';
import { imagesForCommit } from '../../core/images.js';
import { githubOpenApiSpec, startPrism, type PrismMock } from '../../infra/github-mock/prism.js';
import { freePort } from '../../infra/ports.js';
import { environmentStateQuery, releaseStatusQuery } from '../../workflows/messages.js';
import type { release } from '../../workflows/release.js';
import type { ApprovalDecision, ReleaseInput } from '../../workflows/types.js';
import { FakeWorld } from '../support/fake-world.js';
import { commitSha, eventually } from '../support/pipelines.js';
import { TestPolicy } from '../support/policy.js';
import { startTestWorker, testClient, type RunningWorker, workflowExists } from '../support/temporal.js';
import {
  branchDeletePayload,
  branchPushPayload,
  commitCommentPayload,
  forkPushPayload,
  issueCommentPayload,
  sign,
  tagDeletePayload,
  tagPushPayload,
} from '../support/webhook-payloads.js';

const SECRET = `whsec-${randomUUID()}`;
const GITHUB_TOKEN = `ghp_webhookTest${randomUUID().replace(/-/g, '')}`;
/** The head commit of pull request #1347 in GitHub's description (what Prism answers for any pull request). */
const PR_HEAD = '6dcb09b5b57875f334f61aebed695e2e4193db5e';
const OLD = 'old0000000000000000000000000000000000000';
/** The commit GitHub's example tag push tags (`head_commit.id`). */
const EXAMPLE_COMMIT = '6113728f27ae82c7b1a177c8d03f9e96e0adf246';

/** The apps' images, each app in a repository of its own (besides hello-api, which shares hello's). */
const APPS: Record<string, { images: string[]; environments: string[] }> = {
  hello: { images: ['hello/web'], environments: ['staging', 'production'] },
  'hello-api': { images: ['hello/api'], environments: ['production'] },
  shop: { images: ['shop/web'], environments: ['staging', 'production'] },
  tagger: { images: ['tagger/web'], environments: ['staging', 'production'] },
  gated: { images: ['gated/web'], environments: ['staging', 'production'] },
  retag: { images: ['retag/web'], environments: ['staging', 'production'] },
};

/**
 * The worker's slipway.yaml. `hello` is built from GitHub's example repository and released by
 * tags (`helloTag`: its tag rules); `shop` deploys pushes to main into staging; `tagger` does too,
 * and tags its release before staging; `gated` waits in production for an approval by Codertocat
 * (a listed approver: GitHub's example of a collaborator's permission breaks GitHub's schema too,
 * so Prism cannot answer that question); `retag` is released by tags, with no gate, to show what a
 * re-created and a replayed tag do.
 */
function policyText(options: { extraApps?: string; helloTag?: string } = {}): string {
  return `
gitops: { url: /tmp/gitops.git, branch: main }
engine: { heartbeatTimeout: 2s, stepTimeout: 20s }
apps:
  hello:
    source: { github: Codertocat/Hello-World }
    images: [hello/web]
${options.helloTag ? `    tag: ${options.helloTag}\n` : ''}    environments:
      - { name: staging, overlay: hello/staging, argocd: { application: hello-staging } }
      - name: production
        overlay: hello/production
        argocd: { application: hello-production }
        approval: { required: true, timeout: 1h }
  shop:
    source: { github: Codertocat/Shop }
    images: [shop/web]
    build: { command: make images }
    triggers: { push: [ { branch: main, to: staging } ] }
    environments:
      - name: staging
        overlay: shop/staging
        argocd: { application: shop-staging }
        checks: [ { soak: 1s } ]
      - { name: production, overlay: shop/production, argocd: { application: shop-production } }
  tagger:
    source: { github: Codertocat/Tagger }
    images: [tagger/web]
    tag: { before: staging }
    triggers: { push: [ { branch: main, to: staging } ] }
    environments:
      - { name: staging, overlay: tagger/staging, argocd: { application: tagger-staging } }
      - { name: production, overlay: tagger/production, argocd: { application: tagger-production } }
  gated:
    source: { github: Codertocat/Approvals }
    images: [gated/web]
    environments:
      - { name: staging, overlay: gated/staging, argocd: { application: gated-staging } }
      - name: production
        overlay: gated/production
        argocd: { application: gated-production }
        approval: { required: true, timeout: 1h, approvers: { users: [Codertocat] } }
  retag:
    source: { github: Codertocat/Retag }
    images: [retag/web]
    environments:
      - { name: staging, overlay: retag/staging, argocd: { application: retag-staging } }
      - { name: production, overlay: retag/production, argocd: { application: retag-production } }
${options.extraApps ?? ''}`;
}

/** A second app in hello's repository, released from tags of its own. */
const API_APP = `
  hello-api:
    source: { github: Codertocat/Hello-World }
    images: [hello/api]
    tag: { format: 'api-v{version}', pattern: 'api-v*.*.*' }
    environments:
      - name: production
        overlay: hello-api/production
        argocd: { application: hello-api-production }
        approval: { required: true, timeout: 1h }
`;

interface GithubFront {
  url: string;
  /** The pull requests read through the front (`GET /repos/o/r/pulls/n`). */
  pulls: string[];
  stop(): Promise<void>;
}

/**
 * GitHub's API for this suite: Prism, behind a front for the one operation Prism cannot serve.
 * The description's example pull request lists a requested team without the `type` its own schema
 * requires, so Prism (which validates its answers) fails every `GET /repos/{o}/{r}/pulls/{n}`. The
 * front answers it with that same example, `type` added; everything else goes to Prism.
 */
async function startGithubFront(prismUrl: string): Promise<GithubFront> {
  const description = JSON.parse(readFileSync(githubOpenApiSpec(), 'utf8')) as { components: { examples: Record<string, { value: any }> } };
  const pull = structuredClone(description.components.examples['pull-request']!.value);
  pull.requested_teams = pull.requested_teams.map((team: object) => ({ type: 'team', ...team }));
  const pulls: string[] = [];
  const front = createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? '/', 'http://front').pathname;
      if (req.method === 'GET' && /^\/repos\/[^/]+\/[^/]+\/pulls\/\d+$/.test(path)) {
        pulls.push(path);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(pull));
        return;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const headers = Object.fromEntries(
        ['accept', 'authorization', 'content-type', 'user-agent'].flatMap((h) => (typeof req.headers[h] === 'string' ? [[h, req.headers[h] as string]] : [])),
      );
      const upstream = await fetch(`${prismUrl}${req.url}`, { method: req.method, headers, ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}) });
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
      res.end(Buffer.from(await upstream.arrayBuffer()));
    })().catch((err: Error) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`front to Prism failed: ${err.message}`);
    });
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(front.address() as { port: number }).port}`,
    pulls,
    stop: () => {
      front.closeAllConnections();
      return new Promise((resolve) => front.close(() => resolve()));
    },
  };
}

/** Every app's overlays hold an old build before the tests. */
function newWorld(): FakeWorld {
  const world = new FakeWorld(mkdtempSync(join(tmpdir(), 'slipway-webhook-world-')));
  const initial: Record<string, ReturnType<typeof imagesForCommit>> = {};
  const applications: Record<string, string> = {};
  for (const [app, { images, environments }] of Object.entries(APPS)) {
    for (const env of environments) {
      initial[`${app}/${env}`] = imagesForCommit(images, OLD);
      applications[`${app}-${env}`] = `${app}/${env}`;
    }
  }
  world.setRules({ initial, applications });
  return world;
}

let client: Client;
let worker: RunningWorker;
let world: FakeWorld;
let policy: TestPolicy;
let prism: PrismMock;
let github: GithubFront;
let server: Server;
let base: string;
const logLines: string[] = [];
const started: string[] = [];
/** Every decision the webhook relayed, and what the environment workflow answered. */
const relayed: Array<{ to: Parameters<SendDecision>[0]; decision: ApprovalDecision; outcome: Awaited<ReturnType<SendDecision>> }> = [];
const savedEnv = { GITHUB_API_URL: process.env.GITHUB_API_URL, GITHUB_TOKEN: process.env.GITHUB_TOKEN, SLIPWAY_WEBHOOK_SECRET: process.env.SLIPWAY_WEBHOOK_SECRET };

beforeAll(async () => {
  client = await testClient();
  prism = await startPrism({ logFile: join(process.cwd(), 'test-output', 'prism-webhook.log') });
  github = await startGithubFront(prism.url);
  // The worker checks approval comments on GitHub with the delivery's signature under its own copy of the secret.
  Object.assign(process.env, { GITHUB_API_URL: github.url, GITHUB_TOKEN, SLIPWAY_WEBHOOK_SECRET: SECRET });
  policy = TestPolicy.fromText(policyText());
  world = newWorld();
  worker = await startTestWorker(world.activities(), undefined, policy.store);
  const startRelease = startReleaseViaTemporal(client, worker.taskQueue);
  const sendDecision = sendDecisionViaTemporal(client);
  server = createWebhookServer({
    secret: SECRET,
    policy: () => fetchPolicy(client, worker.taskQueue),
    maxBodyBytes: 64 * 1024,
    log: (line) => logLines.push(line),
    startRelease: async (release) => {
      const result = await startRelease(release);
      started.push(result.workflowId);
      return result;
    },
    createdTag: createdTagViaTemporal(client),
    sendDecision: async (to, decision) => {
      const outcome = await sendDecision(to, decision);
      relayed.push({ to, decision, outcome });
      return outcome;
    },
    github: createGithubClient({ token: GITHUB_TOKEN, baseUrl: github.url }),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  for (const id of new Set(started)) await client.workflow.getHandle(id).terminate('test cleanup').catch(() => undefined);
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await worker?.stop();
  await client?.connection.close();
  await github?.stop();
  await prism?.stop();
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

afterEach(() => {
  const violations = prism.violations().map((r) => `${r.method} ${r.path}: ${r.violation}`);
  prism.clear();
  prism.setPrefer(undefined);
  github.pulls.length = 0;
  // Whatever a test did, every GitHub request must have been valid for GitHub's schema.
  expect(violations).toEqual([]);
});

let lastMinor = 0;
/**
 * A fresh tag per test, so workflow ids never collide with another test (or another run), and
 * higher than every tag before it: an environment takes no pushed tag below the newest version
 * that completed there.
 */
const freshTag = () => `v1.${(lastMinor = Math.max(lastMinor + 1, Date.now()))}.0`;

async function deliver(body: string, headers: Record<string, string>): Promise<{ status: number; json: any }> {
  return deliverTo(base, body, headers);
}

async function deliverTo(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; json: any }> {
  const response = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  return { status: response.status, json: await response.json() };
}

async function signedDelivery(payload: unknown, event = 'push', to = base) {
  const body = JSON.stringify(payload);
  return deliverTo(to, body, { 'x-github-event': event, 'x-github-delivery': randomUUID(), 'x-hub-signature-256': await sign(SECRET, body) });
}

/** The payload as if it came from another repository (each app has its own). */
function inRepo<T extends Record<string, unknown>>(payload: T, fullName: string): T {
  return { ...payload, repository: { ...(payload.repository as object), full_name: fullName } };
}

const exists = (workflowId: string) => workflowExists(client, workflowId);

async function startInput(workflowId: string): Promise<ReleaseInput> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const payload = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
  return defaultPayloadConverter.fromPayload<ReleaseInput>(payload);
}

/** A second webhook server on the same secret, for what the suite's server cannot show. */
async function withServer(options: Partial<WebhookServerOptions>, run: (url: string) => Promise<void>): Promise<void> {
  const other = createWebhookServer({
    secret: SECRET,
    policy: () => fetchPolicy(client, worker.taskQueue),
    log: (line) => logLines.push(line),
    startRelease: async () => {
      throw new Error('this server starts no release');
    },
    createdTag: async () => undefined,
    sendDecision: async () => {
      throw new Error('this server sends no decision');
    },
    ...options,
  });
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  try {
    await run(`http://127.0.0.1:${(other.address() as { port: number }).port}`);
  } finally {
    other.closeAllConnections();
    await new Promise((resolve) => other.close(resolve));
  }
}

describe('webhook: tag pushes and the basics', () => {
  it('answers /healthz', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('starts the production promotion of a pushed tag, as one release workflow that names the app and carries no pipeline', async () => {
    const tag = freshTag();
    const { status, json } = await signedDelivery(tagPushPayload(tag));
    expect(status).toBe(202);
    const workflowId = tagReleaseWorkflowId('hello', tag, EXAMPLE_COMMIT);
    expect(json).toMatchObject({ started: true, releases: [{ app: 'hello', tag, workflowId, started: true }] });

    const handle = client.workflow.getHandle(workflowId);
    const description = await handle.describe();
    expect(description.type).toBe('release');
    expect(description.status.name).toBe('RUNNING');
    const input = await startInput(workflowId);
    expect(input).toMatchObject({
      app: 'hello',
      commit: EXAMPLE_COMMIT,
      version: tag.slice(1),
      startAt: 'production',
      skipBuild: true,
      skipTag: true,
      trigger: `webhook:tag ${tag} by Codertocat`,
      requestedBy: 'Codertocat',
    });
    expect(input.pipeline, 'the worker reads the pipeline from its own policy').toBeUndefined();
    expect(JSON.stringify(input)).not.toContain('/tmp/gitops.git');

    // The worker ran it under its own policy: production's approval gate holds it.
    const progress = await eventually(
      () => handle.query(releaseStatusQuery),
      (s) => s.environments.some((e) => e.environment === 'production' && e.phase === 'awaiting-approval'),
      30_000,
    );
    expect(progress.policy?.source).toBe(policy.file);
  });

  it('follows the worker’s policy file as it changes, without a restart of the webhook', async () => {
    const tag = `api-v2.${Math.floor(Math.random() * 1e6)}.0`;
    const before = await signedDelivery(tagPushPayload(tag));
    expect(before.status).toBe(202);
    expect(before.json.ignored).toContain('matches no app');
    expect(await exists(tagReleaseWorkflowId('hello-api', tag, EXAMPLE_COMMIT))).toBe(false);

    policy.write(policyText({ extraApps: API_APP }));
    try {
      const after = await signedDelivery(tagPushPayload(tag));
      expect(after.status).toBe(202);
      expect(after.json).toMatchObject({ started: true, releases: [{ app: 'hello-api', tag, started: true }] });
      const description = await client.workflow.getHandle(tagReleaseWorkflowId('hello-api', tag, EXAMPLE_COMMIT)).describe();
      expect(description.status.name).toBe('RUNNING');
    } finally {
      policy.write(policyText());
    }
  });

  it('answers 503 and starts nothing when no worker tells it the policy', async () => {
    const tag = freshTag();
    await withServer(
      {
        policy: () => Promise.reject(new PolicyUnavailableError('no worker on task queue "nobody"')),
        startRelease: async () => {
          throw new Error('must not start a release without the policy');
        },
      },
      async (url) => {
        const { status, json } = await signedDelivery(tagPushPayload(tag), 'push', url);
        expect(status).toBe(503);
        expect(json.error).toContain('policy');
      },
    );
    expect(await exists(tagReleaseWorkflowId('hello', tag, EXAMPLE_COMMIT))).toBe(false);
  });

  it('starts one workflow for the same delivery sent 20 times at once', async () => {
    const tag = freshTag();
    const body = JSON.stringify(tagPushPayload(tag));
    const headers = { 'x-github-event': 'push', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': await sign(SECRET, body) };
    const answers = await Promise.all(Array.from({ length: 20 }, () => deliver(body, headers)));
    expect(answers.filter((a) => a.json.started === true)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 202)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 200 && a.json.started === false)).toHaveLength(19);

    const workflowId = tagReleaseWorkflowId('hello', tag, EXAMPLE_COMMIT);
    const runs = [];
    for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(wf);
    // Visibility may lag; the describe below is authoritative for existence, the list for "only one run".
    expect(runs.length).toBeLessThanOrEqual(1);
    expect(await exists(workflowId)).toBe(true);
  });

  it('rejects a bad signature with 401 and starts nothing', async () => {
    const tag = freshTag();
    const body = JSON.stringify(tagPushPayload(tag));
    const forged = await deliver(body, { 'x-github-event': 'push', 'x-hub-signature-256': await sign('not-the-secret', body) });
    const unsigned = await deliver(body, { 'x-github-event': 'push' });
    expect([forged.status, unsigned.status]).toEqual([401, 401]);
    expect(await exists(tagReleaseWorkflowId('hello', tag, EXAMPLE_COMMIT))).toBe(false);
  });

  it('answers 202 to a push to a branch without a trigger and starts nothing', async () => {
    const before = started.length;
    const { status, json } = await signedDelivery(branchPushPayload());
    expect(status).toBe(202);
    expect(json.ignored).toBe('no push trigger for branch master (apps of Codertocat/Hello-World: hello)');
    expect(started.length).toBe(before);
  });

  it('answers 202 to other events', async () => {
    const { status } = await signedDelivery({ zen: 'Keep it logically awesome.' }, 'issues');
    expect(status).toBe(202);
  });

  it('answers 400 to a malformed body with a valid signature', async () => {
    const body = '{"ref": "refs/tags/v1.0.0", ';
    const { status } = await deliver(body, { 'x-github-event': 'push', 'x-hub-signature-256': await sign(SECRET, body) });
    expect(status).toBe(400);
    const missing = await signedDelivery({ ref: 'refs/tags/v1.0.0' });
    expect(missing.status).toBe(400);
  });

  it('answers 413 to a body over the limit, streamed without a length, and stops reading', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${base}/`, { method: 'POST', headers: { 'x-github-event': 'push', 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', (err) => (String(err).includes('ECONNRESET') || String(err).includes('EPIPE') ? undefined : reject(err)));
      const chunk = Buffer.alloc(16 * 1024, 'a');
      let sent = 0;
      // Keep sending well past the limit: the server must answer without waiting for the end.
      const pump = () => {
        while (sent < 1024 * 1024 && req.write(chunk)) sent += chunk.length;
        if (sent < 1024 * 1024) req.once('drain', () => { sent += chunk.length; pump(); });
      };
      pump();
    });
    expect(status).toBe(413);
  });

  it('answers 413 to a declared length over the limit', async () => {
    const body = JSON.stringify({ ...tagPushPayload(freshTag()), padding: 'x'.repeat(100 * 1024) });
    const { status } = await deliver(body, { 'x-github-event': 'push', 'x-hub-signature-256': await sign(SECRET, body) });
    expect(status).toBe(413);
  });

});

describe('webhook: pushes to a branch', () => {
  const shopPush = (commit: string, branch = 'main') => inRepo(branchPushPayload({ branch, commit }), 'Codertocat/Shop');

  it('builds a commit pushed to main and deploys it to staging with its checks, and stops there', async () => {
    const commit = commitSha();
    const { status, json } = await signedDelivery(shopPush(commit));
    expect(status).toBe(202);
    const workflowId = releaseWorkflowId('shop', commit);
    expect(json).toMatchObject({ started: true, releases: [{ app: 'shop', branch: 'main', commit, workflowId, started: true }] });
    expect(await startInput(workflowId)).toEqual({ app: 'shop', commit, startAt: 'staging', only: true, trigger: 'webhook:push main by Codertocat', requestedBy: 'Codertocat' });

    const result = await client.workflow.getHandle<typeof release>(workflowId).result();
    expect(result).toMatchObject({ outcome: 'released', environments: { staging: { phase: 'promoted' }, production: { phase: 'skipped' } } });
    const progress = await client.workflow.getHandle(workflowId).query(releaseStatusQuery);
    expect(progress.steps.map((s) => [s.name, s.state])).toEqual([['build', 'done'], ['staging', 'done']]);
    // Built once, in staging, and production untouched.
    expect(world.effects().filter((e) => e.type === 'build' && e.commit === commit)).toHaveLength(1);
    expect(world.overlayImages('shop/staging')).toEqual(imagesForCommit(['shop/web'], commit));
    expect(world.overlayImages('shop/production')).toEqual(imagesForCommit(['shop/web'], OLD));
    expect(world.commits('shop/production')).toEqual([]);
  });

  it('lets a burst of pushes to main supersede in staging: the newest waiting build replaces an older waiting one', async () => {
    world.updateRules({ healthDelayMs: 1500 });
    try {
      const [a, b, c] = [commitSha(), commitSha(), commitSha()];
      const [first, second, third] = [a, b, c].map((commit) => client.workflow.getHandle<typeof release>(releaseWorkflowId('shop', commit)));
      expect((await signedDelivery(shopPush(a))).status).toBe(202);
      await eventually(() => first!.query(releaseStatusQuery), (s) => ['deploying', 'waiting-health'].includes(s.environments[0]!.phase));
      expect((await signedDelivery(shopPush(b))).status).toBe(202);
      await eventually(() => client.workflow.getHandle(environmentWorkflowId('shop', 'staging')).query(environmentStateQuery), (e) => e.waiting?.commit === b);
      expect((await signedDelivery(shopPush(c))).status).toBe(202);
      const [r1, r2, r3] = await Promise.all([first!.result(), second!.result(), third!.result()]);
      expect([r1.outcome, r2.outcome, r3.outcome]).toEqual(['released', 'superseded', 'released']);
      expect(r2.supersededBy).toBe(third!.workflowId);
      expect(world.overlayImages('shop/staging')).toEqual(imagesForCommit(['shop/web'], c));
    } finally {
      world.updateRules({ healthDelayMs: 0 });
    }
  });

  const shopTag = (tag: string, commit: string) => inRepo(tagPushPayload(tag, { after: commit, head_commit: { id: commit } }), 'Codertocat/Shop');
  const shopCommits = (env: string, commit: string) => world.commits(`shop/${env}`).filter((c) => c.context.sourceCommit === commit && c.context.kind === 'promote');

  it('takes a pushed tag of a commit that passed staging after its push straight to production', async () => {
    const commit = commitSha();
    expect((await signedDelivery(shopPush(commit))).status).toBe(202);
    await client.workflow.getHandle<typeof release>(releaseWorkflowId('shop', commit)).result();
    const tag = freshTag();
    expect((await signedDelivery(shopTag(tag, commit))).status).toBe(202);
    const result = await client.workflow.getHandle<typeof release>(tagReleaseWorkflowId('shop', tag, commit)).result();
    expect(result).toMatchObject({ outcome: 'released', environments: { staging: { phase: 'skipped' }, production: { phase: 'promoted' } } });
    expect(shopCommits('staging', commit)).toHaveLength(1);
    expect(shopCommits('production', commit)).toHaveLength(1);
  });

  it('lets a tag pushed while its commit is still in staging wait for that staging run, then go to production', async () => {
    world.updateRules({ healthDelayMs: 1500 });
    try {
      const commit = commitSha();
      const pushed = client.workflow.getHandle<typeof release>(releaseWorkflowId('shop', commit));
      expect((await signedDelivery(shopPush(commit))).status).toBe(202);
      await eventually(() => pushed.query(releaseStatusQuery), (st) => ['deploying', 'waiting-health'].includes(st.environments[0]!.phase));
      const tag = freshTag();
      expect((await signedDelivery(shopTag(tag, commit))).status).toBe(202);
      const tagged = await client.workflow.getHandle<typeof release>(tagReleaseWorkflowId('shop', tag, commit)).result();
      expect(tagged).toMatchObject({ outcome: 'released', environments: { staging: { phase: 'promoted' }, production: { phase: 'promoted' } } });
      expect((await pushed.result()).outcome).toBe('released');
      // One staging promotion served both: the tag release joined the push release's request.
      expect(shopCommits('staging', commit)).toHaveLength(1);
      expect(shopCommits('production', commit)).toHaveLength(1);
    } finally {
      world.updateRules({ healthDelayMs: 0 });
    }
  });

  it.each([
    ['a push that deletes main', () => inRepo(branchDeletePayload('main'), 'Codertocat/Shop'), 'branch deleted: main'],
    ['a push to main of a fork', (commit: string) => forkPushPayload('main', commit, 'forker/Shop'), 'push to a fork: forker/Shop'],
    ['a push to a branch without a trigger', (commit: string) => shopPush(commit, 'feature/x'), 'no push trigger for branch feature/x (apps of Codertocat/Shop: shop)'],
  ])('ignores %s with its reason and starts nothing', async (_what, payload, reason) => {
    const commit = commitSha();
    const before = started.length;
    const { status, json } = await signedDelivery(payload(commit));
    expect(status).toBe(202);
    expect(json).toEqual({ ignored: reason });
    expect(started.length).toBe(before);
    expect(await exists(releaseWorkflowId('shop', commit))).toBe(false);
  });
});

describe('webhook: tags as versions', () => {
  it.each([
    ['vX.Y.Z', 'tag vX.Y.Z is not a version under "v{version}"'],
    ['v-1.2.3', 'tag v-1.2.3 is not a version under "v{version}"'],
    ['v1.2', "tag v1.2 matches no app's tag pattern"],
    ['v1.2.3-rc.1', "tag v1.2.3-rc.1 is a prerelease, and hello's policy takes none (tag.prereleases is false)"],
  ])('ignores the tag %s, saying why, and starts nothing', async (tag, reason) => {
    const before = started.length;
    const { status, json } = await signedDelivery(tagPushPayload(tag));
    expect(status).toBe(202);
    expect(json.ignored).toContain(reason);
    expect(started.length).toBe(before);
    expect(await exists(tagReleaseWorkflowId('hello', tag, EXAMPLE_COMMIT))).toBe(false);
  });

  it('starts a prerelease once the policy takes prereleases', async () => {
    const tag = `${freshTag()}-rc.1`;
    expect((await signedDelivery(tagPushPayload(tag))).json.ignored).toContain('is a prerelease');
    policy.write(policyText({ helloTag: '{ prereleases: true }' }));
    try {
      const { status, json } = await signedDelivery(tagPushPayload(tag));
      expect(status).toBe(202);
      expect(json).toMatchObject({ started: true, releases: [{ app: 'hello', tag, started: true }] });
      expect(await startInput(tagReleaseWorkflowId('hello', tag, EXAMPLE_COMMIT))).toMatchObject({ version: tag.slice(1), startAt: 'production' });
    } finally {
      policy.write(policyText());
    }
  });
});

describe('webhook: a tag pushed again, and a delivery replayed', () => {
  const retagTag = (tag: string, commit: string) => inRepo(tagPushPayload(tag, { after: commit, head_commit: { id: commit } }), 'Codertocat/Retag');
  const productionCommits = () => world.commits('retag/production').filter((c) => c.context.kind === 'promote').map((c) => c.context.sourceCommit);

  /** Delivers a signed body, keeping what GitHub sends again when it redelivers it (the same body, signature and delivery id). */
  async function deliverKept(payload: unknown) {
    const body = JSON.stringify(payload);
    const headers = { 'x-github-event': 'push', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': await sign(SECRET, body) };
    return { first: await deliver(body, headers), again: () => deliver(body, headers) };
  }

  /**
   * What Temporal's retention does to a closed release: its execution is gone, as if never
   * started. The server deletes asynchronously, and a busy dev server can drop the request: asked
   * again until it is gone.
   */
  async function forget(workflowId: string): Promise<void> {
    const deadline = Date.now() + 90_000;
    while (await exists(workflowId)) {
      if (Date.now() > deadline) throw new Error(`${workflowId} still there 90 s after asking Temporal to delete it`);
      await client.workflowService.deleteWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId } }).catch(() => undefined);
      await eventually(() => exists(workflowId), (there) => !there, 3_000).catch(() => undefined);
    }
  }

  it('starts a new release for a tag deleted and pushed again on another commit, and deploys that commit', async () => {
    const tag = freshTag();
    const [a, b] = [commitSha(), commitSha()];
    const first = await signedDelivery(retagTag(tag, a));
    expect(first.json).toMatchObject({ started: true, releases: [{ app: 'retag', tag, workflowId: tagReleaseWorkflowId('retag', tag, a), started: true }] });
    expect((await client.workflow.getHandle<typeof release>(tagReleaseWorkflowId('retag', tag, a)).result()).outcome).toBe('released');

    expect((await signedDelivery(inRepo(tagDeletePayload(tag), 'Codertocat/Retag'))).json).toEqual({ ignored: `tag deleted: ${tag}` });
    const again = await signedDelivery(retagTag(tag, b));
    expect(again.status).toBe(202);
    expect(again.json).toMatchObject({ started: true, releases: [{ app: 'retag', tag, workflowId: tagReleaseWorkflowId('retag', tag, b), started: true }] });
    const result = await client.workflow.getHandle<typeof release>(tagReleaseWorkflowId('retag', tag, b)).result();
    expect(result).toMatchObject({ outcome: 'released', environments: { production: { phase: 'promoted' } } });
    expect(world.overlayImages('retag/production')).toEqual(imagesForCommit(['retag/web'], b));
    expect(productionCommits().slice(-2)).toEqual([a, b]);
  });

  it('promotes nothing for an old tag’s delivery redelivered after a newer version reached production and Temporal forgot the first release', async () => {
    const [older, newer] = [freshTag(), freshTag()];
    const [a, b] = [commitSha(), commitSha()];
    const olderId = tagReleaseWorkflowId('retag', older, a);
    const newerId = tagReleaseWorkflowId('retag', newer, b);
    const kept = await deliverKept(retagTag(older, a));
    expect(kept.first.json).toMatchObject({ started: true });
    expect((await client.workflow.getHandle<typeof release>(olderId).result()).outcome).toBe('released');
    expect((await signedDelivery(retagTag(newer, b))).json).toMatchObject({ started: true });
    expect((await client.workflow.getHandle<typeof release>(newerId).result()).outcome).toBe('released');
    const before = productionCommits();

    await forget(olderId);
    const replayed = await kept.again();
    // Temporal no longer knows the id: the delivery starts a release again, which production refuses.
    expect(replayed.json).toMatchObject({ started: true, releases: [{ workflowId: olderId, started: true }] });
    const result = await client.workflow.getHandle<typeof release>(olderId).result();
    expect(result).toMatchObject({ outcome: 'superseded', supersededBy: newerId, environments: { production: { phase: 'superseded' } } });
    expect(world.overlayImages('retag/production')).toEqual(imagesForCommit(['retag/web'], b));
    expect(productionCommits()).toEqual(before);
    const production = await client.workflow.getHandle(environmentWorkflowId('retag', 'production')).query(environmentStateQuery);
    expect(production.current).toMatchObject({ commit: b, releaseId: newerId });
    expect(production.recent[0]).toMatchObject({ releaseId: olderId, commit: a, outcome: 'superseded', reason: `superseded by ${newerId}` });
    expect(production.recent[0]!.notes?.[0]).toContain(`tag ${older} is ${older.slice(1)}, lower than ${newer.slice(1)}`);
  });
});

describe('webhook: a tag the release created itself', () => {
  it('starts nothing for the tag a release made before staging (tag.before), and names that release', async () => {
    const commit = commitSha();
    const push = await signedDelivery(inRepo(branchPushPayload({ branch: 'main', commit }), 'Codertocat/Tagger'));
    expect(push.status).toBe(202);
    const releaseId = releaseWorkflowId('tagger', commit);
    const result = await client.workflow.getHandle<typeof release>(releaseId).result();
    expect(result.outcome).toBe('released');
    const tag = world.effects().find((e) => e.type === 'tag' && e.commit === commit);
    expect(tag, 'the release tagged its commit before staging').toBeDefined();
    const tagName = (tag as { tag: string }).tag;
    expect((await client.workflow.getHandle(releaseId).describe()).memo?.tag).toBe(tagName);

    // GitHub now sends the push of that tag.
    const before = started.length;
    const { status, json } = await signedDelivery(inRepo(tagPushPayload(tagName, { after: commit, head_commit: { id: commit } }), 'Codertocat/Tagger'));
    expect(status).toBe(202);
    expect(json).toEqual({ ignored: `tag ${tagName} was created by ${releaseId}` });
    expect(started.length).toBe(before);
    expect(await exists(tagReleaseWorkflowId('tagger', tagName, commit))).toBe(false);

    // A tag a person pushes on the same commit is theirs, and starts its promotion.
    const personal = freshTag();
    const theirs = await signedDelivery(inRepo(tagPushPayload(personal, { after: commit, head_commit: { id: commit } }), 'Codertocat/Tagger'));
    expect(theirs.json).toMatchObject({ started: true, releases: [{ app: 'tagger', tag: personal, started: true }] });
  });
});

describe('webhook: approvals from GitHub comments', () => {
  const approvals = (comment: Record<string, unknown>) => inRepo(comment, 'Codertocat/Approvals');
  const requests = () => [...github.pulls.map((p) => `GET ${p}`), ...prism.requests.map((r) => `${r.method} ${r.path}`)];
  let gatedRelease: string;

  beforeAll(async () => {
    // A build of the pull request's head waits for approval in production.
    gatedRelease = releaseWorkflowId('gated', PR_HEAD);
    started.push(gatedRelease);
    const handle = await client.workflow.start<typeof release>('release', {
      workflowId: gatedRelease,
      taskQueue: worker.taskQueue,
      args: [{ app: 'gated', commit: PR_HEAD, trigger: 'test' }],
      workflowExecutionTimeout: '10m',
    });
    await eventually(() => handle.query(releaseStatusQuery), (s) => s.environments.some((e) => e.environment === 'production' && e.phase === 'awaiting-approval'), 60_000);
  });

  it('ignores a comment that is not a command: nothing relayed, nothing asked of GitHub', async () => {
    const before = relayed.length;
    const { status, json } = await signedDelivery(approvals(issueCommentPayload('Ship it when ready')), 'issue_comment');
    expect(status).toBe(202);
    expect(json.ignored).toContain('not a Slipway command');
    expect(relayed.length).toBe(before);
    expect(requests()).toEqual([]);
  });

  it('relays a rejection on a commit that is not the one waiting, and replies on the commit with the reason', async () => {
    const other = commitSha();
    const payload = approvals(commitCommentPayload('/slipway reject production the login page is blank', other));
    const body = JSON.stringify(payload);
    const signature = await sign(SECRET, body);
    const before = relayed.length;
    const { status, json } = await deliver(body, { 'x-github-event': 'commit_comment', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': signature });
    expect(status).toBe(202);

    expect(relayed.slice(before).map((r) => [r.to, r.decision])).toEqual([
      [
        { app: 'gated', environment: 'production', decision: 'reject' },
        { by: 'Codertocat', channel: 'github', comment: 'the login page is blank', version: other, evidence: { event: 'commit_comment', body, signature } },
      ],
    ]);
    const outcome = relayed.at(-1)!.outcome;
    expect(outcome.recorded).toBe(false);
    const reason = (outcome as { reason: string }).reason;
    expect(reason).toContain(`not ${other}`);
    expect(json).toMatchObject({ command: 'reject', environment: 'production', commit: other, outcomes: [{ app: 'gated', recorded: false, reason }], github: { reply: 'posted' } });

    expect(requests()).toEqual([`POST /repos/Codertocat/Approvals/commits/${other}/comments`]);
    expect((prism.requests[0]!.body as { body: string }).body).toBe(`Slipway did not record this rejection for production:\n- gated: ${reason}`);
    expect(prism.requests[0]!.headers.authorization).toBe(`token ${GITHUB_TOKEN}`);
    // The build still waits.
    const env = await client.workflow.getHandle(environmentWorkflowId('gated', 'production')).query(environmentStateQuery);
    expect(env.inFlight).toMatchObject({ commit: PR_HEAD, phase: 'awaiting-approval' });
  });

  it('refuses, on GitHub, a command for an environment without an approval gate', async () => {
    const { status, json } = await signedDelivery(approvals(issueCommentPayload('/slipway approve staging')), 'issue_comment');
    expect(status).toBe(202);
    expect(json).toMatchObject({ refused: 'staging of gated takes no approvals (no approval gate in the policy)', github: { reply: 'posted' } });
    expect(requests()).toEqual(['POST /repos/Codertocat/Approvals/issues/1/comments']);
  });

  it('relays `/slipway approve production` on the pull request with its head commit, reacts +1, and production deploys', async () => {
    const payload = approvals(issueCommentPayload('/slipway approve production'));
    const body = JSON.stringify(payload);
    const signature = await sign(SECRET, body);
    const before = relayed.length;
    const { status, json } = await deliver(body, { 'x-github-event': 'issue_comment', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': signature });
    expect(status, JSON.stringify(json)).toBe(202);

    const comment = payload.comment as { id: number; html_url: string };
    expect(relayed.slice(before).map((r) => [r.to, r.decision])).toEqual([
      [
        { app: 'gated', environment: 'production', decision: 'approve' },
        { by: 'Codertocat', channel: 'github', comment: comment.html_url, version: PR_HEAD, evidence: { event: 'issue_comment', body, signature } },
      ],
    ]);
    expect(json).toMatchObject({ command: 'approve', environment: 'production', commit: PR_HEAD, by: 'Codertocat', outcomes: [{ app: 'gated', recorded: true }], github: { reaction: 'added' } });

    // The webhook read the pull request and reacted; the worker's own check read GitHub too.
    expect(requests()).toContain('GET /repos/Codertocat/Approvals/pulls/1');
    const reactions = prism.requests.filter((r) => r.method === 'POST');
    expect(reactions.map((r) => [r.path, r.body])).toEqual([[`/repos/Codertocat/Approvals/issues/comments/${comment.id}/reactions`, { content: '+1' }]]);

    const result = await client.workflow.getHandle<typeof release>(gatedRelease).result();
    expect(result).toMatchObject({ outcome: 'released', environments: { production: { phase: 'promoted' } } });
    expect(world.overlayImages('gated/production')).toEqual(imagesForCommit(['gated/web'], PR_HEAD));
    const env = await client.workflow.getHandle(environmentWorkflowId('gated', 'production')).query(environmentStateQuery);
    expect(env.recent.at(-1)).toMatchObject({ commit: PR_HEAD, outcome: 'promoted', approvedBy: 'github:Codertocat' });
  });

  it('answers 503, relaying nothing, when GitHub cannot say which commit the pull request is at', async () => {
    const before = relayed.length;
    await withServer({ github: createGithubClient({ token: GITHUB_TOKEN, baseUrl: `http://127.0.0.1:${await freePort()}` }) }, async (url) => {
      const { status, json } = await signedDelivery(approvals(issueCommentPayload('/slipway approve production')), 'issue_comment', url);
      expect(status).toBe(503);
      expect(json.error).toContain('cannot read pull request #1 of Codertocat/Approvals (GitHub unreachable');
      expect(json.error).toContain('redeliver later');
    });
    expect(relayed.length).toBe(before);
  });

  it('keeps a recorded approval an approval when GitHub cannot be reached for the reaction (and logs it)', async () => {
    const unreachable = `http://127.0.0.1:${await freePort()}`;
    const sent: DecisionTarget[] = [];
    await withServer(
      {
        github: createGithubClient({ token: GITHUB_TOKEN, baseUrl: unreachable }),
        sendDecision: async (to) => {
          sent.push(to);
          return { app: to.app, recorded: true, result: { requestId: 'r', version: undefined } };
        },
      },
      async (url) => {
        const { status, json } = await signedDelivery(approvals(commitCommentPayload('/slipway approve production', PR_HEAD)), 'commit_comment', url);
        expect(status).toBe(202);
        expect(json).toMatchObject({ outcomes: [{ app: 'gated', recorded: true }] });
        expect(json.github.reaction).toMatch(/^failed: GitHub unreachable/);
      },
    );
    expect(sent).toEqual([{ app: 'gated', environment: 'production', decision: 'approve' }]);
    expect(logLines.some((l) => l.includes('"github-answer-failed"') && l.includes('react to comment'))).toBe(true);
  });

  it('answers a delivery as pending when the environment workflow is slow, and answers on GitHub once it has decided', async () => {
    let decide: (() => void) | undefined;
    await withServer(
      {
        github: createGithubClient({ token: GITHUB_TOKEN, baseUrl: github.url }),
        decisionAnswerWithinMs: 200,
        sendDecision: (to) =>
          new Promise((resolve) => {
            decide = () => resolve({ app: to.app, recorded: true, result: { requestId: 'r' } });
          }),
      },
      async (url) => {
        const payload = approvals(commitCommentPayload('/slipway approve production', PR_HEAD));
        const { status, json } = await signedDelivery(payload, 'commit_comment', url);
        expect(status).toBe(202);
        expect(json).toMatchObject({ command: 'approve', environment: 'production', commit: PR_HEAD, pending: expect.stringContaining('not answered yet') });
        expect(requests()).toEqual([]);
        decide!();
        const id = (payload.comment as { id: number }).id;
        await eventually(async () => requests(), (r) => r.includes(`POST /repos/Codertocat/Approvals/comments/${id}/reactions`), 10_000);
      },
    );
  });

  it('ignores comments, saying why, when the webhook has no GitHub token', async () => {
    await withServer({}, async (url) => {
      const { status, json } = await signedDelivery(approvals(issueCommentPayload('/slipway approve production')), 'issue_comment', url);
      expect(status).toBe(202);
      expect(json.ignored).toContain('no GITHUB_TOKEN');
    });
  });
});

describe('webhook: logs', () => {
  it('never logs the webhook secret or the GitHub token', () => {
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join('\n')).not.toContain(SECRET);
    expect(logLines.join('\n')).not.toContain(GITHUB_TOKEN);
  });
});
