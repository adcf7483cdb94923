/**
 * The S3 backup store's pure parts, without a server: where each backup's objects go, how a
 * listing is sorted into backups and strays, how a dump is cut into parts, and which SDK errors
 * a retry cannot fix. The store against a real server is test/integration/backup-s3-store.test.ts.
 */
import { NoSuchBucket, S3ServiceException } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { backupKeys, describeS3Store, environmentPrefix, MIN_PART_SIZE, parseListing, partRanges, s3Failure } from '../../activities/backup/s3-store.js';

const MiB = 1024 * 1024;

describe('S3 key layout', () => {
  it('puts a backup at <prefix>/<app>/<environment>/<id>.dump beside <id>.manifest.json, as the directory store names its files', () => {
    expect(backupKeys('slipway/prod', { app: 'todoapp', environment: 'production', id: '20260110T030000Z-1a2b3c4d' })).toEqual({
      dump: 'slipway/prod/todoapp/production/20260110T030000Z-1a2b3c4d.dump',
      manifest: 'slipway/prod/todoapp/production/20260110T030000Z-1a2b3c4d.manifest.json',
    });
    expect(backupKeys('', { app: 'todoapp', environment: 'staging', id: 'x1' }).dump).toBe('todoapp/staging/x1.dump');
    expect(environmentPrefix('p', 'todoapp', 'staging')).toBe('p/todoapp/staging/');
  });

  it('refuses an app, environment or id that could reach another key', () => {
    expect(() => backupKeys('p', { app: '../other', environment: 'production', id: 'x' })).toThrow(/invalid app/);
    expect(() => backupKeys('p', { app: 'todoapp', environment: 'prod/uction', id: 'x' })).toThrow(/invalid environment/);
    expect(() => backupKeys('p', { app: 'todoapp', environment: 'production', id: 'a/../../b' })).toThrow(/invalid backup id/);
    expect(() => environmentPrefix('p', 'todoapp', '')).toThrow(/invalid environment/);
  });

  it('describes the store by bucket, prefix and endpoint (or AWS region), which hold no secret', () => {
    expect(describeS3Store({ bucket: 'b', prefix: 'slipway', endpoint: 'http://127.0.0.1:7070', region: 'us-east-1' })).toBe('s3://b/slipway at http://127.0.0.1:7070');
    expect(describeS3Store({ bucket: 'b', prefix: '', region: 'eu-west-1' })).toBe('s3://b (AWS S3, region eu-west-1)');
  });
});

describe('parseListing', () => {
  const folder = 'p/todoapp/production/';
  const at = (key: string, lastModified = 1000) => ({ key: `${folder}${key}`, lastModified });

  it('pairs dumps with manifests by id, keeping when each was written', () => {
    const { backups, strays } = parseListing(folder, [at('a.dump', 1), at('a.manifest.json', 2), at('b.dump', 3), at('c.manifest.json', 4)], []);
    expect(Object.fromEntries(backups)).toEqual({ a: { dumpAt: 1, manifestAt: 2 }, b: { dumpAt: 3 }, c: { manifestAt: 4 } });
    expect(strays).toEqual([]);
  });

  it('names every key that is no backup as a stray: copies, other files, leftovers of a directory store, deeper folders', () => {
    const { backups, strays } = parseListing(
      folder,
      [at('X (1).dump'), at('notes.txt'), at('a.dump'), at('a.dump.partial-1a2b3c4d'), at('..dump'), at('')],
      [`${folder}old/`],
    );
    expect([...backups.keys()]).toEqual(['a']);
    expect(strays.sort()).toEqual(['..dump', 'X (1).dump', 'a.dump.partial-1a2b3c4d', 'notes.txt', 'old/'].sort());
  });

  it('ignores keys outside the folder and the folder\'s own marker object', () => {
    const { backups, strays } = parseListing(folder, [{ key: 'p/todoapp/staging/a.dump', lastModified: 1 }, at('')], [folder]);
    expect(backups.size).toBe(0);
    expect(strays).toEqual([]);
  });
});

describe('partRanges', () => {
  const covers = (size: number, ranges: Array<{ start: number; end: number }>) => {
    expect(ranges[0]!.start).toBe(0);
    expect(ranges.at(-1)!.end).toBe(size - 1);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]!.start).toBe(ranges[i - 1]!.end + 1);
  };

  it('cuts a dump into contiguous parts of the part size, the last one shorter', () => {
    const ranges = partRanges(12 * MiB + 5, 5 * MiB);
    expect(ranges.map((r) => r.end - r.start + 1)).toEqual([5 * MiB, 5 * MiB, 2 * MiB + 5]);
    covers(12 * MiB + 5, ranges);
    expect(partRanges(10 * MiB, 5 * MiB)).toHaveLength(2);
  });

  it('never uses parts below S3\'s 5 MiB minimum, nor more than its 10,000 parts', () => {
    expect(partRanges(11 * MiB, MiB).map((r) => r.end - r.start + 1)).toEqual([MIN_PART_SIZE, MIN_PART_SIZE, MiB]);
    const huge = 200 * 1024 * MiB; // 200 GiB with 8 MiB parts would be 25,600 parts
    const ranges = partRanges(huge, 8 * MiB);
    expect(ranges.length).toBeLessThanOrEqual(10_000);
    covers(huge, ranges);
  });
});

describe('s3Failure', () => {
  const ctx = { bucket: 'prod-backups', where: 's3://prod-backups/slipway at https://s3.example.test', doing: 'listing backups of todoapp/production', secrets: ['wJalrXUtnFEMIsecret', 'session-token-123'] };
  const serviceError = (name: string, status: number, message = name) =>
    new S3ServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message });

  it('a missing bucket is non-retryable BackupFailed naming the bucket', () => {
    const failure = s3Failure(new NoSuchBucket({ $metadata: { httpStatusCode: 404 }, message: 'The specified bucket does not exist' }), ctx);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'BackupFailed', nonRetryable: true });
    expect(failure.message).toMatch(/listing backups of todoapp\/production in s3:\/\/prod-backups\/slipway at https:\/\/s3\.example\.test failed: bucket "prod-backups" does not exist/);
  });

  it.each([
    ['SignatureDoesNotMatch', 403, /signature does not match.*AWS_SECRET_ACCESS_KEY/],
    ['InvalidAccessKeyId', 403, /does not know the access key in AWS_ACCESS_KEY_ID/],
    ['XAdminUserNotFound', 404, /does not know the access key in AWS_ACCESS_KEY_ID/],
    ['AccessDenied', 403, /access to bucket "prod-backups" denied \(AccessDenied\)/],
    ['ExpiredToken', 400, /session credentials were refused/],
    ['AuthorizationHeaderMalformed', 400, /SLIPWAY_BACKUP_S3_REGION/],
    ['Forbidden', 403, /denied \(HTTP 403\)/],
  ])('%s (HTTP %i) is non-retryable, names the bucket and says what to check', (name, status, says) => {
    const failure = s3Failure(serviceError(name, status, `${name}: request signed with wJalrXUtnFEMIsecret`), ctx);
    expect(failure).toMatchObject({ nonRetryable: true });
    expect(failure.message).toMatch(says);
    expect(failure.message).toContain('prod-backups');
  });

  it('a busy or unreachable server stays retryable, and no secret survives into the message', () => {
    const busy = s3Failure(serviceError('SlowDown', 503), ctx);
    expect(busy).not.toBeInstanceOf(ApplicationFailure);
    expect(busy.message).toBe('listing backups of todoapp/production in s3://prod-backups/slipway at https://s3.example.test failed: SlowDown (HTTP 503)');
    const down = s3Failure(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9 token session-token-123 key wJalrXUtnFEMIsecret'), { code: 'ECONNREFUSED' }), ctx);
    expect(down).not.toBeInstanceOf(ApplicationFailure);
    expect(down.message).toMatch(/failed: Error: connect ECONNREFUSED 127\.0\.0\.1:9/);
    expect(down.message).not.toContain('wJalrXUtnFEMIsecret');
    expect(down.message).not.toContain('session-token-123');
  });
});
