import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../config/schema.js';
import { createBackupActivities, DirectoryBackupStore, type BackupManifest } from '../../activities/backup/index.js';
import { startPostgres, type RunningPostgres } from '../../infra/postgres/index.js';
import { registerBackupCommands, resolveRestoreTarget, type BackupCliContext } from '../../client/commands/backup.js';
import { CliExit } from '../../client/errors.js';
import { queryRows } from '../support/postgres.js';

const env = {
  PROD_DATABASE_URL: 'postgresql://app:s3cret@db.internal:5432/todo',
  RESTORE_TARGET_URL: 'postgresql://ops:other@10.0.0.9:6543/scratch',
};

describe('resolveRestoreTarget', () => {
  it('takes a database name on the environment\'s own server, keeping its credentials off the command line', () => {
    const target = resolveRestoreTarget('todo_restored', 'PROD_DATABASE_URL', env);
    expect(target.url).toBe('postgresql://app:s3cret@db.internal:5432/todo_restored');
    expect(target.description).toBe('db.internal:5432/todo_restored');
  });

  it('reads a URL from a named env var', () => {
    const target = resolveRestoreTarget('RESTORE_TARGET_URL', 'PROD_DATABASE_URL', env);
    expect(target.url).toBe(env.RESTORE_TARGET_URL);
    expect(target.description).not.toContain('other');
  });

  it('refuses a missing target, an unset env var, and anything that is neither a name nor a variable', () => {
    expect(() => resolveRestoreTarget(undefined, 'PROD_DATABASE_URL', env)).toThrow(/--into/);
    expect(() => resolveRestoreTarget('NOT_SET_ANYWHERE', 'PROD_DATABASE_URL', env)).toThrow(/no such environment variable/);
    expect(() => resolveRestoreTarget('postgresql://u:p@h/db', 'PROD_DATABASE_URL', env)).toThrow(/expected a database name/);
  });
});

describe('slipway backup commands', () => {
  let dir: string;
  let store: DirectoryBackupStore;
  const printed: string[] = [];
  const printedJson: unknown[] = [];
  const config = configSchema.parse({
    gitops: { url: 'file:///x' },
    apps: {
      todoapp: {
        images: ['todoapp/backend'],
        environments: [
          {
            name: 'production',
            overlay: 'overlays/production',
            argocd: { application: 'todoapp-production' },
            backup: { schedule: '0 3 * * *', postgres: { urlFromEnv: 'PROD_DATABASE_URL' } },
          },
        ],
      },
    },
  });
  const program = (json = false, sources: { store: () => DirectoryBackupStore; env: NodeJS.ProcessEnv } = { store: () => store, env }) => {
    const p = new Command().exitOverride();
    const ctx: BackupCliContext = {
      loadConfig: async () => config,
      client: async () => {
        throw new Error('these commands must not need Temporal');
      },
      taskQueue: 'slipway',
      // As the CLI's own context: human output is suppressed under --json.
      print: (t) => {
        if (!json) printed.push(t);
      },
      printJson: (value) => printedJson.push(value),
      json,
    };
    registerBackupCommands(p, () => ctx, sources);
    return p;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-cli-'));
    store = new DirectoryBackupStore(dir);
    const base: BackupManifest = {
      formatVersion: 1, app: 'todoapp', environment: 'production', id: '', takenAt: '', database: 'todo',
      serverVersion: '15', pgDumpVersion: '15', format: 'pg_dump-custom', size: 10, sha256: 'x', tables: { 'public.todos': 4 }, verified: true,
    };
    await store.writeManifest({ ...base, id: '20260101T030000Z-aaaaaaaa', takenAt: '2026-01-01T03:00:00Z' });
    await store.writeManifest({ ...base, id: '20260102T030000Z-bbbbbbbb', takenAt: '2026-01-02T03:00:00Z', verified: false, verificationError: 'backup is corrupt' });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('lists backups newest first and marks unverified ones', async () => {
    printed.length = 0;
    await program().parseAsync(['node', 'slipway', 'backup', 'list', 'todoapp', 'production']);
    const lines = printed.join('\n').split('\n');
    expect(lines[0]).toMatch(/^20260102T030000Z-bbbbbbbb\s+UNVERIFIED \(backup is corrupt\)/);
    expect(lines[1]).toMatch(/^20260101T030000Z-aaaaaaaa\s+verified/);
  });

  it('lists backups as JSON for scripts with --json', async () => {
    printed.length = 0;
    printedJson.length = 0;
    await program(true).parseAsync(['node', 'slipway', 'backup', 'list', 'todoapp', 'production']);
    expect(printed).toEqual([]);
    expect(printedJson).toEqual([
      [
        expect.objectContaining({ id: '20260102T030000Z-bbbbbbbb', verified: false, problem: 'backup is corrupt' }),
        expect.objectContaining({ id: '20260101T030000Z-aaaaaaaa', verified: true, tables: 1, rows: 4 }),
      ],
    ]);
  });

  it('restore without --into refuses before touching anything', async () => {
    await expect(program().parseAsync(['node', 'slipway', 'backup', 'restore', 'todoapp', 'production'])).rejects.toThrow(/--into/);
  });

  it('restore of an environment without a backup: block says so', async () => {
    await expect(
      program().parseAsync(['node', 'slipway', 'backup', 'restore', 'todoapp', 'staging', '--into', 'x']),
    ).rejects.toThrow(/todoapp\/staging has no backup: block/);
  });

  describe('restore into the environment\'s own database (a real PostgreSQL)', () => {
    let postgres: RunningPostgres;
    let liveDir: string;
    let liveStore: DirectoryBackupStore;
    const liveEnv: NodeJS.ProcessEnv = {};
    const liveWarnings: string[] = [];
    const restore = (...args: string[]) =>
      program(false, { store: () => liveStore, env: liveEnv }).parseAsync(['node', 'slipway', 'backup', 'restore', 'todoapp', 'production', ...args]);
    const query = queryRows;
    const liveState = async () => query(liveEnv.PROD_DATABASE_URL!, 'SELECT id, name FROM users ORDER BY id');

    beforeAll(async () => {
      postgres = await startPostgres();
      await query(postgres.url, 'CREATE DATABASE todo');
      liveEnv.PROD_DATABASE_URL = postgres.url.replace(/\/postgres$/, '/todo');
      // The same database, spelled with another host name: still the environment's own.
      liveEnv.SAME_DB_URL = liveEnv.PROD_DATABASE_URL.replace('127.0.0.1', 'localhost');
      liveEnv.SCRATCH_URL = postgres.url.replace(/\/postgres$/, '/todo_copy');
      await query(liveEnv.PROD_DATABASE_URL, `CREATE TABLE users (id int PRIMARY KEY, name text); INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, 20) g`);
      liveDir = await mkdtemp(join(tmpdir(), 'slipway-cli-live-'));
      liveStore = new DirectoryBackupStore(liveDir, { warn: (m) => liveWarnings.push(m) });
      const activities = createBackupActivities({ store: liveStore, env: liveEnv });
      const target = { app: 'todoapp', environment: 'production', databaseUrlFromEnv: 'PROD_DATABASE_URL', backupId: '20260105T030000Z-cccccccc' };
      await activities.takeBackup(target);
      await activities.verifyBackup(target);
      await activities.recordBackupVerification({ ...target, verified: true });
      // What happened since the backup: a wrong restore would silently take it away.
      await query(liveEnv.PROD_DATABASE_URL, `UPDATE users SET name = 'renamed after the backup' WHERE id = 1; INSERT INTO users VALUES (21, 'new')`);
    });
    afterAll(async () => {
      await postgres?.stop();
      if (liveDir) await rm(liveDir, { recursive: true, force: true });
    });

    it('is refused without --confirm naming the database, however the target is spelled, and the database is untouched', async () => {
      const before = await liveState();
      expect(before).toHaveLength(21);
      for (const args of [
        ['--into', 'todo', '--force'],
        ['--into', 'PROD_DATABASE_URL', '--force'],
        ['--into', 'SAME_DB_URL', '--force'],
        ['--into', 'todo', '--force', '--confirm', 'todo_copy'],
        ['--into', 'todo', '--confirm', 'todo'],
      ]) {
        await expect(restore(...args), args.join(' ')).rejects.toThrow(/todoapp\/production's own database .*--force --confirm todo/);
      }
      expect(await liveState()).toEqual(before);
    });

    it('a --confirm that does not name the target is refused too', async () => {
      await expect(restore('--into', 'SCRATCH_URL', '--confirm', 'todo')).rejects.toThrow(/--confirm todo does not name the target database todo_copy/);
    });

    it('refuses template and system databases outright with exit 2, whatever the flags, and writes nothing there', async () => {
      await query(postgres.url, 'CREATE DATABASE golden');
      await query(postgres.url, 'ALTER DATABASE golden IS_TEMPLATE true');
      liveEnv.TEMPLATE1_URL = postgres.url.replace(/\/postgres$/, '/template1');
      liveEnv.GOLDEN_URL = postgres.url.replace(/\/postgres$/, '/golden');
      const tablesIn = async (database: string) =>
        query<{ n: string }>(postgres.url.replace(/\/postgres$/, `/${database}`), `SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'`);
      const refusals: Array<[string[], string]> = [
        [['--into', 'template1'], 'template1'],
        [['--into', 'template1', '--force', '--confirm', 'template1'], 'template1'],
        [['--into', 'TEMPLATE1_URL', '--force'], 'template1'],
        [['--into', 'template0', '--force'], 'template0'],
        [['--into', 'postgres', '--force', '--confirm', 'postgres'], 'postgres'],
        // Not a system name: the server's own pg_database.datistemplate says it is a template.
        [['--into', 'golden', '--force'], 'golden'],
        [['--into', 'GOLDEN_URL', '--force', '--confirm', 'golden'], 'golden'],
      ];
      for (const [args, database] of refusals) {
        const error = await restore(...args).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error, args.join(' ')).toBeInstanceOf(CliExit);
        expect((error as CliExit).code, args.join(' ')).toBe(2);
        expect((error as CliExit).message, args.join(' ')).toMatch(new RegExp(`refusing to restore into ${database} \\(127\\.0\\.0\\.1:\\d+/${database}\\)`));
      }
      expect(await tablesIn('template1')).toEqual([{ n: '0' }]);
      expect(await tablesIn('golden')).toEqual([{ n: '0' }]);
      expect(await tablesIn('postgres')).toEqual([{ n: '0' }]);
      // A database created from now on starts as empty as before.
      await query(postgres.url, 'CREATE DATABASE made_after');
      expect(await tablesIn('made_after')).toEqual([{ n: '0' }]);
    });

    it('restores the newest verified backup and lists backups past a stray file in the store, naming it once', async () => {
      const stray = '20260105T030000Z-cccccccc (1).dump';
      await writeFile(join(liveDir, 'todoapp', 'production', stray), 'a copy made by hand');
      liveWarnings.length = 0;
      await restore('--into', 'todo_newest');
      expect(await query(postgres.url.replace(/\/postgres$/, '/todo_newest'), 'SELECT count(*)::int AS n FROM users')).toEqual([{ n: 20 }]);
      printed.length = 0;
      await program(false, { store: () => liveStore, env: liveEnv }).parseAsync(['node', 'slipway', 'backup', 'list', 'todoapp', 'production']);
      expect(printed.join('\n')).toMatch(/^20260105T030000Z-cccccccc\s+verified/);
      expect(liveWarnings.length).toBeGreaterThan(0);
      for (const warning of liveWarnings) expect(warning).toContain(JSON.stringify(stray));
    });

    it('restores over it with --force --confirm <its name>, in one transaction', async () => {
      await restore('--into', 'todo', '--force', '--confirm', 'todo');
      const after = await liveState();
      expect(after).toHaveLength(20);
      expect(after[0]).toEqual({ id: 1, name: 'user 1' });
    });
  });
});
