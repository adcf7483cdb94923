/**
 * Backups of an environment's PostgreSQL: the activities, the stores they write to, and the
 * wiring from the environment that the worker and the CLI share (`defaultBackupStore`), so a
 * person's `slipway backup list` reads the very store the worker writes: an S3-compatible bucket
 * when SLIPWAY_BACKUP_S3_BUCKET is set, else the folder SLIPWAY_BACKUP_DIR names.
 */
import { join } from 'node:path';
import { homedir } from 'node:os';
import { createBackupActivities } from './activities.js';
import { DirectoryBackupStore } from './directory-store.js';
import { S3BackupStore, type S3StoreConfig } from './s3-store.js';
import { isSafeSegment, type BackupStore } from './store.js';

export { createBackupActivities, compareCounts, scratchDatabaseName, type BackupActivityOptions } from './activities.js';
export { DirectoryBackupStore } from './directory-store.js';
export { S3BackupStore, describeS3Store, type S3StoreConfig, type S3StoreOptions } from './s3-store.js';
export { type BackupManifest, type BackupRef, type BackupStore, type StoredBackup, assertSafeRef, assertSafeSegment } from './store.js';
export { databaseFromEnv, parseDatabaseUrl, withDatabase, redact, type DatabaseTarget } from './connection.js';
export { restoreDatabase, dumpDatabase } from './pg-tools.js';

/** The variables that configure the S3 store; the bucket is the one that turns it on. */
export const S3_BUCKET_VAR = 'SLIPWAY_BACKUP_S3_BUCKET';
export const S3_SETTING_VARS = ['SLIPWAY_BACKUP_S3_PREFIX', 'SLIPWAY_BACKUP_S3_ENDPOINT', 'SLIPWAY_BACKUP_S3_REGION', 'SLIPWAY_BACKUP_S3_FORCE_PATH_STYLE'] as const;

/** The backup store's settings in the environment are incomplete or wrong; nothing was read or written. */
export class BackupStoreConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupStoreConfigError';
  }
}

// Bucket names as S3-compatible servers take them (AWS's rules, plus the upper case and
// underscores some servers allow); never a "/" that would move the prefix.
const BUCKET = /^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$/;

/**
 * The S3 store's settings from the environment, or undefined when SLIPWAY_BACKUP_S3_BUCKET is
 * unset. A half configuration (an endpoint without a bucket, an access key without its secret)
 * is refused: guessing would put backups where the CLI, or the next worker, does not look.
 * Only the names of variables appear in messages, never their secret values.
 */
export function s3ConfigFromEnv(env: NodeJS.ProcessEnv): S3StoreConfig | undefined {
  const value = (name: string) => env[name]?.trim() || undefined;
  const bucket = value(S3_BUCKET_VAR);
  if (!bucket) {
    const set = S3_SETTING_VARS.filter((name) => value(name) !== undefined);
    if (set.length > 0) {
      throw new BackupStoreConfigError(
        `${set.join(', ')} ${set.length === 1 ? 'is' : 'are'} set but ${S3_BUCKET_VAR} is not: set ${S3_BUCKET_VAR} to keep backups in that bucket, ` +
          `or unset ${set.length === 1 ? 'it' : 'them'} to keep them in the folder SLIPWAY_BACKUP_DIR names`,
      );
    }
    return undefined;
  }
  if (!BUCKET.test(bucket) || bucket.includes('..')) {
    throw new BackupStoreConfigError(`${S3_BUCKET_VAR}=${bucket}: not a bucket name (3 to 255 letters, digits, ".", "_" or "-", no "/")`);
  }

  const rawPrefix = value('SLIPWAY_BACKUP_S3_PREFIX') ?? '';
  const prefix = rawPrefix.replace(/^\/+|\/+$/g, '');
  if (prefix && !prefix.split('/').every(isSafeSegment)) {
    throw new BackupStoreConfigError(`SLIPWAY_BACKUP_S3_PREFIX=${rawPrefix}: expected "/"-separated parts of letters, digits, ".", "_" or "-"`);
  }

  let endpoint: string | undefined;
  const rawEndpoint = value('SLIPWAY_BACKUP_S3_ENDPOINT');
  if (rawEndpoint) {
    let url: URL;
    try {
      url = new URL(rawEndpoint);
    } catch {
      throw new BackupStoreConfigError('SLIPWAY_BACKUP_S3_ENDPOINT is not a URL (expected e.g. https://s3.example.com or http://127.0.0.1:7070)');
    }
    // A URL with credentials in it would end up in every message that names the store.
    if (url.username || url.password) {
      throw new BackupStoreConfigError('SLIPWAY_BACKUP_S3_ENDPOINT must not carry credentials: give them in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new BackupStoreConfigError(`SLIPWAY_BACKUP_S3_ENDPOINT: expected an http:// or https:// URL, not ${url.protocol}`);
    }
    if (url.search || url.hash) throw new BackupStoreConfigError('SLIPWAY_BACKUP_S3_ENDPOINT: expected a URL without ? or #');
    endpoint = `${url.origin}${url.pathname === '/' ? '' : url.pathname.replace(/\/+$/, '')}`;
  }

  const region = value('SLIPWAY_BACKUP_S3_REGION') ?? value('AWS_REGION') ?? value('AWS_DEFAULT_REGION') ?? 'us-east-1';
  if (!/^[a-z0-9-]{1,64}$/i.test(region)) throw new BackupStoreConfigError(`region ${region}: expected letters, digits and "-" (e.g. eu-west-1)`);

  // S3-compatible servers at an address of their own rarely have a wildcard DNS name per bucket,
  // so with an endpoint the bucket goes in the path unless told otherwise; AWS takes either.
  const rawPathStyle = value('SLIPWAY_BACKUP_S3_FORCE_PATH_STYLE');
  let forcePathStyle = endpoint !== undefined;
  if (rawPathStyle !== undefined) {
    if (/^(true|1|yes)$/i.test(rawPathStyle)) forcePathStyle = true;
    else if (/^(false|0|no)$/i.test(rawPathStyle)) forcePathStyle = false;
    else throw new BackupStoreConfigError(`SLIPWAY_BACKUP_S3_FORCE_PATH_STYLE=${rawPathStyle}: expected true or false`);
  }

  const accessKeyId = value('AWS_ACCESS_KEY_ID');
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY || undefined;
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new BackupStoreConfigError(
      `${accessKeyId ? 'AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not' : 'AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not'}: ` +
        `the bucket ${bucket} needs both, or neither (the SDK's default credentials: a role, web identity, a profile)`,
    );
  }
  const sessionToken = env.AWS_SESSION_TOKEN || undefined;
  const credentials = accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } : undefined;

  return { bucket, prefix, endpoint, region, forcePathStyle, credentials };
}

/**
 * The store the worker writes and the CLI reads, from the same environment: the S3 bucket when
 * SLIPWAY_BACKUP_S3_BUCKET is set (SLIPWAY_BACKUP_DIR is then not used), else the folder
 * SLIPWAY_BACKUP_DIR names, or ~/.local/share/slipway/backups. Throws BackupStoreConfigError on a
 * half configuration, so a worker refuses to start rather than back up somewhere unexpected.
 */
export function defaultBackupStore(env: NodeJS.ProcessEnv = process.env): BackupStore {
  const s3 = s3ConfigFromEnv(env);
  if (s3) return new S3BackupStore(s3);
  const dir = env.SLIPWAY_BACKUP_DIR || join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'slipway', 'backups');
  return new DirectoryBackupStore(dir);
}

/** The backup activities as the worker registers them, with the store from the environment. */
export function defaultBackupActivities(env: NodeJS.ProcessEnv = process.env) {
  return createBackupActivities({ store: defaultBackupStore(env), env });
}
