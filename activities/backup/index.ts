/**
 * Backups of an environment's PostgreSQL: the activities, the store they write to, and the
 * default wiring from the worker's environment (SLIPWAY_BACKUP_DIR).
 */
import { join } from 'node:path';
import { homedir } from 'node:os';
import { createBackupActivities } from './activities.js';
import { DirectoryBackupStore } from './directory-store.js';
import type { BackupStore } from './store.js';

export { createBackupActivities, compareCounts, scratchDatabaseName, type BackupActivityOptions } from './activities.js';
export { DirectoryBackupStore } from './directory-store.js';
export { type BackupManifest, type BackupRef, type BackupStore, type StoredBackup, assertSafeRef, assertSafeSegment } from './store.js';
export { databaseFromEnv, parseDatabaseUrl, withDatabase, redact, type DatabaseTarget } from './connection.js';
export { restoreDatabase, dumpDatabase } from './pg-tools.js';

/** The store named by SLIPWAY_BACKUP_DIR, or ~/.local/share/slipway/backups. */
export function defaultBackupStore(env: NodeJS.ProcessEnv = process.env): BackupStore {
  const dir = env.SLIPWAY_BACKUP_DIR || join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'slipway', 'backups');
  return new DirectoryBackupStore(dir);
}

/** The backup activities as the worker registers them, with the store from the environment. */
export function defaultBackupActivities(env: NodeJS.ProcessEnv = process.env) {
  return createBackupActivities({ store: defaultBackupStore(env), env });
}
