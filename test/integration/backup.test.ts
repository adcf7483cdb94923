/**
 * Scheduled backups end to end: a real PostgreSQL (infra/postgres), the suite's real Temporal dev
 * server, Temporal Schedules synced from a config, backups triggered through the server, verified
 * by restore, pruned, and restored again row for row.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema, type SlipwayConfig } from '../../config/schema.js';
import { startPostgres, type RunningPostgres } from '../../infra/postgres/index.js';
import { freePort } from '../../infra/ports.js';
import { SA_APP, SA_ENVIRONMENT } from '../../core/search-attributes.js';
import { createBackupActivities, DirectoryBackupStore } from '../../activities/backup/index.js';
import type { NotifyInput, TakeBackupInput } from '../../activities/types.js';
import { describeBackupSchedule, desiredBackupSchedules, listSchedules, syncSchedules, triggerSchedule } from '../../client/schedules.js';
import { listBackups, restoreBackup, runBackupNow } from '../../client/backups.js';
import type { BackupResult } from '../../workflows/backup.js';
import { TestPolicy } from '../support/policy.js';
import { saveHistory, startTestWorker, testClient, uniqueTaskQueue, type RunningWorker } from '../support/temporal.js';
import { withDb } from '../support/postgres.js';

const suffix = randomBytes(3).toString('hex');
const APP = `bk-${suffix}`;
const PASSWORD = `pw-${randomBytes(6).toString('hex')}`;
const SOURCE_ENV = `SLIPWAY_TEST_SRC_DB_${suffix.toUpperCase()}`;
const DOWN_ENV = `SLIPWAY_TEST_DOWN_DB_${suffix.toUpperCase()}`;
const QA_ENV = `SLIPWAY_TEST_QA_DB_${suffix.toUpperCase()}`;
const DAY = 24 * 60 * 60_000;

/** slipway.yaml for `app`, as a plain object (JSON is YAML: it is also the worker's policy file). */
function rawConfigFor(app: string, environments: Array<{ name: string; backup?: object }>): object {
  return {
    gitops: { url: 'file:///nowhere' },
    apps: {
      [app]: {
        images: ['todoapp/backend'],
        environments: environments.map((e) => ({
          name: e.name,
          overlay: `overlays/${e.name}`,
          argocd: { application: `${app}-${e.name}` },
          ...(e.backup ? { backup: e.backup } : {}),
        })),
      },
    },
  };
}

function configFor(app: string, environments: Array<{ name: string; backup?: object }>): SlipwayConfig {
  return configSchema.parse(rawConfigFor(app, environments));
}

const SOURCE_TABLES = ['public.users', 'public.todos', 'audit."Event Log"'];

async function seed(url: string): Promise<void> {
  await withDb(url, (client) => client.query(`
    DROP SCHEMA IF EXISTS audit CASCADE;
    DROP TABLE IF EXISTS todos, users CASCADE;
    CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL, email text UNIQUE);
    CREATE TABLE todos (id serial PRIMARY KEY, user_id int REFERENCES users(id), title text, done boolean, due timestamptz, meta jsonb);
    CREATE SCHEMA audit;
    CREATE TABLE audit."Event Log" (id bigserial PRIMARY KEY, what text);
    INSERT INTO users (name, email) SELECT 'user ' || g, 'u' || g || '@example.test' FROM generate_series(1, 25) g;
    INSERT INTO todos (user_id, title, done, due, meta)
      SELECT 1 + g % 25, 'todo ''' || g || ''' ✓', g % 3 = 0, timestamptz '2026-01-01 00:00+00' + g * interval '1 hour', jsonb_build_object('n', g)
      FROM generate_series(1, 400) g;
    INSERT INTO audit."Event Log" (what) VALUES ('created'), ('updated'), (NULL);
  `));
}

function dumpRows(url: string): Promise<Record<string, unknown[]>> {
  return withDb(url, async (client) => {
    const out: Record<string, unknown[]> = {};
    for (const table of SOURCE_TABLES) out[table] = (await client.query(`SELECT * FROM ${table} ORDER BY id`)).rows;
    return out;
  });
}


describe('scheduled backups on Temporal Schedules', () => {
  let postgres: RunningPostgres;
  let sourceUrl: string;
  let qaUrl: string;
  let client: Client;
  let worker: RunningWorker;
  let storeDir: string;
  let store: DirectoryBackupStore;
  const notifications: NotifyInput[] = [];
  /** Fault injection: when set, the next dump is damaged after it is stored (a bad disk, a torn upload). */
  let corruptNextDump = false;

  const environments = [
    { name: 'production', backup: { schedule: '0 3 * * *', postgres: { urlFromEnv: SOURCE_ENV }, keep: 1, catchupWindow: '10m' } },
    { name: 'staging', backup: { schedule: '30 2 * * *', postgres: { urlFromEnv: DOWN_ENV }, keep: 3 } },
    { name: 'qa', backup: { schedule: '0 4 * * *', postgres: { urlFromEnv: QA_ENV }, keep: 1 } },
    // The same database as qa; its policy keeps every verified backup of the last day, whatever `keep` says.
    { name: 'twins', backup: { schedule: '0 5 * * *', postgres: { urlFromEnv: QA_ENV }, keep: 1, keepDays: 1 } },
  ];
  const config = configFor(APP, environments);
  // The worker's policy is the same slipway.yaml: its guard lets the backup activities use these database variables.
  const policy = TestPolicy.fromText(JSON.stringify(rawConfigFor(APP, environments)));

  beforeAll(async () => {
    postgres = await startPostgres({ password: PASSWORD });
    await withDb(postgres.url, (c) => c.query('CREATE DATABASE todo_source'));
    sourceUrl = postgres.url.replace(/\/postgres$/, '/todo_source');
    await seed(sourceUrl);
    // Nothing listens on this port: the database of "staging" is down.
    process.env[DOWN_ENV] = `postgresql://postgres:${PASSWORD}@127.0.0.1:${await freePort()}/gone`;
    process.env[SOURCE_ENV] = sourceUrl;
    await withDb(postgres.url, (c) => c.query('CREATE DATABASE todo_qa'));
    qaUrl = postgres.url.replace(/\/postgres$/, '/todo_qa');
    await seed(qaUrl);
    process.env[QA_ENV] = qaUrl;

    storeDir = await mkdtemp(join(tmpdir(), 'slipway-backups-'));
    store = new DirectoryBackupStore(storeDir);
    const backups = createBackupActivities({ store });
    client = await testClient();
    worker = await startTestWorker(
      {
        ...backups,
        async takeBackup(input: TakeBackupInput) {
          const taken = await backups.takeBackup(input);
          if (corruptNextDump) {
            corruptNextDump = false;
            const path = store.dumpPath({ app: input.app, environment: input.environment, id: input.backupId });
            const bytes = await readFile(path);
            bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
            await writeFile(path, bytes);
          }
          return taken;
        },
        async notify(input: NotifyInput) {
          notifications.push(input);
          return { delivered: input.channels.length, failed: 0 };
        },
      },
      undefined,
      policy.store,
    );
  });

  afterAll(async () => {
    // Leave no schedules behind on the shared server.
    if (client && worker) await syncSchedules(client, configFor(APP, [{ name: 'production' }]), worker.taskQueue).catch(() => undefined);
    await worker?.stop();
    await client?.connection.close();
    await postgres?.stop();
    if (storeDir) await rm(storeDir, { recursive: true, force: true });
    delete process.env[SOURCE_ENV];
    delete process.env[DOWN_ENV];
    delete process.env[QA_ENV];
  });

  /** The history as text with every payload decoded, so a secret cannot hide in base64. */
  async function readableHistory(workflowId: string): Promise<string> {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const decoded: string[] = [];
    JSON.stringify(history, (key, value: unknown) => {
      if (key === 'data' && typeof value === 'string') decoded.push(Buffer.from(value, 'base64').toString('utf8'));
      return value;
    });
    expect(decoded.length).toBeGreaterThan(3);
    return `${JSON.stringify(history)}\n${decoded.join('\n')}`;
  }

  async function triggerAndWait(environment: string): Promise<{ workflowId: string; result: Promise<BackupResult> }> {
    const { workflowId, runId } = await triggerSchedule(client, APP, environment);
    return { workflowId, result: client.workflow.getHandle<() => Promise<BackupResult>>(workflowId, runId).result() };
  }

  it('syncs schedules from config, and a triggered run backs up, verifies, and restores row for row', async () => {
    const report = await syncSchedules(client, config, worker.taskQueue);
    expect(report.created.sort()).toEqual([`backup/${APP}/production`, `backup/${APP}/qa`, `backup/${APP}/staging`, `backup/${APP}/twins`]);

    const info = await describeBackupSchedule(client, APP, 'production');
    expect(info.paused).toBe(false);
    expect(info.cron).toBe('0 3 * * *');
    expect(info.nextRuns[0]!.getUTCHours()).toBe(3);
    const raw = await client.schedule.getHandle(`backup/${APP}/production`).describe();
    expect(raw.policies.overlap).toBe('SKIP');
    expect(raw.policies.catchupWindow).toBe(10 * 60_000);

    const { workflowId, result } = await triggerAndWait('production');
    expect(workflowId.startsWith(`backup/${APP}/production-`)).toBe(true);
    const outcome = await result;
    expect(outcome).toMatchObject({ tables: 3, rows: 25 + 400 + 3, deleted: [] });

    const handle = client.workflow.getHandle(workflowId);
    const description = await handle.describe();
    expect(description.typedSearchAttributes.get(SA_APP)).toBe(APP);
    expect(description.typedSearchAttributes.get(SA_ENVIRONMENT)).toBe('production');
    // The URL and its password live on the worker only: not in the inputs, not in the history.
    const history = await readableHistory(workflowId);
    expect(history).not.toContain(PASSWORD);
    expect(history).not.toContain(sourceUrl);
    expect(history).toContain(SOURCE_ENV);

    const listed = await listBackups(store, APP, 'production');
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id: outcome.backupId, verified: true, tables: 3, rows: 428 });
    expect(notifications.some((n) => n.event.kind === 'backup-succeeded' && n.event.workflowId === workflowId)).toBe(true);
    await saveHistory(client, 'backup-success', workflowId);

    // Restore into a new database on the same server and compare every row of every table.
    const restoredUrl = postgres.url.replace(/\/postgres$/, '/todo_restored');
    const restored = await restoreBackup({ store, app: APP, environment: 'production', intoUrl: restoredUrl });
    expect(restored).toMatchObject({ backupId: outcome.backupId, tables: 3, rows: 428 });
    expect(await dumpRows(restoredUrl)).toEqual(await dumpRows(sourceUrl));

    // The restored database is no longer empty: a second restore into it needs force.
    await expect(restoreBackup({ store, app: APP, environment: 'production', intoUrl: restoredUrl })).rejects.toThrow(/not empty.*--force/);
    await withDb(restoredUrl, (c) => c.query('DELETE FROM todos WHERE id > 10'));
    await restoreBackup({ store, app: APP, environment: 'production', intoUrl: restoredUrl, force: true });
    expect(await dumpRows(restoredUrl)).toEqual(await dumpRows(sourceUrl));

    // No scratch database is left behind by verification.
    const leftovers = await withDb(postgres.url, (c) => c.query(`SELECT datname FROM pg_database WHERE datname LIKE 'slipway_verify_%'`));
    expect(leftovers.rows).toEqual([]);
  });

  it('a corrupted backup fails verification, never counts, and retention keeps the last verified one', async () => {
    const [good] = await listBackups(store, APP, 'production');
    expect(good?.verified).toBe(true);

    corruptNextDump = true;
    const bad = await triggerAndWait('production');
    const failure = await bad.result.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(String((failure as WorkflowFailedError).cause?.message)).toMatch(/failed while verifying it: .* is corrupt: its sha256 is/);

    let listed = await listBackups(store, APP, 'production');
    expect(listed).toHaveLength(2);
    const corrupt = listed.find((b) => b.id !== good!.id)!;
    expect(corrupt).toMatchObject({ verified: false });
    expect(corrupt.problem).toMatch(/corrupt/);
    expect(listed.find((b) => b.id === good!.id)?.verified).toBe(true);
    expect(notifications.some((n) => n.event.kind === 'backup-failed' && n.event.workflowId === bad.workflowId)).toBe(true);
    await saveHistory(client, 'backup-verify-failed', bad.workflowId);

    // Restoring "the newest" skips the corrupt one; asking for it by id is refused.
    await expect(
      restoreBackup({ store, app: APP, environment: 'production', backupId: corrupt.id, intoUrl: postgres.url.replace(/\/postgres$/, '/never') }),
    ).rejects.toThrow(/not verified/);

    // The next good run (keep: 1) replaces the old verified backup; the corrupt one never counted as "kept".
    const next = await triggerAndWait('production');
    const outcome = await next.result;
    expect(outcome.deleted).toEqual([good!.id]);
    expect(outcome.kept).toContain(outcome.backupId);
    listed = await listBackups(store, APP, 'production');
    expect(listed.filter((b) => b.verified).map((b) => b.id)).toEqual([outcome.backupId]);
  });

  it('with the database down the run fails with a clear message and the schedule stays active', async () => {
    const { workflowId, result } = await triggerAndWait('staging');
    const failure = await result.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const message = String((failure as WorkflowFailedError).cause?.message);
    expect(message).toMatch(new RegExp(`backup of ${APP}/staging failed while taking the dump: cannot reach the database at 127\\.0\\.0\\.1:\\d+/gone \\(URL from ${DOWN_ENV}\\)`));
    expect(message).toMatch(/connection refused/);
    expect(message).not.toContain(PASSWORD);
    const history = await readableHistory(workflowId);
    expect(history).toContain(DOWN_ENV);
    expect(history).not.toContain(PASSWORD);
    await saveHistory(client, 'backup-dump-failed', workflowId);

    const schedule = await describeBackupSchedule(client, APP, 'staging');
    expect(schedule.paused).toBe(false);
    expect(schedule.nextRuns.length).toBeGreaterThan(0);
    expect(await listBackups(store, APP, 'staging')).toEqual([]);
  });

  it('runs a backup by hand through the same workflow, and a retried dump with the same id replaces its own file', async () => {
    const before = (await listBackups(store, APP, 'production')).filter((b) => b.verified);
    const { workflowId, result } = await runBackupNow(client, config, APP, 'production', worker.taskQueue);
    expect(workflowId).toMatch(new RegExp(`^backup/${APP}/production-manual-`));
    expect(result.deleted).toEqual(before.map((b) => b.id)); // keep: 1

    // The activity again with the id of the run that just finished: same backup, one dump, no leftovers.
    const activities = createBackupActivities({ store });
    const again = await activities.takeBackup({ app: APP, environment: 'production', databaseUrlFromEnv: SOURCE_ENV, backupId: result.backupId });
    expect(again.rows).toBe(result.rows);
    const files = await readdir(join(storeDir, APP, 'production'));
    expect(files.filter((f) => f.startsWith(result.backupId)).sort()).toEqual([`${result.backupId}.dump`, `${result.backupId}.manifest.json`]);
    expect(files.some((f) => f.includes('.partial-'))).toBe(false);
  });

  it('a forced restore that fails partway leaves the target database exactly as it was', async () => {
    const targetUrl = postgres.url.replace(/\/postgres$/, '/todo_partial');
    await (await triggerAndWait('production')).result;
    await restoreBackup({ store, app: APP, environment: 'production', intoUrl: targetUrl });
    // Live changes since the backup, and an object the backup does not know that depends on one of
    // its tables: dropping that table fails, after the restore has already dropped others.
    await withDb(targetUrl, (c) =>
      c.query(`
        DELETE FROM todos WHERE id > 100;
        UPDATE users SET name = 'changed after the backup' WHERE id = 1;
        CREATE VIEW audit.recent_events AS SELECT what FROM audit."Event Log";
      `),
    );
    const before = await dumpRows(targetUrl);
    const constraints = (url: string) =>
      withDb(url, async (c) => (await c.query(`SELECT conname FROM pg_constraint WHERE connamespace::regnamespace::text IN ('public', 'audit') ORDER BY 1`)).rows);
    const constraintsBefore = await constraints(targetUrl);
    expect(constraintsBefore.length).toBeGreaterThan(2);

    await expect(restoreBackup({ store, app: APP, environment: 'production', intoUrl: targetUrl, force: true })).rejects.toThrow(
      /restoring backup .* into .*todo_partial failed: .*depend/,
    );
    expect(await dumpRows(targetUrl)).toEqual(before);
    expect(await constraints(targetUrl)).toEqual(constraintsBefore);
    expect((await withDb(targetUrl, (c) => c.query('SELECT count(*)::int AS n FROM audit.recent_events'))).rows[0].n).toBe(3);
  });

  /** The newest backup of an environment in the store, and its manifest. */
  async function newestBackup(environment: string) {
    const [newest] = await store.list(APP, environment);
    expect(newest?.manifest).toBeDefined();
    return newest!.manifest!;
  }

  it('a backup of an emptied database is flagged, never verified, and the last verified backup survives retention', async () => {
    const good = await (await triggerAndWait('qa')).result;
    expect(good).toMatchObject({ tables: 3, rows: 428 });

    await withDb(qaUrl, (c) => c.query('TRUNCATE users, todos, audit."Event Log"'));
    const emptied = await triggerAndWait('qa');
    const failure = await emptied.result.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(String((failure as WorkflowFailedError).cause?.message)).toMatch(/backup \S+ of .*\/qa is flagged, not verified: the database is empty/);

    const flagged = await newestBackup('qa');
    expect(flagged.id).not.toBe(good.backupId);
    expect(flagged).toMatchObject({ verified: false, flagged: expect.stringMatching(/empty/) });
    // keep: 1, and the flagged backup never counts: the backup from before the wipe is still there and verified.
    const listed = await listBackups(store, APP, 'qa');
    expect(listed.map((b) => [b.id, b.verified])).toEqual([
      [flagged.id, false],
      [good.backupId, true],
    ]);
    expect(listed[0]!.problem).toMatch(/flagged/);
    const told = notifications.filter((n) => n.event.workflowId === emptied.workflowId).map((n) => n.event);
    expect(told).toContainEqual(expect.objectContaining({ kind: 'backup-failed', message: expect.stringMatching(/flagged, not verified: the database is empty/) }));
    await saveHistory(client, 'backup-flagged', emptied.workflowId);
  });

  it('a backup whose total row count shrank by more than maxShrink since the last verified one is flagged', async () => {
    await seed(qaUrl);
    const full = await (await triggerAndWait('qa')).result;
    expect(full.rows).toBe(428);

    await withDb(qaUrl, (c) => c.query('DELETE FROM todos WHERE id > 50'));
    const shrunk = await triggerAndWait('qa');
    const failure = await shrunk.result.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(String((failure as WorkflowFailedError).cause?.message)).toMatch(
      new RegExp(`flagged, not verified: the database shrank from 428 to 78 rows \\(-82%\\) since backup ${full.backupId}`),
    );
    expect(await newestBackup('qa')).toMatchObject({ verified: false, flagged: expect.stringMatching(/shrank/) });
    const verified = (await listBackups(store, APP, 'qa')).filter((b) => b.verified).map((b) => b.id);
    expect(verified).toEqual([full.backupId]);

    // A shrink within the allowed fraction is an ordinary verified backup.
    await seed(qaUrl);
    await withDb(qaUrl, (c) => c.query('DELETE FROM todos WHERE id > 300'));
    const smaller = await (await triggerAndWait('qa')).result;
    expect(smaller.rows).toBe(25 + 300 + 3);
  });

  it('two runs started in the same second take two backups, and keepDays from the policy keeps both', async () => {
    // The input is what the schedule was synced with (keep: 1, no keepDays); the worker's policy says keepDays: 1.
    const { input } = desiredBackupSchedules(config).find((d) => d.environment === 'twins')!;
    expect(input).toMatchObject({ keep: 1 });
    const start = (n: string) => client.workflow.start('backup', { workflowId: `backup/${APP}/twins-${n}`, taskQueue: worker.taskQueue, args: [input] });
    // Start pairs until one pair shares its start second (a pair rarely straddles a second).
    for (let attempt = 0; ; attempt++) {
      const [a, b] = await Promise.all([start(`${attempt}a`), start(`${attempt}b`)]);
      const [da, db] = await Promise.all([a.describe(), b.describe()]);
      const [ra, rb] = (await Promise.all([a.result(), b.result()])) as BackupResult[];
      if (Math.floor(da.startTime.getTime() / 1000) !== Math.floor(db.startTime.getTime() / 1000)) {
        expect(attempt).toBeLessThan(5);
        continue;
      }
      expect(ra!.backupId).not.toBe(rb!.backupId);
      const listed = (await listBackups(store, APP, 'twins')).filter((l) => l.verified).map((l) => l.id);
      expect(listed).toEqual(expect.arrayContaining([ra!.backupId, rb!.backupId]));
      expect([...ra!.deleted, ...rb!.deleted]).toEqual([]);
      break;
    }
  });

  /** A verified backup as the store records it (a manifest, no dump): what the freshness check reads. */
  async function recordVerified(environment: string, takenAt: Date): Promise<string> {
    const id = `${takenAt.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(4).toString('hex')}`;
    await store.writeManifest({
      formatVersion: 1, app: APP, environment, id, takenAt: takenAt.toISOString(), database: 'gone', serverVersion: '15',
      pgDumpVersion: 'pg_dump (PostgreSQL) 15', format: 'pg_dump-custom', size: 1, sha256: 'x', tables: { 'public.t': 1 }, verified: true,
    });
    return id;
  }

  it('a schedule whose last two runs produced no verified backup alerts through notify; one missed run does not', async () => {
    // staging runs daily and its database is down. Its newest verified backup is three days old.
    const old = await recordVerified('staging', new Date(Date.now() - 3 * DAY));
    const late = await triggerAndWait('staging');
    await expect(late.result).rejects.toThrow();
    const lateMessages = notifications.filter((n) => n.event.workflowId === late.workflowId).map((n) => n.event.message);
    expect(lateMessages).toEqual([
      expect.stringMatching(/failed while taking the dump/),
      expect.stringMatching(new RegExp(`no verified backup of ${APP}/staging since .* \\(${old}\\): the runs scheduled at .* and .* \\(30 2 \\* \\* \\* UTC\\) produced none`)),
    ]);
    expect(notifications.find((n) => n.event.message === lateMessages[1])?.event.kind).toBe('backup-failed');
    await saveHistory(client, 'backup-overdue', late.workflowId);

    // A verified backup from the run before this one: a single failed run is within twice the period.
    const recent = await recordVerified('staging', new Date(Date.now() - 60_000));
    const once = await triggerAndWait('staging');
    await expect(once.result).rejects.toThrow();
    expect(notifications.filter((n) => n.event.workflowId === once.workflowId).map((n) => n.event.message)).toEqual([
      expect.stringMatching(/failed while taking the dump/),
    ]);
    for (const id of [old, recent]) await store.delete({ app: APP, environment: 'staging', id });
  });

  it('syncSchedules is idempotent, applies changes, and removes a schedule whose backup: is gone', async () => {
    const queue = uniqueTaskQueue('backup-sync');
    const app = `bk-sync-${suffix}`;
    const backupBlock = { schedule: '15 4 * * *', postgres: { urlFromEnv: 'SOME_DB_URL' }, keep: 5 };
    const both = configFor(app, [
      { name: 'staging', backup: backupBlock },
      { name: 'production', backup: backupBlock },
    ]);
    try {
      expect(await syncSchedules(client, both, queue)).toEqual({
        created: [`backup/${app}/staging`, `backup/${app}/production`],
        updated: [],
        deleted: [],
        unchanged: [],
      });
      expect(await syncSchedules(client, both, queue)).toEqual({
        created: [],
        updated: [],
        deleted: [],
        unchanged: [`backup/${app}/staging`, `backup/${app}/production`],
      });

      // A changed cron is applied in place, and a person's pause survives it.
      await client.schedule.getHandle(`backup/${app}/staging`).pause('maintenance');
      const changed = configFor(app, [
        { name: 'staging', backup: { ...backupBlock, schedule: '45 5 * * *' } },
        { name: 'production', backup: backupBlock },
      ]);
      expect(await syncSchedules(client, changed, queue)).toMatchObject({ updated: [`backup/${app}/staging`], unchanged: [`backup/${app}/production`] });
      const staging = await describeBackupSchedule(client, app, 'staging');
      expect(staging).toMatchObject({ cron: '45 5 * * *', paused: true });
      expect(await syncSchedules(client, changed, queue)).toMatchObject({ updated: [], created: [] });

      // The schedule list is eventually consistent: wait until the server lists both before removing one.
      await expect.poll(async () => (await listSchedules(client, queue)).length, { timeout: 15_000 }).toBe(2);
      const withoutProduction = configFor(app, [{ name: 'staging', backup: { ...backupBlock, schedule: '45 5 * * *' } }, { name: 'production' }]);
      expect(await syncSchedules(client, withoutProduction, queue)).toEqual({
        created: [],
        updated: [],
        deleted: [`backup/${app}/production`],
        unchanged: [`backup/${app}/staging`],
      });
      await expect(describeBackupSchedule(client, app, 'production')).rejects.toThrow(/no backup schedule/);
      // Another owner's schedules (here: the first test's task queue) are not touched.
      expect((await describeBackupSchedule(client, APP, 'production')).paused).toBe(false);
    } finally {
      await syncSchedules(client, configFor(app, [{ name: 'staging' }]), queue);
    }
  });
});

describe('startPostgres', () => {
  it('starts a server that answers, and stop() leaves no process and no folder behind', async () => {
    const server = await startPostgres();
    const version = await withDb(server.url, (c) => c.query<{ v: string }>('SELECT version() AS v'));
    expect(version.rows[0]!.v).toMatch(/^PostgreSQL \d+/);
    expect(existsSync(join(server.dataDir, 'postmaster.pid'))).toBe(true);
    await server.stop();
    expect(existsSync(server.dataDir)).toBe(false);
    const processes = execFileSync('ps', ['-eo', 'stat=,args='], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.includes(server.dataDir) && !line.trim().startsWith('Z'));
    expect(processes).toEqual([]);
    await expect(withDb(server.url, (c) => c.query('SELECT 1'))).rejects.toThrow(/ECONNREFUSED/);
  });
});
