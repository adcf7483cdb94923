/**
 * Backups from the CLI's side: what is stored, a backup run now (the same workflow the schedule
 * starts), and a restore into a database a person names explicitly.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { SlipwayConfig } from '../config/schema.js';
import { backupScheduleId } from '../core/ids.js';
import { SA_APP, SA_ENVIRONMENT } from '../core/search-attributes.js';
import { sha256File } from '../activities/backup/checksum.js';
import { compareCounts } from '../activities/backup/activities.js';
import { parseDatabaseUrl, redact, withDatabase, type DatabaseTarget } from '../activities/backup/connection.js';
import { countRows, createDatabase, databaseExists, listTables, withClient } from '../activities/backup/pg-client.js';
import { restoreDatabase } from '../activities/backup/pg-tools.js';
import { refuseSystemDatabase } from '../activities/backup/system-databases.js';
import { assertSafeRef, type BackupManifest, type BackupStore } from '../activities/backup/store.js';
import type { backup, BackupResult } from '../workflows/backup.js';
import { desiredBackupSchedules } from './schedules.js';

export interface BackupListing {
  id: string;
  takenAt?: string;
  size?: number;
  verified: boolean;
  /** Why it cannot be trusted: failed verification, missing or unreadable manifest. */
  problem?: string;
  tables?: number;
  rows?: number;
}

/** Stored backups of one environment, newest first. */
export async function listBackups(store: BackupStore, app: string, environment: string): Promise<BackupListing[]> {
  const stored = await store.list(app, environment);
  return stored.map(({ id, manifest }) => ({
    id,
    takenAt: manifest?.takenAt,
    size: manifest?.size,
    verified: manifest?.verified === true,
    problem: !manifest ? 'no readable manifest' : manifest.verificationError ?? (manifest.verified ? undefined : 'not verified'),
    tables: manifest ? Object.keys(manifest.tables).length : undefined,
    rows: manifest ? Object.values(manifest.tables).reduce((a, b) => a + b, 0) : undefined,
  }));
}

/** Starts the backup workflow of one environment now, as its schedule would, and waits for it. */
export async function runBackupNow(
  client: Client,
  config: SlipwayConfig,
  app: string,
  environment: string,
  taskQueue: string,
): Promise<{ workflowId: string; result: BackupResult }> {
  const desired = desiredBackupSchedules(config).find((d) => d.app === app && d.environment === environment);
  if (!desired) throw new Error(`${app}/${environment} has no backup: block in the config`);
  const workflowId = `${backupScheduleId(app, environment)}-manual-${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`;
  const handle = await client.workflow.start<typeof backup>('backup', {
    workflowId,
    taskQueue,
    args: [desired.input],
    typedSearchAttributes: [
      { key: SA_APP, value: app },
      { key: SA_ENVIRONMENT, value: environment },
    ],
    staticSummary: `Backup of ${app}/${environment}, run by hand`,
  });
  return { workflowId, result: await handle.result() };
}

export interface RestoreOptions {
  store: BackupStore;
  app: string;
  environment: string;
  /** The backup to restore; the newest verified one when absent. */
  backupId?: string;
  /** The database to restore into (secret: read it from an env var, never a command line). */
  intoUrl: string;
  /** Create the target database when it does not exist (on the same server). Default true. */
  create?: boolean;
  /** Restore into a database that already has tables: the backup's objects are dropped and recreated. */
  force?: boolean;
  /** Restore a backup that was never verified (an emergency). */
  allowUnverified?: boolean;
}

export interface RestoreResult {
  backupId: string;
  /** host:port/database of the target (no credentials). */
  into: string;
  tables: number;
  rows: number;
}

async function chooseBackup(options: RestoreOptions): Promise<BackupManifest> {
  const { store, app, environment } = options;
  if (options.backupId) {
    const ref = { app, environment, id: options.backupId };
    assertSafeRef(ref);
    const manifest = await store.readManifest(ref);
    if (!manifest) throw new Error(`no backup ${options.backupId} of ${app}/${environment} in ${store.description}`);
    if (!manifest.verified && !options.allowUnverified) {
      throw new Error(
        `backup ${options.backupId} of ${app}/${environment} is not verified` +
          (manifest.verificationError ? ` (${manifest.verificationError})` : '') +
          '; refusing to restore it',
      );
    }
    return manifest;
  }
  const newest = (await store.list(app, environment)).find((b) => b.manifest?.verified === true);
  if (!newest?.manifest) throw new Error(`no verified backup of ${app}/${environment} in ${store.description}`);
  return newest.manifest;
}

export async function restoreBackup(options: RestoreOptions): Promise<RestoreResult> {
  const target: DatabaseTarget = parseDatabaseUrl(options.intoUrl, 'the restore target');
  // Before anything is created or written: a template's rows would be copied into every new database.
  await refuseSystemDatabase(target);
  const manifest = await chooseBackup(options);
  const ref = { app: options.app, environment: options.environment, id: manifest.id };

  // Creating a missing target needs the server's maintenance database; a user without access to
  // it can still restore into a database that exists, so only a definite "missing" stops here.
  const exists = await withClient(withDatabase(target, 'postgres'), 'checking the restore target', (client) =>
    databaseExists(client, target.database),
  ).catch(() => undefined);
  if (exists === false) {
    if (options.create === false) throw new Error(`database ${target.label} does not exist`);
    await withClient(withDatabase(target, 'postgres'), 'creating the restore target', (client) => createDatabase(client, target.database));
  }
  const existing = await withClient(target, 'checking the restore target', listTables);
  if (existing.length > 0 && !options.force) {
    throw new Error(
      `database ${target.label} is not empty (${existing.length} tables, e.g. ${existing[0]!.schema}.${existing[0]!.table}); ` +
        'restore into a new database, or pass --force to drop and recreate the backup\'s objects there',
    );
  }

  const dir = await mkdtemp(join(tmpdir(), 'slipway-restore-'));
  try {
    const file = join(dir, `${manifest.id}.dump`);
    await options.store.get(ref, file);
    const sha256 = await sha256File(file);
    if (sha256 !== manifest.sha256) {
      throw new Error(`backup ${manifest.id} is corrupt: its sha256 is ${sha256}, the manifest says ${manifest.sha256}`);
    }
    try {
      await restoreDatabase(target, file, { clean: existing.length > 0 });
    } catch (err) {
      throw new Error(`restoring backup ${manifest.id} into ${target.label} failed: ${redact((err as Error).message, target)}`);
    }
    const restored = await withClient(target, 'counting restored rows', countRows);
    // With --force the target may hold tables the backup does not know: only the backup's tables must match.
    const relevant = Object.fromEntries(Object.entries(restored).filter(([t]) => t in manifest.tables));
    const problems = compareCounts(manifest.tables, relevant);
    if (problems.length > 0) throw new Error(`restored ${target.label} does not match backup ${manifest.id}: ${problems.join('; ')}`);
    return {
      backupId: manifest.id,
      into: target.label,
      tables: Object.keys(relevant).length,
      rows: Object.values(relevant).reduce((a, b) => a + b, 0),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
