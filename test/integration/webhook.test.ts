/**
 * The tag-push webhook on a real port, starting releases on the suite's real Temporal dev server.
 * The webhook holds no copy of the policy: it asks the worker on its task queue, which reads its
 * own slipway.yaml (a real file, through the real PolicyStore). Production needs an approval in
 * that policy, so a started release runs up to the gate and waits there. Deliveries are GitHub's
 * own example payloads, signed as GitHub signs them.
 */
import { randomUUID } from 'node:crypto';
import { request, type Server } from 'node:http';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchPolicy, PolicyUnavailableError } from '../../client/policy.js';
import { createWebhookServer } from '../../client/webhook/server.js';
import { startReleaseViaTemporal } from '../../client/webhook/start-release.js';
import { tagReleaseWorkflowId } from '../../core/ids.js';
import { releaseStatusQuery } from '../../workflows/messages.js';
import type { ReleaseInput } from '../../workflows/types.js';
import { eventually, newWorld } from '../support/pipelines.js';
import { TestPolicy } from '../support/policy.js';
import { startTestWorker, testClient, type RunningWorker } from '../support/temporal.js';
import { branchPushPayload, sign, tagPushPayload } from '../support/webhook-payloads.js';

const SECRET = `whsec-${randomUUID()}`;

/** The worker's slipway.yaml: `hello` is built from GitHub's example repository; `extraApps` are more entries under `apps:`. */
function policyText(extraApps = ''): string {
  return `
gitops: { url: /tmp/gitops.git, branch: main }
engine: { heartbeatTimeout: 2s, stepTimeout: 20s }
apps:
  hello:
    source: { github: Codertocat/Hello-World }
    images: [hello/web]
    environments:
      - { name: staging, overlay: overlays/staging, argocd: { application: hello-staging } }
      - name: production
        overlay: overlays/production
        argocd: { application: hello-production }
        approval: { required: true, timeout: 1h }
${extraApps}`;
}

/** A second app in the same repository, released from tags of its own. */
const API_APP = `
  hello-api:
    source: { github: Codertocat/Hello-World }
    images: [hello/api]
    tag: { format: 'api-v{version}', pattern: 'api-v*.*.*' }
    environments:
      - name: production
        overlay: overlays/api-production
        argocd: { application: hello-api-production }
        approval: { required: true, timeout: 1h }
`;

let client: Client;
let worker: RunningWorker;
let policy: TestPolicy;
let server: Server;
let base: string;
const logLines: string[] = [];
const started: string[] = [];

beforeAll(async () => {
  client = await testClient();
  policy = TestPolicy.fromText(policyText());
  worker = await startTestWorker(newWorld('hello', ['overlays/staging', 'overlays/production', 'overlays/api-production']).activities(), undefined, policy.store);
  const startRelease = startReleaseViaTemporal(client, worker.taskQueue);
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
});

/** A fresh tag per test, so workflow ids never collide with another test (or another run). */
const freshTag = () => `v1.${Math.floor(Math.random() * 1e6)}.${Math.floor(Math.random() * 1000)}`;

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

async function exists(workflowId: string): Promise<boolean> {
  try {
    await client.workflow.getHandle(workflowId).describe();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

describe('tag-push webhook', () => {
  it('answers /healthz', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('starts the production promotion of a pushed tag, as one release workflow that names the app and carries no pipeline', async () => {
    const tag = freshTag();
    const { status, json } = await signedDelivery(tagPushPayload(tag));
    expect(status).toBe(202);
    const workflowId = tagReleaseWorkflowId('hello', tag);
    expect(json).toMatchObject({ started: true, releases: [{ app: 'hello', tag, workflowId, started: true }] });

    const handle = client.workflow.getHandle(workflowId);
    const description = await handle.describe();
    expect(description.type).toBe('release');
    expect(description.status.name).toBe('RUNNING');
    const history = await handle.fetchHistory();
    const payload = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    const input = defaultPayloadConverter.fromPayload<ReleaseInput>(payload);
    expect(input).toMatchObject({
      app: 'hello',
      commit: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
      version: tag.slice(1),
      startAt: 'production',
      skipBuild: true,
      skipTag: true,
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
    expect(await exists(tagReleaseWorkflowId('hello-api', tag))).toBe(false);

    policy.write(policyText(API_APP));
    try {
      const after = await signedDelivery(tagPushPayload(tag));
      expect(after.status).toBe(202);
      expect(after.json).toMatchObject({ started: true, releases: [{ app: 'hello-api', tag, started: true }] });
      const description = await client.workflow.getHandle(tagReleaseWorkflowId('hello-api', tag)).describe();
      expect(description.status.name).toBe('RUNNING');
    } finally {
      policy.write(policyText());
    }
  });

  it('answers 503 and starts nothing when no worker tells it the policy', async () => {
    const unreachable = createWebhookServer({
      secret: SECRET,
      policy: () => Promise.reject(new PolicyUnavailableError('no worker on task queue "nobody"')),
      log: (line) => logLines.push(line),
      startRelease: async () => {
        throw new Error('must not start a release without the policy');
      },
    });
    await new Promise<void>((resolve) => unreachable.listen(0, '127.0.0.1', resolve));
    try {
      const tag = freshTag();
      const { status, json } = await signedDelivery(tagPushPayload(tag), 'push', `http://127.0.0.1:${(unreachable.address() as { port: number }).port}`);
      expect(status).toBe(503);
      expect(json.error).toContain('policy');
      expect(await exists(tagReleaseWorkflowId('hello', tag))).toBe(false);
    } finally {
      unreachable.closeAllConnections();
      await new Promise((resolve) => unreachable.close(resolve));
    }
  });

  it('starts one workflow for the same delivery sent 20 times at once', async () => {
    const tag = freshTag();
    const body = JSON.stringify(tagPushPayload(tag));
    const headers = { 'x-github-event': 'push', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': await sign(SECRET, body) };
    const answers = await Promise.all(Array.from({ length: 20 }, () => deliver(body, headers)));
    expect(answers.filter((a) => a.json.started === true)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 202)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 200 && a.json.started === false)).toHaveLength(19);

    const workflowId = tagReleaseWorkflowId('hello', tag);
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
    expect(await exists(tagReleaseWorkflowId('hello', tag))).toBe(false);
  });

  it('answers 202 to a branch push and starts nothing', async () => {
    const before = started.length;
    const { status, json } = await signedDelivery(branchPushPayload());
    expect(status).toBe(202);
    expect(json.ignored).toContain('not a tag');
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

  it('never logs the secret', () => {
    expect(logLines.join('\n')).not.toContain(SECRET);
  });
});
