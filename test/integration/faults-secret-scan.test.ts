/**
 * No secret in any workflow history. The worker here holds real-looking secrets in the env vars
 * slipway.yaml names (a GitHub token, a database URL with a password, a Discord webhook URL) and
 * really uses two of them: notifications are posted to the webhook URL (a local receiver), and a
 * backup connects with the database URL (to a port where nothing listens: a failure path). It
 * runs a release that succeeds, one that is rolled back and a backup that fails; then it lists
 * every workflow in the namespace — this file's and whatever else the suite ran on the server —
 * fetches every history, decodes every payload, and finds neither these values nor anything
 * shaped like a credential.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createBackupActivities, DirectoryBackupStore } from '../../activities/backup/index.js';
import { createNotifyActivities } from '../../activities/notify/index.js';
import { environmentWorkflowId } from '../../core/ids.js';
import { imagesForCommit } from '../../core/images.js';
import { freePort } from '../../infra/ports.js';
import { SECRET_SHAPES, scanAllHistories } from '../support/history-scan.js';
import { IMAGES, STAGING_AND_PRODUCTION, commitSha, eventually, newWorld, pipelineFromYaml, startRelease, uniqueApp } from '../support/pipelines.js';
import { startTestWorker, testClient, type RunningWorker } from '../support/temporal.js';

const GITHUB_TOKEN = 'ghp_fakeSlipwayScan0123456789abcdefABCDEF';
const DB_PASSWORD = 's3cretScanPassw0rd';
const WEBHOOK_SECRET = 'scanWebhookSecret-0123456789abcdefXYZ';

let receiver: Server;
const received: string[] = [];
let worker: RunningWorker | undefined;
const secrets: Record<string, string> = {};

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push(`${req.url} ${body}`);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const port = (receiver.address() as { port: number }).port;
  secrets.GITHUB_TOKEN = GITHUB_TOKEN;
  secrets.DATABASE_URL = `postgres://slipway:${DB_PASSWORD}@127.0.0.1:${await freePort()}/todoapp`;
  secrets.DISCORD_WEBHOOK_URL = `http://127.0.0.1:${port}/api/webhooks/424242/${WEBHOOK_SECRET}`;
  Object.assign(process.env, secrets);
});

afterAll(async () => {
  await worker?.stop();
  await new Promise((r) => receiver.close(r));
  for (const name of Object.keys(secrets)) delete process.env[name];
});

const NOTIFY = `        notify: { discord: { urlFromEnv: DISCORD_WEBHOOK_URL } }`;
const BACKUP = `        backup: { schedule: "0 3 * * *", postgres: { urlFromEnv: DATABASE_URL }, keep: 3 }`;

it('finds no token, connection string or webhook secret in any workflow history', async () => {
  const good = uniqueApp('scan');
  const bad = uniqueApp('scan');
  const world = newWorld(good);
  const badCommit = commitSha();
  // One world for both apps: the second app's Argo CD applications deploy its own overlays.
  world.setRules({
    ...world.rules(),
    initial: { ...world.rules().initial, 'bad/staging': imagesForCommit(IMAGES, 'old0000000000000000000000000000000000000') },
    applications: { ...world.rules().applications, [`${bad}-staging`]: 'bad/staging' },
    badTags: [badCommit],
  });

  const withNotify = (envs: string) => envs.replace(/(argocd: \{[^}]*\}\n)/g, `$1${NOTIFY}\n`);
  // Production's backup is in the worker's policy: the guard lets the backup activities use DATABASE_URL.
  const goodPipeline = pipelineFromYaml(good, withNotify(STAGING_AND_PRODUCTION({ stagingChecks: '[]', production: BACKUP })));
  const badPipeline = pipelineFromYaml(
    bad,
    withNotify(`
      - name: staging
        overlay: bad/staging
        argocd: { application: APP-staging, timeout: 20s }
`),
  );
  expect(goodPipeline.appConfig.source?.tokenFromEnv).toBe('GITHUB_TOKEN');

  worker = await startTestWorker({
    ...world.activities(),
    ...createNotifyActivities(),
    ...createBackupActivities({ store: new DirectoryBackupStore(mkdtempSync(join(tmpdir(), 'slipway-scan-backups-'))) }),
  });
  const client = await testClient();

  const goodCommit = commitSha();
  const released = await (await startRelease(client, worker.taskQueue, goodPipeline, goodCommit, { version: '9.0.0' })).result();
  expect(released.outcome).toBe('released');

  const failing = await startRelease(client, worker.taskQueue, badPipeline, badCommit, { version: '9.0.1' });
  await expect(failing.result()).rejects.toBeInstanceOf(WorkflowFailedError);

  const backupId = `backup-scan/${good}`;
  const backup = await client.workflow.start('backup', {
    workflowId: backupId,
    taskQueue: worker.taskQueue,
    args: [{ app: good, environment: 'production', databaseUrlFromEnv: 'DATABASE_URL', keep: 3, notify: [{ discord: { urlFromEnv: 'DISCORD_WEBHOOK_URL' } }] }],
  });
  const backupFailure = await backup.result().catch((e: unknown) => e);
  expect(backupFailure).toBeInstanceOf(WorkflowFailedError);
  // It failed connecting with the URL read from the env, not refused before: the secret was really used.
  expect(String((backupFailure as WorkflowFailedError).cause?.message)).toMatch(/cannot reach the database at 127\.0\.0\.1:\d+\/todoapp \(URL from DATABASE_URL\)/);

  // The secrets were really used: notifications reached the webhook URL read from the env.
  expect(received.some((r) => r.includes(WEBHOOK_SECRET))).toBe(true);

  const ours = [
    released.releaseId,
    failing.workflowId,
    backupId,
    environmentWorkflowId(good, 'staging'),
    environmentWorkflowId(good, 'production'),
    environmentWorkflowId(bad, 'staging'),
  ];
  // Visibility is eventually consistent: wait until the list holds every workflow this test made.
  const histories = await eventually(
    () => scanAllHistories(client),
    (all) => ours.every((id) => all.some((h) => h.workflowId === id)),
    30_000,
  );
  expect(histories.filter((h) => h.workflowId.includes(good) || h.workflowId.includes(bad)).length).toBeGreaterThanOrEqual(ours.length + 3);

  const values = [...Object.values(secrets), GITHUB_TOKEN, DB_PASSWORD, WEBHOOK_SECRET, Buffer.from(GITHUB_TOKEN).toString('base64')];
  const leaks = histories.flatMap((h) => [
    ...values.filter((v) => h.text.includes(v)).map((v) => `${h.workflowId}: the value ${v.slice(0, 12)}…`),
    ...SECRET_SHAPES.filter((s) => s.pattern.test(h.text)).map((s) => `${h.workflowId}: a ${s.name} (${s.pattern.exec(h.text)![0].slice(0, 24)}…)`),
  ]);
  console.log(`faults-secret-scan: ${histories.length} histories scanned, ${leaks.length} leaks`);
  expect(leaks).toEqual([]);
  // The names, on the other hand, are there: the histories do describe where secrets come from.
  expect(histories.some((h) => h.text.includes('DISCORD_WEBHOOK_URL'))).toBe(true);
  expect(histories.some((h) => h.text.includes('DATABASE_URL'))).toBe(true);
}, 180_000);
