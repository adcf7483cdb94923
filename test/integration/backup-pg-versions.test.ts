/**
 * Backups against the versions and servers they meet in a deployment: a pg_dump older than the
 * server is refused before anything is dumped, and verification restores on a scratch server of
 * its own when the policy names one — so the source's credential only has to read. Two real
 * PostgreSQL servers (infra/postgres): the source, and the scratch server verification uses.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackupActivities, DirectoryBackupStore, scratchDatabaseName, type BackupRef } from '../../activities/backup/index.js';
import type { NotifyInput } from '../../activities/types.js';
import { configSchema } from '../../config/schema.js';
import { startPostgres, type RunningPostgres } from '../../infra/postgres/index.js';
import { runBackupNow } from '../../client/backups.js';
import { TestPolicy } from '../support/policy.js';
import { saveHistory, startTestWorker, testClient, type RunningWorker } from '../support/temporal.js';
import { withDb } from '../support/postgres.js';

const suffix = randomBytes(3).toString('hex');
const APP = `bkv-${suffix}`;
const SOURCE_PASSWORD = `src-${randomBytes(6).toString('hex')}`;
const READER_PASSWORD = `rd-${randomBytes(6).toString('hex')}`;
const SCRATCH_PASSWORD = `scr-${randomBytes(6).toString('hex')}`;
/** The source database as its owner (a superuser) reaches it. */
const ADMIN_ENV = `SLIPWAY_TEST_ADMIN_DB_${suffix.toUpperCase()}`;
/** The source database as a backup credential that may only read: no CREATEDB, no DROP. */
const READER_ENV = `SLIPWAY_TEST_READER_DB_${suffix.toUpperCase()}`;
/** The scratch server verification restores on. */
const SCRATCH_ENV = `SLIPWAY_TEST_SCRATCH_DB_${suffix.toUpperCase()}`;
const ROWS = { 'public.customers': 12, 'public.orders': 240 };


const scratchDatabasesOn = (url: string) =>
  withDb(url, async (c) => (await c.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'slipway_verify_%' ORDER BY 1`)).rows.map((r) => r.datname));

const majorOf = (url: string) => withDb(url, async (c) => Math.floor(Number((await c.query<{ server_version_num: string }>('SHOW server_version_num')).rows[0]!.server_version_num) / 10000));

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const outcome = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(outcome, 'expected the call to fail').toBeInstanceOf(ApplicationFailure);
  return outcome as ApplicationFailure;
}

describe('backups across PostgreSQL versions and servers', () => {
  let source: RunningPostgres;
  let scratch: RunningPostgres;
  let env: NodeJS.ProcessEnv;
  let storeDir: string;
  let sourceMajor: number;

  /**
   * A directory store that looks at both servers whenever verification asks it for earlier
   * backups — which it does after restoring and counting, while the scratch database still exists.
   */
  class WatchedStore extends DirectoryBackupStore {
    readonly seen: Array<{ onScratch: string[]; onSource: string[]; restoredOrders?: number }> = [];

    override async list(app: string, environment: string) {
      const onScratch = await scratchDatabasesOn(scratch.url);
      const onSource = await scratchDatabasesOn(source.url);
      const restoredOrders =
        onScratch.length === 1
          ? await withDb(scratch.url.replace(/\/postgres$/, `/${onScratch[0]}`), async (c) => Number((await c.query('SELECT count(*) AS n FROM orders')).rows[0].n))
          : undefined;
      this.seen.push({ onScratch, onSource, ...(restoredOrders !== undefined ? { restoredOrders } : {}) });
      return super.list(app, environment);
    }
  }

  const freshStore = async () => {
    const dir = await mkdtemp(join(storeDir, 'store-'));
    return new WatchedStore(dir);
  };
  const ref = (environment: string, id: string): BackupRef => ({ app: APP, environment, id });
  const newId = () => `20260301T030000Z-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    [source, scratch] = await Promise.all([startPostgres({ password: SOURCE_PASSWORD }), startPostgres({ password: SCRATCH_PASSWORD })]);
    await withDb(source.url, async (c) => {
      await c.query('CREATE DATABASE shop');
      await c.query(`CREATE ROLE backup_reader LOGIN NOCREATEDB PASSWORD '${READER_PASSWORD}'`);
      await c.query('GRANT pg_read_all_data TO backup_reader');
    });
    const shopUrl = source.url.replace(/\/postgres$/, '/shop');
    await withDb(shopUrl, (c) =>
      c.query(`
        CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL);
        CREATE TABLE orders (id serial PRIMARY KEY, customer_id int REFERENCES customers(id), total numeric(10, 2));
        INSERT INTO customers (name) SELECT 'customer ' || g FROM generate_series(1, ${ROWS['public.customers']}) g;
        INSERT INTO orders (customer_id, total) SELECT 1 + g % ${ROWS['public.customers']}, g * 1.5 FROM generate_series(1, ${ROWS['public.orders']}) g;
      `),
    );
    env = {
      ...process.env,
      [ADMIN_ENV]: shopUrl,
      [READER_ENV]: `postgresql://backup_reader:${READER_PASSWORD}@127.0.0.1:${source.port}/shop`,
      [SCRATCH_ENV]: scratch.url,
    };
    sourceMajor = await majorOf(source.url);
    storeDir = await mkdtemp(join(tmpdir(), 'slipway-backup-versions-'));
  });

  afterAll(async () => {
    await Promise.all([source?.stop(), scratch?.stop()]);
    if (storeDir) await rm(storeDir, { recursive: true, force: true });
  });

  it('refuses to dump with a pg_dump older than the server, naming both versions and the binary, before anything reaches the store', async () => {
    // An older client program: it answers --version as PostgreSQL 9.6 does, and fails loudly if asked to dump.
    const binDir = await mkdtemp(join(storeDir, 'old-pg-bin-'));
    const oldPgDump = join(binDir, 'pg_dump');
    await writeFile(
      oldPgDump,
      '#!/bin/sh\nif [ "$1" = "--version" ]; then echo "pg_dump (PostgreSQL) 9.6.0"; exit 0; fi\necho "an old pg_dump was asked to dump: $*" >&2\nexit 97\n',
    );
    await chmod(oldPgDump, 0o755);
    const store = await freshStore();
    const activities = createBackupActivities({ store, env: { ...env, SLIPWAY_PG_BIN: binDir } });

    const failure = await failureOf(activities.takeBackup({ app: APP, environment: 'production', databaseUrlFromEnv: ADMIN_ENV, backupId: newId() }));
    expect(failure.type).toBe('PgDumpTooOld');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(`pg_dump at ${oldPgDump} is PostgreSQL 9.6`);
    expect(failure.message).toContain(`runs PostgreSQL ${sourceMajor}`);
    expect(failure.message).toContain(`127.0.0.1:${source.port}/shop`);
    expect(failure.message).toContain(`postgresql-client-${sourceMajor}`);
    expect(failure.message).toContain('SLIPWAY_PG_BIN');
    expect(failure.message).not.toMatch(/asked to dump/);
    expect(failure.message).not.toContain(SOURCE_PASSWORD);

    // Nothing was dumped or stored: no dump, no manifest, not even the environment's folder.
    expect(await store.list(APP, 'production')).toEqual([]);
    expect(existsSync(join(store.root, APP))).toBe(false);
  });

  it('verifies on the scratch server the policy names: the scratch database is there and never on the source, and the manifest says where', async () => {
    const store = await freshStore();
    const activities = createBackupActivities({ store, env });
    const id = newId();
    // The backup credential can only read: with a scratch server of its own, that is all verification needs.
    const taken = await activities.takeBackup({ app: APP, environment: 'production', databaseUrlFromEnv: READER_ENV, backupId: id });
    expect(taken).toMatchObject({ tables: 2, rows: 252 });

    const verified = await activities.verifyBackup({
      app: APP,
      environment: 'production',
      databaseUrlFromEnv: READER_ENV,
      backupId: id,
      verifyUrlFromEnv: SCRATCH_ENV,
    });
    const where = `scratch server 127.0.0.1:${scratch.port}`;
    expect(verified).toEqual({ tables: 2, rows: 252, verifiedOn: where });

    // While verification ran, its scratch database held the restored rows on the scratch server; the source never had one.
    expect(store.seen).toEqual([{ onScratch: [scratchDatabaseName(ref('production', id))], onSource: [], restoredOrders: ROWS['public.orders'] }]);
    expect(await scratchDatabasesOn(scratch.url)).toEqual([]);
    expect(await scratchDatabasesOn(source.url)).toEqual([]);

    const manifestText = await readFile(join(store.root, APP, 'production', `${id}.manifest.json`), 'utf8');
    expect(JSON.parse(manifestText)).toMatchObject({ verifiedOn: where, serverVersion: expect.stringMatching(new RegExp(`^${sourceMajor}\\.`)) });
    expect(manifestText).not.toContain(SCRATCH_PASSWORD);
    expect(manifestText).not.toContain(READER_PASSWORD);

    // Recording the verdict keeps where it ran.
    await activities.recordBackupVerification({ app: APP, environment: 'production', backupId: id, verified: true });
    expect(await store.readManifest(ref('production', id))).toMatchObject({ verified: true, verifiedOn: where });
  });

  it('without a scratch server it verifies on the source server and says so; a read-only credential then cannot, and is told why', async () => {
    const store = await freshStore();
    const activities = createBackupActivities({ store, env });
    const id = newId();
    await activities.takeBackup({ app: APP, environment: 'staging', databaseUrlFromEnv: ADMIN_ENV, backupId: id });
    const verified = await activities.verifyBackup({ app: APP, environment: 'staging', databaseUrlFromEnv: ADMIN_ENV, backupId: id });
    const where = `the source server 127.0.0.1:${source.port}`;
    expect(verified).toEqual({ tables: 2, rows: 252, verifiedOn: where });
    expect(store.seen).toEqual([{ onScratch: [], onSource: [scratchDatabaseName(ref('staging', id))] }]);
    expect(await store.readManifest(ref('staging', id))).toMatchObject({ verifiedOn: where });

    // On the source server the backup credential needs CREATEDB: without it, the failure says what to do.
    const readOnly = newId();
    await activities.takeBackup({ app: APP, environment: 'staging', databaseUrlFromEnv: READER_ENV, backupId: readOnly });
    const failure = await failureOf(activities.verifyBackup({ app: APP, environment: 'staging', databaseUrlFromEnv: READER_ENV, backupId: readOnly }));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/permission denied to create database/);
    expect(failure.message).toMatch(/CREATEDB/);
    expect(failure.message).toMatch(/backup\.verify\.postgres\.urlFromEnv/);
    expect(failure.message).not.toContain(READER_PASSWORD);
    expect(await scratchDatabasesOn(source.url)).toEqual([]);
  });

  it('refuses a scratch server older than the server the dump came from, naming both, before creating anything there', async () => {
    const store = await freshStore();
    const activities = createBackupActivities({ store, env });
    const id = newId();
    await activities.takeBackup({ app: APP, environment: 'qa', databaseUrlFromEnv: ADMIN_ENV, backupId: id });
    // The dump as a newer server would have recorded it (one Debian release has one major here).
    const manifest = (await store.readManifest(ref('qa', id)))!;
    await store.writeManifest({ ...manifest, serverVersion: '99.1 (Debian 99.1-1)' });

    const failure = await failureOf(activities.verifyBackup({ app: APP, environment: 'qa', databaseUrlFromEnv: ADMIN_ENV, backupId: id, verifyUrlFromEnv: SCRATCH_ENV }));
    expect(failure.type).toBe('ScratchServerTooOld');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('PostgreSQL 99');
    expect(failure.message).toContain(`runs PostgreSQL ${await majorOf(scratch.url)}`);
    expect(failure.message).toContain(`scratch server 127.0.0.1:${scratch.port} (URL from ${SCRATCH_ENV})`);
    expect(failure.message).not.toContain(SCRATCH_PASSWORD);
    expect(store.seen).toEqual([]);
    expect(await scratchDatabasesOn(scratch.url)).toEqual([]);
    expect(await scratchDatabasesOn(source.url)).toEqual([]);
  });

  describe('through the backup workflow', () => {
    let client: Client;
    let worker: RunningWorker;
    let store: WatchedStore;
    const notifications: NotifyInput[] = [];
    const raw = {
      gitops: { url: 'file:///nowhere' },
      apps: {
        [APP]: {
          images: ['shop/backend'],
          environments: [
            {
              name: 'production',
              overlay: 'overlays/production',
              argocd: { application: `${APP}-production` },
              backup: { schedule: '0 3 * * *', postgres: { urlFromEnv: READER_ENV }, verify: { postgres: { urlFromEnv: SCRATCH_ENV } }, keep: 2 },
            },
          ],
        },
      },
    };

    beforeAll(async () => {
      store = await freshStore();
      client = await testClient();
      const activities = {
        ...createBackupActivities({ store, env }),
        // The policy's channel is `log`; what the run tells is kept here.
        async notify(input: NotifyInput) {
          notifications.push(input);
          return { delivered: input.channels.length, failed: 0 };
        },
      };
      worker = await startTestWorker(activities, undefined, TestPolicy.fromText(JSON.stringify(raw)).store);
    });

    afterAll(async () => {
      await worker?.stop();
      await client?.connection.close();
    });

    it("takes the scratch server from the worker's policy: the run verifies there with a read-only source credential, and no URL enters the history", async () => {
      const { workflowId, result } = await runBackupNow(client, configSchema.parse(raw), APP, 'production', worker.taskQueue);
      expect(result).toMatchObject({ tables: 2, rows: 252 });
      const where = `scratch server 127.0.0.1:${scratch.port}`;
      expect(await store.readManifest(ref('production', result.backupId))).toMatchObject({ verified: true, verifiedOn: where });
      expect(store.seen.filter((s) => s.onScratch.length > 0)).toEqual([
        { onScratch: [scratchDatabaseName(ref('production', result.backupId))], onSource: [], restoredOrders: ROWS['public.orders'] },
      ]);
      expect(store.seen.every((s) => s.onSource.length === 0)).toBe(true);

      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      const decoded: string[] = [];
      JSON.stringify(history, (key, value: unknown) => {
        if (key === 'data' && typeof value === 'string') decoded.push(Buffer.from(value, 'base64').toString('utf8'));
        return value;
      });
      const text = decoded.join('\n');
      expect(text).toContain(SCRATCH_ENV);
      expect(text).toContain(where);
      for (const secret of [SCRATCH_PASSWORD, READER_PASSWORD, String(env[SCRATCH_ENV])]) expect(text).not.toContain(secret);
      expect(notifications.map((n) => n.event.kind)).toEqual(['backup-succeeded']);
      await saveHistory(client, 'backup-verify-scratch-server', workflowId);
      expect((await readdir(join(store.root, APP, 'production'))).sort()).toEqual([`${result.backupId}.dump`, `${result.backupId}.manifest.json`]);
    });
  });
});
