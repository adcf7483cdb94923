import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../config/schema.js';
import { DirectoryBackupStore, type BackupManifest } from '../../activities/backup/index.js';
import { registerBackupCommands, resolveRestoreTarget, type BackupCliContext } from '../../client/commands/backup.js';

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
  const program = (json = false) => {
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
    registerBackupCommands(p, () => ctx, { store: () => store, env });
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
});
