/**
 * No secret in any workflow history, notification or git command line. The worker here holds
 * real-looking secrets in the env vars slipway.yaml names (a GitHub token, a database URL with a
 * password, a Discord webhook URL) and really uses two of them: notifications are posted to the
 * webhook URL (a local receiver), and a backup connects with the database URL (to a port where
 * nothing listens: a failure path). It runs a release that succeeds, one that is rolled back, one
 * whose build command fails printing secrets (the worker's own and credential-shaped ones), and a
 * backup that fails; then it lists every workflow in the namespace — this file's and whatever else
 * the suite ran on the server — fetches every history, decodes every payload, and finds neither
 * these values nor anything shaped like a credential, and no notification body holds one either.
 *
 * Then: git against an HTTP remote whose URL carries user:password, with every process's
 * /proc/<pid>/cmdline sampled while the writes run (what `ps` shows any user of the machine); and a
 * release whose HTTP check URL carries credentials and a query token (handed to the worker past the
 * config check, which refuses them), whose activity summaries must not show them.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createBackupActivities, DirectoryBackupStore } from '../../activities/backup/index.js';
import { createBuildActivities } from '../../activities/build/index.js';
import { createAncestryChecker, createGitopsActivities, remoteBranchHead } from '../../activities/gitops/index.js';
import { createNotifyActivities } from '../../activities/notify/index.js';
import type { GitTarget } from '../../activities/types.js';
import { environmentWorkflowId } from '../../core/ids.js';
import { imagesForCommit } from '../../core/images.js';
import { seedGitopsRepo } from '../../infra/examples/seed-repo.js';
import { freePort } from '../../infra/ports.js';
import type { FakeWorld } from '../support/fake-world.js';
import { startGitHttpServer } from '../support/git-http-server.js';
import { SECRET_SHAPES, scanAllHistories } from '../support/history-scan.js';
import { suitePolicy } from '../support/policy.js';
import { IMAGES, STAGING_AND_PRODUCTION, commitSha, eventually, newWorld, pipelineFromYaml, startRelease, uniqueApp } from '../support/pipelines.js';
import { startTestWorker, testClient, type RunningWorker } from '../support/temporal.js';

const GITHUB_TOKEN = 'ghp_fakeSlipwayScan0123456789abcdefABCDEF';
const DB_PASSWORD = 's3cretScanPassw0rd';
const WEBHOOK_SECRET = 'scanWebhookSecret-0123456789abcdefXYZ';
/** In the worker's environment under a credential-like name; the failing build prints it. */
const DEPLOY_TOKEN = 'scanDeployToken-0123456789abcdefXYZ';
/** Printed by the failing build from a file: no variable names them, only their shape gives them away. */
const BUILD_PRINTS = {
  github: 'ghp_scanBuildOutput0123456789abcdefABCDEF',
  aws: 'AKIASCANBUILD0123456',
  bearer: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzY2FuIn0.c2NhbkJ1aWxkU2lnbmF0dXJl',
  urlPassword: 'scanUrlPassw0rd-in-build-output',
};
/** Shapes beyond the shared list that the build output above holds. */
const MORE_SHAPES: Array<{ name: string; pattern: RegExp }> = [
  { name: 'AWS access key id', pattern: /AKIA[A-Z0-9]{16}/ },
  { name: 'JSON web token', pattern: /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/ },
];

let receiver: Server;
const received: string[] = [];
/** Requests of the HTTP check, kept apart from the notifications. */
const probes: Array<{ url: string; authorization?: string }> = [];
let worker: RunningWorker | undefined;
let world: FakeWorld;
const secrets: Record<string, string> = {};

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.url?.startsWith('/healthz')) probes.push({ url: req.url, authorization: req.headers.authorization });
      else received.push(`${req.url} ${body}`);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const port = (receiver.address() as { port: number }).port;
  secrets.GITHUB_TOKEN = GITHUB_TOKEN;
  secrets.DATABASE_URL = `postgres://slipway:${DB_PASSWORD}@127.0.0.1:${await freePort()}/todoapp`;
  secrets.DISCORD_WEBHOOK_URL = `http://127.0.0.1:${port}/api/webhooks/424242/${WEBHOOK_SECRET}`;
  secrets.SLIPWAY_SCAN_DEPLOY_TOKEN = DEPLOY_TOKEN;
  Object.assign(process.env, secrets);
});

afterAll(async () => {
  await worker?.stop();
  await new Promise((r) => receiver.close(r));
  for (const name of Object.keys(secrets)) delete process.env[name];
});

/** One worker for the file: the world's activities, with the real build, notify and backup ones. */
function startScanWorker(w: FakeWorld): Promise<RunningWorker> {
  return startTestWorker({
    ...w.activities(),
    // The real build activity (the world's would only record the build).
    ...createBuildActivities(),
    ...createNotifyActivities(),
    ...createBackupActivities({ store: new DirectoryBackupStore(mkdtempSync(join(tmpdir(), 'slipway-scan-backups-'))) }),
  });
}

const NOTIFY = `        notify: { discord: { urlFromEnv: DISCORD_WEBHOOK_URL } }`;
const BACKUP = `        backup: { schedule: "0 3 * * *", postgres: { urlFromEnv: DATABASE_URL }, keep: 3 }`;

it('finds no token, connection string, webhook secret or build-output secret in any workflow history or notification', async () => {
  const good = uniqueApp('scan');
  const bad = uniqueApp('scan');
  const built = uniqueApp('scan');
  world = newWorld(good);
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
  // A build that fails printing secrets: the worker's token (it inherits the worker's environment)
  // and, from a file, credential-shaped values nothing names.
  const buildLog = join(mkdtempSync(join(tmpdir(), 'slipway-scan-build-')), 'build.log');
  writeFileSync(
    buildLog,
    [
      'Step 1/3 : FROM node:20',
      `pushing with ${BUILD_PRINTS.github}`,
      `AWS_ACCESS_KEY_ID=${BUILD_PRINTS.aws}`,
      `> Authorization: Bearer ${BUILD_PRINTS.bearer}`,
      `error: unable to push to https://ci-bot:${BUILD_PRINTS.urlPassword}@registry.example/v2/`,
      '',
    ].join('\n'),
  );
  const builtPipeline = pipelineFromYaml(
    built,
    withNotify(`
      - name: staging
        overlay: overlays/staging
        argocd: { application: APP-staging, timeout: 20s }
`),
    `    build: { command: 'cat ${buildLog}; echo "registry login with $SLIPWAY_SCAN_DEPLOY_TOKEN"; exit 1', env: [SLIPWAY_SCAN_DEPLOY_TOKEN], timeout: 30s }`,
  );

  worker = await startScanWorker(world);
  const client = await testClient();

  const goodCommit = commitSha();
  const released = await (await startRelease(client, worker.taskQueue, goodPipeline, goodCommit, { version: '9.0.0' })).result();
  expect(released.outcome).toBe('released');

  const failing = await startRelease(client, worker.taskQueue, badPipeline, badCommit, { version: '9.0.1' });
  await expect(failing.result()).rejects.toBeInstanceOf(WorkflowFailedError);

  const building = await startRelease(client, worker.taskQueue, builtPipeline, commitSha(), { version: '9.0.2' });
  const buildFailure = await building.result().catch((e: unknown) => e);
  expect(buildFailure).toBeInstanceOf(WorkflowFailedError);
  // The build really ran and printed: its last lines are in the failure, with the secrets taken out.
  const buildCause = (buildFailure as WorkflowFailedError).cause;
  const buildMessage = `${buildCause?.message} ${buildCause?.cause instanceof Error ? buildCause.cause.message : ''}`;
  expect(buildMessage).toContain('exited with 1');
  expect(buildMessage).toContain('registry login with ***');
  expect(buildMessage).toContain('Step 1/3 : FROM node:20');

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
  // The failed build was announced, its output tail included, and no notification body holds a secret.
  const bodies = received.map((r) => r.slice(r.indexOf(' ') + 1));
  expect(bodies.some((b) => b.includes('exited with 1') && b.includes('registry login with ***'))).toBe(true);
  const bodyValues = [DEPLOY_TOKEN, DB_PASSWORD, GITHUB_TOKEN, ...Object.values(BUILD_PRINTS)];
  const bodyLeaks = bodies.flatMap((b) => [
    ...bodyValues.filter((v) => b.includes(v)).map((v) => `a notification: the value ${v.slice(0, 12)}…`),
    ...[...SECRET_SHAPES, ...MORE_SHAPES].filter((shape) => shape.pattern.test(b)).map((shape) => `a notification: a ${shape.name}`),
  ]);
  expect(bodyLeaks).toEqual([]);

  const ours = [
    released.releaseId,
    failing.workflowId,
    backupId,
    environmentWorkflowId(good, 'staging'),
    environmentWorkflowId(good, 'production'),
    environmentWorkflowId(bad, 'staging'),
    building.workflowId,
  ];
  // Visibility is eventually consistent: wait until the list holds every workflow this test made.
  const histories = await eventually(
    () => scanAllHistories(client),
    (all) => ours.every((id) => all.some((h) => h.workflowId === id)),
    30_000,
  );
  expect(histories.filter((h) => h.workflowId.includes(good) || h.workflowId.includes(bad) || h.workflowId.includes(built)).length).toBeGreaterThanOrEqual(ours.length + 3);

  const values = [
    ...Object.values(secrets),
    GITHUB_TOKEN,
    DB_PASSWORD,
    WEBHOOK_SECRET,
    Buffer.from(GITHUB_TOKEN).toString('base64'),
    ...Object.values(BUILD_PRINTS),
  ];
  const leaks = histories.flatMap((h) => [
    ...values.filter((v) => h.text.includes(v)).map((v) => `${h.workflowId}: the value ${v.slice(0, 12)}…`),
    ...[...SECRET_SHAPES, ...MORE_SHAPES].filter((s) => s.pattern.test(h.text)).map((s) => `${h.workflowId}: a ${s.name} (${s.pattern.exec(h.text)![0].slice(0, 24)}…)`),
  ]);
  console.log(`faults-secret-scan: ${histories.length} histories scanned, ${leaks.length} leaks`);
  expect(leaks).toEqual([]);
  // The names, on the other hand, are there: the histories do describe where secrets come from.
  expect(histories.some((h) => h.text.includes('DISCORD_WEBHOOK_URL'))).toBe(true);
  expect(histories.some((h) => h.text.includes('DATABASE_URL'))).toBe(true);
}, 180_000);

/** Every distinct command line of a git process seen in /proc while `work` runs, sampled without pause. */
async function gitCommandLinesDuring(work: Promise<unknown>): Promise<string[]> {
  const seen = new Set<string>();
  let running = true;
  const done = work.finally(() => (running = false));
  while (running) {
    for (const pid of await readdir('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      const raw = await readFile(`/proc/${pid}/cmdline`).catch(() => undefined);
      if (!raw || raw.length === 0) continue;
      const argv = raw.toString('utf8').split('\0').filter(Boolean);
      if (argv.some((a) => /(^|\/)git(-[a-z-]+)?$/.test(a))) seen.add(argv.join(' '));
    }
    await new Promise((r) => setImmediate(r));
  }
  await done;
  return [...seen];
}

it('gives no git process credentials written into the remote URL: /proc/<pid>/cmdline never shows them', async () => {
  const PASSWORD = 'scanGitPassw0rd-in-the-url';
  const root = mkdtempSync(join(tmpdir(), 'slipway-scan-git-'));
  const repo = await seedGitopsRepo(root);
  // Each answer held back a little, so every git process lives long enough to be seen.
  const host = await startGitHttpServer({ root, user: 'deploy', password: PASSWORD, delayMs: 150 });
  try {
    const target: GitTarget = { url: `${host.base.replace('http://', `http://deploy:${PASSWORD}@`)}/todoapp-gitops.git`, branch: 'main', author: repo.git.author };
    const gitops = createGitopsActivities({ logger: { info: () => {}, warn: () => {} } });
    const isAncestor = createAncestryChecker({ cacheDir: join(root, 'mirrors') });
    const tag = commitSha();
    const work = (async () => {
      const before = await gitops.readOverlayImages({ git: target, overlay: '1.2/overlays/staging', imageNames: ['todoapp/frontend'] });
      const written = await gitops.writeOverlayImages({
        git: target,
        overlay: '1.2/overlays/staging',
        images: [{ name: 'todoapp/frontend', newTag: tag }],
        context: { app: 'todoapp', environment: 'staging', releaseId: `release/todoapp/${tag}`, sourceCommit: tag, kind: 'promote' },
      });
      expect(await remoteBranchHead(target)).toBe(written.commit);
      expect(await isAncestor(target, before.commit, written.commit)).toBe(true);
      return written;
    })();
    const commandLines = await gitCommandLinesDuring(work);
    expect((await work).changed).toBe(true);

    // The sampling saw git talking to this remote (clone, fetch, push, ls-remote and their remote helper)…
    const ours = commandLines.filter((line) => line.includes(host.base.slice('http://'.length)));
    console.log(`faults-secret-scan: ${commandLines.length} git command lines seen, ${ours.length} naming the remote`);
    expect(ours.some((line) => /\bclone\b/.test(line))).toBe(true);
    expect(ours.some((line) => /git-remote-https?|remote-https?/.test(line))).toBe(true);
    // …and none of them, nor any other git process, carried the credentials.
    expect(commandLines.filter((line) => line.includes(PASSWORD) || line.includes('deploy:'))).toEqual([]);
    // They reached the server all the same, as the Authorization header.
    expect(host.authorizations).toContain(`Basic ${Buffer.from(`deploy:${PASSWORD}`).toString('base64')}`);
  } finally {
    await host.close();
    await rm(root, { recursive: true, force: true });
  }
}, 120_000);

/** Each event's summary (what the Temporal UI shows for a step), for every workflow whose id includes `app`. */
async function stepSummaries(client: Client, app: string): Promise<string[]> {
  const summaries: string[] = [];
  for await (const execution of client.workflow.list()) {
    if (!execution.workflowId.includes(app)) continue;
    const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    for (const event of history.events ?? []) {
      const data = event.userMetadata?.summary?.data;
      if (data) summaries.push(Buffer.from(data).toString('utf8'));
    }
  }
  return summaries;
}

it('shows an HTTP check URL in activity summaries without its credentials or query token', async () => {
  const PROBE_PASSWORD = 'scanProbePassw0rd';
  const PROBE_TOKEN = 'scanProbeToken0123456789';
  const app = uniqueApp('scan');
  const port = (receiver.address() as { port: number }).port;
  // Run alone (vitest -t), this test starts the world and worker the first one would have.
  world ??= newWorld(app);
  world.setRules({
    ...world.rules(),
    initial: { ...world.rules().initial, 'probe/staging': imagesForCommit(IMAGES, 'old0000000000000000000000000000000000000') },
    applications: { ...world.rules().applications, [`${app}-staging`]: 'probe/staging' },
  });
  const pipeline = pipelineFromYaml(
    app,
    `
      - name: staging
        overlay: probe/staging
        argocd: { application: APP-staging, timeout: 20s }
        checks: [ { http: { url: "http://127.0.0.1:${port}/healthz?region=eu", expectStatus: 204, attempts: 1 } } ]
`,
  );
  worker ??= await startScanWorker(world);
  // slipway.yaml refuses such a URL (test/unit/config.test.ts); the worker's policy is given it
  // here past that check, as an older policy read before the refusal would have it.
  const url = `http://probe:${PROBE_PASSWORD}@127.0.0.1:${port}/healthz?region=eu&access_token=${PROBE_TOKEN}`;
  const policy = await suitePolicy().store.current();
  const check = policy.config.apps[app]!.environments[0]!.checks[0]!;
  if (!('http' in check)) throw new Error('expected the http check');
  check.http.url = url;

  const client = await testClient();
  const commit = commitSha();
  const released = await (await startRelease(client, worker!.taskQueue, pipeline, commit)).result();
  expect(released.outcome).toBe('released');

  // The check really used the credentials and the token.
  expect(probes).toContainEqual({ url: `/healthz?region=eu&access_token=${PROBE_TOKEN}`, authorization: `Basic ${Buffer.from(`probe:${PROBE_PASSWORD}`).toString('base64')}` });

  const summaries = await eventually(
    () => stepSummaries(client, app),
    (all) => all.some((s) => s.includes('/healthz')),
    30_000,
  );
  const checkSummary = summaries.find((s) => s.includes('/healthz'))!;
  expect(checkSummary).toContain(`http://***@127.0.0.1:${port}/healthz?region=eu&access_token=***`);
  expect(summaries.filter((s) => s.includes(PROBE_PASSWORD) || s.includes(PROBE_TOKEN))).toEqual([]);
}, 120_000);
