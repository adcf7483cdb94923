/**
 * Where backups live, and the manifest kept next to each dump. The directory store is the
 * default; anything that can put, get, list and delete objects (an S3-compatible bucket) can
 * implement this later without touching the activities.
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
  /** Where verification restored it: `scratch server db.internal:5432` or `the source server …` (never credentials). */
  verifiedOn?: string;
  /** Why verification failed, when it did. */
  verificationError?: string;
  /** Why the backup is flagged (an empty or shrunken database); a flagged backup is never verified. */
  flagged?: string;
}

export interface StoredBackup {
  id: string;
  /** Absent when the manifest is missing or unreadable: such a backup is treated as unverified. */
  manifest?: BackupManifest;
  /** When the store last wrote it, epoch ms (used when there is no manifest to say). */
  storedAt: number;
}

export interface BackupStore {
  /** Says where, for messages (`directory /var/backups/slipway`). Never holds a secret. */
  readonly description: string;
  /** Stores the dump read from a local file; replaces whatever an earlier attempt left for this id. */
  put(ref: BackupRef, fromFile: string): Promise<{ size: number }>;
  /** Copies the dump into a local file; throws when the backup has no dump. */
  get(ref: BackupRef, toFile: string): Promise<void>;
  writeManifest(manifest: BackupManifest): Promise<void>;
  /** The manifest, or undefined when there is none. Throws when it exists but does not parse. */
  readManifest(ref: BackupRef): Promise<BackupManifest | undefined>;
  /** Every backup of one environment, newest first. */
  list(app: string, environment: string): Promise<StoredBackup[]>;
  /** Removes the dump and its manifest; deleting what is not there is not an error. */
  delete(ref: BackupRef): Promise<void>;
}

const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Ids, apps and environments become path segments or object keys: refuse anything that could escape. */
export function isSafeSegment(value: string): boolean {
  return SAFE_SEGMENT.test(value) && !value.includes('..') && value.length <= 200;
}

export function assertSafeSegment(value: string, what: string): void {
  if (!isSafeSegment(value)) {
    throw new Error(`invalid ${what} "${value}": expected letters, digits, ".", "_" or "-"`);
  }
}

export function assertSafeRef(ref: BackupRef): void {
  assertSafeSegment(ref.app, 'app');
  assertSafeSegment(ref.environment, 'environment');
  assertSafeSegment(ref.id, 'backup id');
}
