/**
 * The processes people run — the worker and the webhook server, as built into dist/ — start from
 * their environment variables, do their job against the real Temporal server, and stop cleanly on
 * SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { freePort } from '../../infra/ports.js';
import { eventually } from '../support/pipelines.js';
import { temporalAddress, testClient, uniqueTaskQueue } from '../support/temporal.js';

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

function start(script: string, env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [join(process.cwd(), 'dist', script)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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

it('the worker polls its task queue and stops gracefully on SIGTERM', async () => {
  const taskQueue = uniqueTaskQueue('main');
  const client = await testClient();
  const worker = start('worker/main.js', {
    TEMPORAL_ADDRESS: temporalAddress(),
    SLIPWAY_TASK_QUEUE: taskQueue,
    SLIPWAY_BACKUP_DIR: mkdtempSync(join(tmpdir(), 'slipway-backups-')),
    SLIPWAY_LOG_LEVEL: 'WARN',
  });
  await until(() => worker.output().includes(`task queue=${taskQueue}`), 'the worker to start');
  await until(async () => {
    const res = await client.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, taskQueueType: 1 });
    return (res.pollers ?? []).length > 0;
  }, 'a workflow poller on the task queue');
  worker.child.kill('SIGTERM');
  expect(await worker.exited).toBe(0);
  expect(worker.output()).toContain('slipway worker: stopped');
});

it('the webhook server answers its health probe, refuses unsigned deliveries, and stops on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-webhook-'));
  const config = join(dir, 'slipway.yaml');
  writeFileSync(config, 'gitops: { url: /tmp/gitops.git }\napps:\n  shop:\n    images: [shop/web]\n    environments:\n      - { name: production, overlay: overlays/production, argocd: { application: shop-production } }\n');
  const port = await freePort();
  const webhook = start('client/webhook/main.js', {
    TEMPORAL_ADDRESS: temporalAddress(),
    SLIPWAY_CONFIG: config,
    SLIPWAY_WEBHOOK_SECRET: 'entrypoint-test-secret',
    PORT: String(port),
    HOST: '127.0.0.1',
  });
  await until(() => webhook.output().includes(`listening on :${port}`), 'the webhook to listen');
  expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  const unsigned = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { 'x-github-event': 'push', 'content-type': 'application/json' }, body: '{}' });
  expect(unsigned.status).toBe(401);
  webhook.child.kill('SIGTERM');
  expect(await webhook.exited).toBe(0);
  expect(webhook.output()).not.toContain('entrypoint-test-secret');
});

it('the webhook refuses to start without a secret, saying which variable is missing', async () => {
  const webhook = start('client/webhook/main.js', { TEMPORAL_ADDRESS: temporalAddress(), SLIPWAY_WEBHOOK_SECRET: '' });
  expect(await webhook.exited).toBe(1);
  expect(webhook.output()).toMatch(/SLIPWAY_WEBHOOK_SECRET is not set/);
});
