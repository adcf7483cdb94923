/**
 * Backups in an S3-compatible object store, against a real one: versitygw v1.8.0 (infra/s3),
 * which this file starts on loopback in beforeAll (it answers in well under a second), spoken to
 * through @aws-sdk/client-s3. First the store alone: streamed multi-MB round trips in one put and
 * in parts, manifests, newest-first listings with stray keys skipped, idempotent deletes, and the
 * errors of a wrong secret, an unknown key, a missing bucket and a server that never answers.
 * The store's tests need nothing else (`-t 'real S3-compatible'` runs only them, Temporal off). Then the backup
 * workflow onto the bucket end to end: a real PostgreSQL, the suite's Temporal dev server (the file
 * as a whole needs Temporal, not the cluster: SLIPWAY_TEST_CLUSTER=off is enough), a worker
 * whose backup activities come from its environment, and the CLI run as a person runs it with
 * that same environment, listing and restoring what the worker stored.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, ListMultipartUploadsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultBackupActivities, S3BackupStore, s3ConfigFromEnv, type BackupManifest, type S3StoreConfig } from '../../activities/backup/index.js';
import type { NotifyInput } from '../../activities/types.js';
import { startPostgres, type RunningPostgres } from '../../infra/postgres/index.js';
import { TestPolicy } from '../support/policy.js';
import { startTestS3, type TestS3 } from '../support/s3.js';
import { startTestWorker, temporalAddress, testClient, workersOfThisFile } from '../support/temporal.js';
import { runCliFromSource, type CliRun } from '../support/cli-from-source.js';
import { queryRows } from '../support/postgres.js';

const MiB = 1024 * 1024;
const suffix = randomBytes(3).toString('hex');

/** Bytes that differ at every position mod a prime, so a shifted or truncated copy cannot compare equal. */
function pattern(size: number, seed: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed) % 251;
  return bytes;
}

function manifestFor(app: string, environment: string, id: string, takenAt: string): BackupManifest {
  return {
    formatVersion: 1, app, environment, id, takenAt, database: 'todo', serverVersion: '17', pgDumpVersion: 'pg_dump (PostgreSQL) 17',
    format: 'pg_dump-custom', size: 3, sha256: 'x', tables: { 'public.todos': 3 }, verified: true,
  };
}

describe('S3BackupStore on a real S3-compatible server (versitygw)', () => {
  let s3: TestS3;
  let root: S3Client;
  let dir: string;
  let config: S3StoreConfig;
  const warnings: string[] = [];
  let store: S3BackupStore;
  const stores: S3BackupStore[] = [];
  const storeWith = (overrides: Partial<S3StoreConfig>, callTimeoutMs?: number) => {
    const s = new S3BackupStore({ ...config, ...overrides }, { callTimeoutMs });
    stores.push(s);
    return s;
  };

  beforeAll(async () => {
    s3 = await startTestS3();
    root = s3.server.client();
    dir = await mkdtemp(join(tmpdir(), 'slipway-s3-store-'));
    config = s3ConfigFromEnv(s3.env('slipway/test'))!;
    // 5 MiB parts (S3's minimum), so a 12 MiB dump goes up in three parts.
    store = new S3BackupStore(config, { partSize: 5 * MiB, warn: (m) => warnings.push(m) });
    stores.push(store);
  });

  afterAll(async () => {
    for (const s of stores) s.destroy();
    root?.destroy();
    await s3?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const ref = (id: string, app = 'todoapp', environment = 'production') => ({ app, environment, id });

  it('streams a multi-MB dump up in parts and back byte for byte, and a second put of the id replaces it', async () => {
    const big = pattern(12 * MiB + 4321, 1);
    await writeFile(join(dir, 'big.dump'), big);
    const id = ref('20260110T030000Z-0000big1');
    expect(await store.put(id, join(dir, 'big.dump'))).toEqual({ size: big.length });

    // Stored as a multipart object of three parts, under the directory store's layout.
    const head = await root.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: `slipway/test/todoapp/production/${id.id}.dump` }));
    expect(head.ContentLength).toBe(big.length);
    expect(head.ETag).toMatch(/-3"$/);
    expect((await root.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket }))).Uploads ?? []).toEqual([]);

    await store.get(id, join(dir, 'big.back'));
    expect((await readFile(join(dir, 'big.back'))).equals(big)).toBe(true);

    // A retried attempt at the same id (smaller, one PutObject) leaves only its own bytes.
    const small = pattern(3 * MiB + 7, 2);
    await writeFile(join(dir, 'small.dump'), small);
    expect(await store.put(id, join(dir, 'small.dump'))).toEqual({ size: small.length });
    await store.get(id, join(dir, 'small.back'));
    expect((await readFile(join(dir, 'small.back'))).equals(small)).toBe(true);
  });

  it('get of a backup without a dump throws naming the backup and the store, and leaves no file', async () => {
    await expect(store.get(ref('20260101T000000Z-nodump00'), join(dir, 'none'))).rejects.toThrow(
      `backup todoapp/production/20260101T000000Z-nodump00 has no dump in s3://${s3.bucket}/slipway/test at ${s3.server.endpoint}`,
    );
    expect(existsSync(join(dir, 'none'))).toBe(false);
  });

  it('writes and reads manifests: undefined when absent, an error when the object does not parse', async () => {
    const manifest = manifestFor('todoapp', 'manifests', '20260111T030000Z-aaaaaaaa', '2026-01-11T03:00:00.000Z');
    await store.writeManifest(manifest);
    expect(await store.readManifest(manifest)).toEqual(manifest);
    await store.writeManifest({ ...manifest, verified: false, verificationError: 'corrupt' });
    expect(await store.readManifest(manifest)).toMatchObject({ verified: false, verificationError: 'corrupt' });

    expect(await store.readManifest(ref('20260112T030000Z-missing0', 'todoapp', 'manifests'))).toBeUndefined();
    await root.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'slipway/test/todoapp/manifests/20260113T030000Z-broken00.manifest.json', Body: '{ not json' }));
    await expect(store.readManifest(ref('20260113T030000Z-broken00', 'todoapp', 'manifests'))).rejects.toThrow(
      'manifest of backup todoapp/manifests/20260113T030000Z-broken00 is not valid JSON',
    );
  });

  it('lists one environment newest first, skips stray keys with one warning, and leaves them alone', async () => {
    const env = 'listing';
    await writeFile(join(dir, 'tiny.dump'), 'abc');
    const ids = ['20260101T030000Z-11111111', '20260103T030000Z-33333333', '20260102T030000Z-22222222'];
    for (const [i, id] of ids.entries()) {
      await store.put(ref(id, 'todoapp', env), join(dir, 'tiny.dump'));
      await store.writeManifest(manifestFor('todoapp', env, id, `2026-01-0${[1, 3, 2][i]}T03:00:00.000Z`));
    }
    // A dump without a manifest is listed (unverified); another environment's backups are not.
    await store.put(ref('20251231T030000Z-nomanif0', 'todoapp', env), join(dir, 'tiny.dump'));
    await store.put(ref('20260104T030000Z-otherenv', 'todoapp', 'other'), join(dir, 'tiny.dump'));
    const strays = ['X (1).dump', 'notes.txt', 'old/20250101T030000Z-44444444.dump'];
    for (const stray of strays) await root.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `slipway/test/todoapp/${env}/${stray}`, Body: 'not ours' }));

    warnings.length = 0;
    const listed = await store.list('todoapp', env);
    // By the manifests' snapshot times; the dump without one by when the store wrote it (just now), so first.
    expect(listed.map((b) => b.id)).toEqual(['20251231T030000Z-nomanif0', '20260103T030000Z-33333333', '20260102T030000Z-22222222', '20260101T030000Z-11111111']);
    expect(listed[0]!.manifest).toBeUndefined();
    expect(listed[0]!.storedAt).toBeGreaterThan(Date.now() - 5 * 60_000);
    expect(listed[1]!.manifest).toMatchObject({ verified: true, takenAt: '2026-01-03T03:00:00.000Z' });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`skipping 3 objects in s3://${s3.bucket}/slipway/test/todoapp/${env} at ${s3.server.endpoint} that are not a backup`);
    for (const name of ['"X (1).dump"', '"notes.txt"', '"old/"']) expect(warnings[0]).toContain(name);
    for (const stray of strays) {
      await expect(root.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: `slipway/test/todoapp/${env}/${stray}` }))).resolves.toBeDefined();
    }
    expect(await store.list('todoapp', 'never-backed-up')).toEqual([]);
  });

  it('lists past one page of results', async () => {
    const env = 'paged';
    await writeFile(join(dir, 'tiny.dump'), 'abc');
    // ListObjectsV2 answers at most 1000 keys a page: 520 backups of two objects each take two pages.
    const ids = Array.from({ length: 520 }, (_, i) => `20260201T${String(Math.floor(i / 60)).padStart(2, '0')}${String(i % 60).padStart(2, '0')}00Z-${String(i).padStart(8, '0')}`);
    for (let i = 0; i < ids.length; i += 40) {
      await Promise.all(
        ids.slice(i, i + 40).map(async (id) => {
          await store.put(ref(id, 'todoapp', env), join(dir, 'tiny.dump'));
          await store.writeManifest(manifestFor('todoapp', env, id, `2026-02-01T${id.slice(9, 11)}:${id.slice(11, 13)}:00.000Z`));
        }),
      );
    }
    const listed = await store.list('todoapp', env);
    expect(listed).toHaveLength(520);
    expect(listed.map((b) => b.id)).toEqual([...ids].reverse());
    expect(listed.every((b) => b.manifest?.verified === true)).toBe(true);
  });

  it('delete removes the dump and the manifest, and deleting again is no error', async () => {
    const env = 'deleting';
    const id = ref('20260120T030000Z-deleteme', 'todoapp', env);
    await writeFile(join(dir, 'tiny.dump'), 'abc');
    await store.put(id, join(dir, 'tiny.dump'));
    await store.writeManifest(manifestFor('todoapp', env, id.id, '2026-01-20T03:00:00.000Z'));
    expect((await store.list('todoapp', env)).map((b) => b.id)).toEqual([id.id]);
    await store.delete(id);
    expect(await store.list('todoapp', env)).toEqual([]);
    expect(await store.readManifest(id)).toBeUndefined();
    await expect(store.get(id, join(dir, 'gone'))).rejects.toThrow(/has no dump/);
    await expect(store.delete(id)).resolves.toBeUndefined();
  });

  it('a wrong secret key is a non-retryable BackupFailed naming the bucket, and the secret is in no message', async () => {
    const wrongSecret = `wrong-${randomBytes(12).toString('hex')}`;
    const wrong = storeWith({ credentials: { accessKeyId: config.credentials!.accessKeyId, secretAccessKey: wrongSecret } });
    await writeFile(join(dir, 'tiny.dump'), 'abc');
    for (const attempt of [() => wrong.list('todoapp', 'production'), () => wrong.put(ref('20260121T030000Z-wrongkey'), join(dir, 'tiny.dump')), () => wrong.readManifest(ref('x1'))]) {
      const failure = await attempt().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure).toMatchObject({ type: 'BackupFailed', nonRetryable: true });
      const message = (failure as Error).message;
      expect(message).toMatch(new RegExp(`in s3://${s3.bucket}/slipway/test at ${s3.server.endpoint.replace(/\./g, '\\.')} failed: the request's signature does not match \\(SignatureDoesNotMatch\\): AWS_SECRET_ACCESS_KEY is not the secret`));
      expect(message).toContain(`bucket "${s3.bucket}"`);
      expect(message).not.toContain(wrongSecret);
      expect(message).not.toContain(s3.server.secretAccessKey);
      expect(JSON.stringify(failure)).not.toContain(wrongSecret);
    }

    const unknown = storeWith({ credentials: { accessKeyId: 'nobody-here', secretAccessKey: wrongSecret } });
    await expect(unknown.list('todoapp', 'production')).rejects.toMatchObject({
      nonRetryable: true,
      message: expect.stringMatching(/does not know the access key in AWS_ACCESS_KEY_ID/),
    });
  });

  it('a missing bucket is a non-retryable BackupFailed naming it, whatever the call', async () => {
    const missing = storeWith({ bucket: `no-such-bucket-${suffix}` });
    await writeFile(join(dir, 'tiny.dump'), 'abc');
    const says = new RegExp(`bucket "no-such-bucket-${suffix}" does not exist`);
    await expect(missing.list('todoapp', 'production')).rejects.toMatchObject({ type: 'BackupFailed', nonRetryable: true, message: expect.stringMatching(says) });
    await expect(missing.put(ref('20260122T030000Z-nobucket'), join(dir, 'tiny.dump'))).rejects.toMatchObject({ nonRetryable: true, message: expect.stringMatching(says) });
    await expect(missing.readManifest(ref('20260122T030000Z-nobucket'))).rejects.toMatchObject({ nonRetryable: true, message: expect.stringMatching(says) });
    await expect(missing.delete(ref('20260122T030000Z-nobucket'))).rejects.toMatchObject({ nonRetryable: true, message: expect.stringMatching(says) });
  });

  it('a server that accepts connections and never answers fails the call at its deadline, retryably', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as { port: number }).port;
      const hung = storeWith({ endpoint: `http://127.0.0.1:${port}` }, 2000);
      const started = Date.now();
      const failure = await hung.list('todoapp', 'production').then(
        () => undefined,
        (err: unknown) => err as Error,
      );
      expect(failure?.message).toBe(`listing backups of todoapp/production in s3://${s3.bucket}/slipway/test at http://127.0.0.1:${port} timed out after 2 s`);
      expect(failure).not.toBeInstanceOf(ApplicationFailure);
      expect(Date.now() - started).toBeLessThan(7000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe('backups onto the S3 store, worker and CLI from the same environment', () => {
  const APP = `bk-s3-${suffix}`;
  const DB_ENV = `SLIPWAY_TEST_S3_SRC_DB_${suffix.toUpperCase()}`;
  const PASSWORD = `pw-${randomBytes(6).toString('hex')}`;
  const workers = workersOfThisFile();
  let s3: TestS3;
  let postgres: RunningPostgres;
  let sourceUrl: string;
  let client: Client;
  let dir: string;
  let configFile: string;
  /** The environment of the worker and of a person's shell alike: the bucket, its keys, the database URL. */
  let env: Record<string, string>;
  let taskQueue: string;

  const rawConfig = {
    gitops: { url: 'file:///nowhere' },
    apps: {
      [APP]: {
        images: ['todoapp/backend'],
        environments: [
          { name: 'production', overlay: 'overlays/production', argocd: { application: `${APP}-production` }, backup: { schedule: '0 3 * * *', postgres: { urlFromEnv: DB_ENV }, keep: 3 } },
        ],
      },
    },
  };

  const query = queryRows;
  const rows = (url: string) => query(url, 'SELECT * FROM todos ORDER BY id');

  /** `slipway …` from source, as a person runs it, with `vars` as its environment's additions. */
  function cli(vars: Record<string, string>, ...args: string[]): Promise<CliRun> {
    return runCliFromSource(['--config', configFile, ...args], { SLIPWAY_TASK_QUEUE: taskQueue, ...vars });
  }

  beforeAll(async () => {
    s3 = await startTestS3();
    postgres = await startPostgres({ password: PASSWORD });
    await query(postgres.url, 'CREATE DATABASE todo_source');
    sourceUrl = postgres.url.replace(/\/postgres$/, '/todo_source');
    await query(sourceUrl, `CREATE TABLE todos (id serial PRIMARY KEY, title text, done boolean); INSERT INTO todos (title, done) SELECT 'todo ' || g, g % 2 = 0 FROM generate_series(1, 300) g`);
    dir = await mkdtemp(join(tmpdir(), 'slipway-s3-e2e-'));
    configFile = join(dir, 'slipway.yaml');
    await writeFile(configFile, JSON.stringify(rawConfig));
    // SLIPWAY_BACKUP_DIR is set too, to an empty folder: with a bucket configured it is not where backups go or are read.
    env = { ...s3.env(`slipway-${suffix}`), [DB_ENV]: sourceUrl, SLIPWAY_BACKUP_DIR: join(dir, 'unused-folder') };
    client = await testClient();
    const worker = await startTestWorker(
      {
        ...defaultBackupActivities({ ...process.env, ...env }),
        async notify(input: NotifyInput) {
          return { delivered: input.channels.length, failed: 0 };
        },
      },
      undefined,
      TestPolicy.fromText(JSON.stringify(rawConfig)).store,
    );
    workers.push(worker);
    taskQueue = worker.taskQueue;
  });

  afterAll(async () => {
    await client?.connection.close();
    await postgres?.stop();
    await s3?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the worker backs up into the bucket, and the CLI lists that backup and restores it row for row', async () => {
    const run = await cli(env, 'backup', 'run', APP, 'production');
    expect(run.stderr).not.toMatch(/^error/m);
    expect(run.code).toBe(0);
    const backupId = /backup (\S+) verified \(1 tables, 300 rows/.exec(run.stdout)?.[1];
    expect(backupId, run.stdout).toBeDefined();

    // The dump and its manifest are objects in the bucket (the posix backend's files), not files in SLIPWAY_BACKUP_DIR.
    const folder = join(s3.server.root, s3.bucket, `slipway-${suffix}`, APP, 'production');
    expect(existsSync(join(folder, `${backupId}.dump`))).toBe(true);
    expect(existsSync(join(folder, `${backupId}.manifest.json`))).toBe(true);
    expect(existsSync(join(dir, 'unused-folder'))).toBe(false);

    const listed = await cli(env, '--json', 'backup', 'list', APP, 'production');
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id: backupId, verified: true, tables: 1, rows: 300 })]);

    // What the CLI lists without the bucket's variables is another store: the same shell must carry them.
    const elsewhere = await cli({ [DB_ENV]: sourceUrl, SLIPWAY_BACKUP_DIR: join(dir, 'unused-folder') }, 'backup', 'list', APP, 'production');
    expect(elsewhere.stdout.trim()).toBe(`no backups of ${APP}/production`);

    await query(sourceUrl, `UPDATE todos SET title = 'changed after the backup' WHERE id = 1`);
    const restored = await cli(env, 'backup', 'restore', APP, 'production', '--into', 'todo_restored');
    expect(restored.stderr).not.toMatch(/^error/m);
    expect(restored.stdout).toMatch(new RegExp(`restored backup ${backupId} into 127\\.0\\.0\\.1:\\d+/todo_restored: 1 tables, 300 rows, counts match`));
    const back = await rows(postgres.url.replace(/\/postgres$/, '/todo_restored'));
    expect(back).toHaveLength(300);
    expect(back[0]).toEqual({ id: 1, title: 'todo 1', done: false });
    expect(back).toEqual((await rows(sourceUrl)).map((r) => (r.id === 1 ? { ...r, title: 'todo 1' } : r)));
    for (const output of [run, listed, restored]) {
      expect(output.stdout + output.stderr).not.toContain(s3.server.secretAccessKey);
      expect(output.stdout + output.stderr).not.toContain(PASSWORD);
    }
  });

  it('a worker with a wrong secret key fails the backup with the store\'s reason, and the secret is in no history', async () => {
    const wrongSecret = `wrong-${randomBytes(12).toString('hex')}`;
    const wrongEnv = { ...env, AWS_SECRET_ACCESS_KEY: wrongSecret };
    const worker = await startTestWorker(
      {
        ...defaultBackupActivities({ ...process.env, ...wrongEnv }),
        async notify(input: NotifyInput) {
          return { delivered: input.channels.length, failed: 0 };
        },
      },
      undefined,
      TestPolicy.fromText(JSON.stringify(rawConfig)).store,
    );
    workers.push(worker);
    const started = Date.now();
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', join(process.cwd(), 'client/cli.ts'), '--config', configFile, '--json', 'backup', 'run', APP, 'production'],
        { encoding: 'utf8', timeout: 90_000, env: { ...process.env, TEMPORAL_ADDRESS: temporalAddress(), SLIPWAY_TASK_QUEUE: worker.taskQueue, ...wrongEnv } },
        (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
      );
    });
    expect(run.code).toBe(1);
    const outcome = JSON.parse(run.stdout) as { outcome: string; failure: { type: string; message: string } };
    expect(outcome.outcome).toBe('failed');
    expect(outcome.failure.type).toBe('BackupFailed');
    expect(outcome.failure.message).toMatch(new RegExp(`uploading backup \\S+ in s3://${s3.bucket}/slipway-${suffix} at .* failed: the request's signature does not match`));
    // Non-retryable: the first attempt's answer, not a minute of retries.
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(run.stdout + run.stderr).not.toContain(wrongSecret);

    // The run's id, from visibility (which lags a little behind the run itself).
    let workflowId: string | undefined;
    await expect
      .poll(async () => {
        for await (const execution of client.workflow.list({ query: `TaskQueue = '${worker.taskQueue}'` })) workflowId = execution.workflowId;
        return workflowId;
      }, { timeout: 15_000 })
      .toBeDefined();
    const history = JSON.stringify(await client.workflow.getHandle(workflowId!).fetchHistory());
    const decoded = [...history.matchAll(/"data":"([^"]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8')).join('\n');
    expect(decoded).toMatch(/SignatureDoesNotMatch/);
    expect(history + decoded).not.toContain(wrongSecret);
    expect(history + decoded).not.toContain(s3.server.secretAccessKey);
  });
});
