/**
 * A real S3-compatible server for a test file (infra/s3/versitygw.ts), with one bucket made, and
 * the worker environment that points the backup store at it. Each file starts its own: versitygw
 * answers in well under a second, so no suite-wide server is needed. Its log stays in test-output.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startVersitygw, type RunningVersitygw } from '../../infra/s3/versitygw.js';

export interface TestS3 {
  server: RunningVersitygw;
  bucket: string;
  /** The variables a worker (and the CLI) would have for this bucket under `prefix`. */
  env(prefix?: string): Record<string, string>;
  stop(): Promise<void>;
}

export async function startTestS3(bucket = `slipway-backups-${randomBytes(3).toString('hex')}`): Promise<TestS3> {
  const out = join(process.cwd(), 'test-output');
  mkdirSync(out, { recursive: true });
  const server = await startVersitygw({ buckets: [bucket], logFile: join(out, `versitygw-${bucket}.log`) });
  return {
    server,
    bucket,
    env: (prefix) => ({
      SLIPWAY_BACKUP_S3_BUCKET: bucket,
      ...(prefix ? { SLIPWAY_BACKUP_S3_PREFIX: prefix } : {}),
      SLIPWAY_BACKUP_S3_ENDPOINT: server.endpoint,
      SLIPWAY_BACKUP_S3_REGION: server.region,
      AWS_ACCESS_KEY_ID: server.accessKeyId,
      AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
    }),
    stop: () => server.stop(),
  };
}
