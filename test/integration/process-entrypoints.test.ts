/**
 * The processes people run — the worker and the webhook server, as built into dist/ — start from
 * their environment variables, do their job against the real Temporal server, and stop cleanly on
 * SIGTERM. The worker reads its pipeline policy from SLIPWAY_CONFIG; the webhook has none of its
 * own and asks the worker.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { fetchPolicy } from '../../client/policy.js';
import { freePort } from '../../infra/ports.js';
import { eventually } from '../support/pipelines.js';
import { temporalAddress, testClient, uniqueTaskQueue } from '../support/temporal.js';
import { sign, tagPushPayload } from '../support/webhook-payloads.js';

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

/** Starts a built entrypoint with `env` over this process's environment, less any SLIPWAY_CONFIG of its own. */
function start(script: string, env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const { SLIPWAY_CONFIG: _ignored, ...inherited } = process.env;
  const child = spawn(process.execPath, [join(process.cwd(), 'dist', script)], { env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** Waits until `check` holds, through the suite's shared polling helper. */
async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  await eventually(async () => check(), Boolean, 30_000).catch((err: Error) => {
    throw new Error(`timed out waiting for ${what}: ${err.message}`);
  });
}

/** A policy file whose one app is built from the repository of GitHub's example payloads. */
function policyFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'slipway-policy-')), 'slipway.yaml');
  writeFileSync(
    file,
    `gitops: { url: /tmp/gitops.git }
apps:
  shop:
    source: { github: Codertocat/Hello-World }
    images: [shop/web]
    environments:
      - { name: production, overlay: overlays/production, argocd: { application: shop-production } }
`,
  );
  return file;
}

function startWorker(taskQueue: string, policy: string) {
  return start('worker/main.js', {
    TEMPORAL_ADDRESS: temporalAddress(),
    SLIPWAY_TASK_QUEUE: taskQueue,
    SLIPWAY_CONFIG: policy,
    SLIPWAY_BACKUP_DIR: mkdtempSync(join(tmpdir(), 'slipway-backups-')),
    SLIPWAY_LOG_LEVEL: 'WARN',
  });
}

it('the worker polls its task queue, answers with the policy in SLIPWAY_CONFIG, and stops gracefully on SIGTERM', async () => {
  const taskQueue = uniqueTaskQueue('main');
  const client = await testClient();
  const policy = policyFile();
  const worker = startWorker(taskQueue, policy);
  try {
    await until(() => worker.output().includes(`task queue=${taskQueue}`), 'the worker to start');
    await until(async () => {
      const res = await client.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, taskQueueType: 1 });
      return (res.pollers ?? []).length > 0;
    }, 'a workflow poller on the task queue');
    const summary = await fetchPolicy(client, taskQueue);
    expect(summary.source).toBe(policy);
    expect(summary.apps).toEqual({
      shop: {
        source: 'Codertocat/Hello-World',
        tag: expect.objectContaining({ pattern: expect.any(String) }),
        triggers: { push: [] },
        environments: [{ name: 'production', freezeWindows: 0, checks: 0, backup: false }],
      },
    });
    expect(JSON.stringify(summary), 'clients see no wiring').not.toContain('/tmp/gitops.git');
  } finally {
    await client.connection.close();
  }
  worker.child.kill('SIGTERM');
  expect(await worker.exited).toBe(0);
  expect(worker.output()).toContain('slipway worker: stopped');
});

it('the worker refuses to start when its policy file is missing, naming the file', async () => {
  const missing = join(mkdtempSync(join(tmpdir(), 'slipway-nopolicy-')), 'slipway.yaml');
  const worker = startWorker(uniqueTaskQueue('nopolicy'), missing);
  expect(await worker.exited).not.toBe(0);
  expect(worker.output()).toContain(`${missing}: invalid configuration`);
});

it('the webhook server, with no policy of its own, answers its health probe, refuses unsigned deliveries, decides signed ones by the worker’s policy, and stops on SIGTERM', async () => {
  const taskQueue = uniqueTaskQueue('webhook-main');
  const worker = startWorker(taskQueue, policyFile());
  await until(() => worker.output().includes(`task queue=${taskQueue}`), 'the worker to start');
  const port = await freePort();
  const webhook = start('client/webhook/main.js', {
    TEMPORAL_ADDRESS: temporalAddress(),
    SLIPWAY_TASK_QUEUE: taskQueue,
    SLIPWAY_WEBHOOK_SECRET: 'entrypoint-test-secret',
    PORT: String(port),
    HOST: '127.0.0.1',
  });
  await until(() => webhook.output().includes(`listening on :${port}`), 'the webhook to listen');
  expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  const unsigned = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { 'x-github-event': 'push', 'content-type': 'application/json' }, body: '{}' });
  expect(unsigned.status).toBe(401);

  // The worker's policy knows the repository but no tag rule matches: ignored, and saying why.
  const body = JSON.stringify(tagPushPayload('not-a-release'));
  const signed = await fetch(`http://127.0.0.1:${port}/`, {
    method: 'POST',
    headers: { 'x-github-event': 'push', 'content-type': 'application/json', 'x-hub-signature-256': await sign('entrypoint-test-secret', body) },
    body,
  });
  expect(signed.status).toBe(202);
  expect(await signed.json()).toEqual({ ignored: "tag not-a-release matches no app's tag pattern" });

  webhook.child.kill('SIGTERM');
  expect(await webhook.exited).toBe(0);
  expect(webhook.output()).not.toContain('entrypoint-test-secret');
  worker.child.kill('SIGTERM');
  expect(await worker.exited).toBe(0);
});

it('the webhook refuses to start without a secret, saying which variable is missing', async () => {
  const webhook = start('client/webhook/main.js', { TEMPORAL_ADDRESS: temporalAddress(), SLIPWAY_WEBHOOK_SECRET: '' });
  expect(await webhook.exited).toBe(1);
  expect(webhook.output()).toMatch(/SLIPWAY_WEBHOOK_SECRET is not set/);
});
