/**
 * The contract between the backup workflow and its activities. Types only, so the workflow can
 * import them. Nothing here is a secret: the database is named by the env var that holds its URL,
 * which the worker reads when an activity runs.
 */

/** One backup of one environment's database. Ids sort by time: `20260110T030000Z-1a2b3c4d`. */
export interface BackupRef {
  app: string;
  environment: string;
  id: string;
}

/** What is known about a backup, stored next to its dump as JSON. */
export interface BackupManifest {
  formatVersion: 1;
  app: string;
  environment: string;
  id: string;
  /** ISO time the dump's snapshot was taken. */
  takenAt: string;
  /** The workflow that took it. */
  workflowId?: string;
  /** The database name (never the URL). */
  database: string;
  serverVersion: string;
  pgDumpVersion: string;
  format: 'pg_dump-custom';
  size: number;
  sha256: string;
  /** Row count of every table (`schema.table`), read in the same snapshot pg_dump dumped. */
  tables: Record<string, number>;
  verified: boolean;
  verifiedAt?: string;
  /** Why verification failed, when it did. */
  verificationError?: string;
}

export interface BackupTarget {
  app: string;
  environment: string;
  /** Name of the worker's env var holding the PostgreSQL connection URL. */
  databaseUrlFromEnv: string;
}

export interface TakeBackupInput extends BackupTarget {
  backupId: string;
  workflowId?: string;
}

export interface TakenBackup {
  id: string;
  size: number;
  sha256: string;
  tables: number;
  rows: number;
  serverVersion: string;
}

export interface VerifyBackupInput extends BackupTarget {
  backupId: string;
}

export interface VerifiedBackup {
  tables: number;
  rows: number;
}

export interface RecordVerificationInput {
  app: string;
  environment: string;
  backupId: string;
  verified: boolean;
  error?: string;
}

export interface PruneBackupsInput {
  app: string;
  environment: string;
  keep: number;
}

export interface PrunedBackups {
  kept: string[];
  deleted: string[];
}

export interface BackupActivities {
  /** pg_dump (custom format) into the store, with checksum and manifest (unverified). Same id again overwrites. */
  takeBackup(input: TakeBackupInput): Promise<TakenBackup>;
  /** Checks the checksum, restores into a scratch database and compares every table's row count. */
  verifyBackup(input: VerifyBackupInput): Promise<VerifiedBackup>;
  /** Marks the manifest verified, or records why verification failed. */
  recordBackupVerification(input: RecordVerificationInput): Promise<void>;
  /** Deletes what retention says to: keeps the newest `keep` verified backups, never the last verified one. */
  pruneBackups(input: PruneBackupsInput): Promise<PrunedBackups>;
}
