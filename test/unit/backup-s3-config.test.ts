/**
 * Which backup store the environment names, as the worker and the CLI both read it
 * (defaultBackupStore): the S3 bucket when SLIPWAY_BACKUP_S3_BUCKET is set, else the folder; a
 * half configuration refused with a message naming the variables and never their secret values.
 * No server: constructing an S3 store sends nothing.
 */
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../config/schema.js';
import { BackupStoreConfigError, defaultBackupStore, DirectoryBackupStore, S3BackupStore, s3ConfigFromEnv } from '../../activities/backup/index.js';
import { registerBackupCommands, type BackupCliContext } from '../../client/commands/backup.js';
import { CliExit } from '../../client/errors.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const keys = { AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE', AWS_SECRET_ACCESS_KEY: SECRET };

describe('s3ConfigFromEnv', () => {
  it('is undefined without SLIPWAY_BACKUP_S3_BUCKET, and the store is then the folder SLIPWAY_BACKUP_DIR names', () => {
    expect(s3ConfigFromEnv({ ...keys })).toBeUndefined();
    const store = defaultBackupStore({ SLIPWAY_BACKUP_DIR: '/var/lib/slipway/backups', ...keys });
    expect(store).toBeInstanceOf(DirectoryBackupStore);
    expect(store.description).toBe('directory /var/lib/slipway/backups');
  });

  it('takes empty variables as unset, as compose passes `${VAR:-}` when the operator set nothing', () => {
    const env = { SLIPWAY_BACKUP_DIR: '/var/lib/slipway/backups', SLIPWAY_BACKUP_S3_BUCKET: '', SLIPWAY_BACKUP_S3_ENDPOINT: '', SLIPWAY_BACKUP_S3_PREFIX: ' ', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' };
    expect(s3ConfigFromEnv(env)).toBeUndefined();
    expect(defaultBackupStore(env).description).toBe('directory /var/lib/slipway/backups');
  });

  it('reads bucket, prefix, endpoint, region, path style and keys; the bucket wins over SLIPWAY_BACKUP_DIR', () => {
    const env = {
      SLIPWAY_BACKUP_DIR: '/var/lib/slipway/backups',
      SLIPWAY_BACKUP_S3_BUCKET: 'prod-backups',
      SLIPWAY_BACKUP_S3_PREFIX: '/slipway/eu/',
      SLIPWAY_BACKUP_S3_ENDPOINT: 'https://minio.internal:9000/',
      SLIPWAY_BACKUP_S3_REGION: 'eu-central-1',
      ...keys,
      AWS_SESSION_TOKEN: 'session-token',
    };
    expect(s3ConfigFromEnv(env)).toEqual({
      bucket: 'prod-backups',
      prefix: 'slipway/eu',
      endpoint: 'https://minio.internal:9000',
      region: 'eu-central-1',
      forcePathStyle: true,
      credentials: { accessKeyId: keys.AWS_ACCESS_KEY_ID, secretAccessKey: SECRET, sessionToken: 'session-token' },
    });
    const store = defaultBackupStore(env);
    expect(store).toBeInstanceOf(S3BackupStore);
    expect(store.description).toBe('s3://prod-backups/slipway/eu at https://minio.internal:9000');
    (store as S3BackupStore).destroy();
  });

  it('on AWS itself: the region from AWS_REGION, virtual-hosted style, credentials left to the SDK\'s chain without keys', () => {
    expect(s3ConfigFromEnv({ SLIPWAY_BACKUP_S3_BUCKET: 'prod-backups', AWS_REGION: 'eu-west-1' })).toEqual({
      bucket: 'prod-backups',
      prefix: '',
      endpoint: undefined,
      region: 'eu-west-1',
      forcePathStyle: false,
      credentials: undefined,
    });
    expect(s3ConfigFromEnv({ SLIPWAY_BACKUP_S3_BUCKET: 'b12', SLIPWAY_BACKUP_S3_ENDPOINT: 'http://127.0.0.1:7070', SLIPWAY_BACKUP_S3_FORCE_PATH_STYLE: 'false' })?.forcePathStyle).toBe(false);
  });

  it.each([
    [{ SLIPWAY_BACKUP_S3_ENDPOINT: 'http://127.0.0.1:7070' }, /SLIPWAY_BACKUP_S3_ENDPOINT is set but SLIPWAY_BACKUP_S3_BUCKET is not/],
    [{ SLIPWAY_BACKUP_S3_PREFIX: 'slipway', SLIPWAY_BACKUP_S3_REGION: 'eu-west-1' }, /SLIPWAY_BACKUP_S3_PREFIX, SLIPWAY_BACKUP_S3_REGION are set but SLIPWAY_BACKUP_S3_BUCKET is not/],
    [{ SLIPWAY_BACKUP_S3_BUCKET: 'b12', AWS_SECRET_ACCESS_KEY: SECRET }, /AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not/],
    [{ SLIPWAY_BACKUP_S3_BUCKET: 'b12', AWS_ACCESS_KEY_ID: 'AKIA' }, /AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not/],
    [{ SLIPWAY_BACKUP_S3_BUCKET: 'b12', SLIPWAY_BACKUP_S3_ENDPOINT: `https://AKIA:${encodeURIComponent(SECRET)}@s3.example.test` }, /must not carry credentials/],
    [{ SLIPWAY_BACKUP_S3_BUCKET: 'b12', SLIPWAY_BACKUP_S3_ENDPOINT: 's3.example.test' }, /not a URL/],
    [{ SLIPWAY_BACKUP_S3_BUCKET: 'b12', SLIPWAY_BACKUP_S3_ENDPOINT: 'ftp://s3.example.test' }, /http:\/\/ or https:\/\//],
    [{ SLIPWAY_BACKUP_S3_BUCKET: 'a/b' }, /not a bucket name/],
    [{ SLIPWAY_BACKUP_S3_BUCKET: 'b12', SLIPWAY_BACKUP_S3_PREFIX: 'slipway/../other' }, /SLIPWAY_BACKUP_S3_PREFIX/],
    [{ SLIPWAY_BACKUP_S3_BUCKET: 'b12', SLIPWAY_BACKUP_S3_FORCE_PATH_STYLE: 'maybe' }, /expected true or false/],
  ])('refuses a half or wrong configuration: %j', (env, says) => {
    let thrown: unknown;
    try {
      defaultBackupStore(env);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(BackupStoreConfigError);
    expect((thrown as Error).message).toMatch(says);
    expect((thrown as Error).message).not.toContain(SECRET);
    expect((thrown as Error).message).not.toContain(encodeURIComponent(SECRET));
  });
});

describe('the CLI\'s store', () => {
  const config = configSchema.parse({
    gitops: { url: 'file:///x' },
    apps: {
      todoapp: {
        images: ['todoapp/backend'],
        environments: [
          { name: 'production', overlay: 'o/p', argocd: { application: 'todoapp-production' }, backup: { schedule: '0 3 * * *', postgres: { urlFromEnv: 'PROD_DATABASE_URL' } } },
        ],
      },
    },
  });

  it('refuses a half-configured S3 store as a usage error (exit 2), naming the missing bucket', async () => {
    const program = new Command().exitOverride();
    const ctx: BackupCliContext = {
      loadConfig: async () => config,
      client: async () => {
        throw new Error('backup list needs no Temporal');
      },
      taskQueue: 'slipway',
      print: () => {},
      printJson: () => {},
      json: false,
    };
    registerBackupCommands(program, () => ctx, { env: { SLIPWAY_BACKUP_S3_ENDPOINT: 'http://127.0.0.1:7070', SLIPWAY_BACKUP_DIR: '/nonexistent' } });
    const run = program.parseAsync(['node', 'slipway', 'backup', 'list', 'todoapp', 'production']);
    await expect(run).rejects.toBeInstanceOf(CliExit);
    await run.catch((err: CliExit) => {
      expect(err.code).toBe(2);
      expect(err.message).toMatch(/^error: SLIPWAY_BACKUP_S3_ENDPOINT is set but SLIPWAY_BACKUP_S3_BUCKET is not/);
    });
  });
});
