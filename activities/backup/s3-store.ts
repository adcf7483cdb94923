/**
 * The backup store for production: an S3-compatible bucket, through `@aws-sdk/client-s3`. Keys
 * follow the directory store's layout, `<prefix>/<app>/<environment>/<id>.dump` beside
 * `<id>.manifest.json`, so the same names mean the same things in both. An object appears whole
 * or not at all, so a reader never sees half a dump and a retried put replaces an earlier
 * attempt's object.
 *
 * Dumps are streamed from and to files, never held in memory: one PutObject up to the part size,
 * a multipart upload beyond it, each part read from its own range of the file (so a failed part
 * is sent again from the file, not from a buffer). Every call has a deadline: small calls a fixed
 * one, transfers what is left of the activity attempt; a cancelled activity aborts what is in
 * flight. Credentials come from the worker's environment and never appear in a message.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { currentActivity, defaultLogger, heartbeat } from '../activity-context.js';
import { backupFailure } from './connection.js';
import { remainingAttemptMs } from './deadline.js';
import { classifyEntry } from './directory-store.js';
import { assertSafeRef, assertSafeSegment, type BackupManifest, type BackupRef, type BackupStore, type StoredBackup } from './store.js';

const DUMP = '.dump';
const MANIFEST = '.manifest.json';

/** S3 refuses parts below 5 MiB (except the last) and more than 10,000 parts per upload. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
const MAX_PARTS = 10_000;
const DEFAULT_PART_SIZE = 64 * 1024 * 1024;
/** Parts in flight at once: with streamed parts this bounds sockets, not memory. */
const PART_CONCURRENCY = 4;
const PART_ATTEMPTS = 3;
/** A listing, a manifest, a head or a delete: small, so a fixed bound. */
const DEFAULT_CALL_TIMEOUT_MS = 30_000;
/** A manifest is a few KB; anything far bigger under that name is not one. */
const MAX_MANIFEST_BYTES = 32 * 1024 * 1024;
const MANIFEST_READ_CONCURRENCY = 8;

export interface S3StoreConfig {
  bucket: string;
  /** Key prefix without leading or trailing slash; '' for none. */
  prefix: string;
  /** An S3-compatible server's URL (no credentials in it); AWS's own endpoint for the region when absent. */
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  /** From the worker's environment; absent: the SDK's default chain (a role, web identity, a profile). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export interface S3StoreOptions {
  /** Where a listing reports keys it skipped; the activity's log inside an activity, else the console. */
  warn?: (message: string) => void;
  /** Bytes per part of a multipart upload, and the largest dump sent in one PutObject (at least 5 MiB). */
  partSize?: number;
  /** The deadline of each small call (listing page, manifest, head, delete). */
  callTimeoutMs?: number;
}

// ------------------------------------------------------------------ key layout (pure)

/** `s3://bucket/prefix at http://host:port`: where, for messages; never a credential. */
export function describeS3Store(config: Pick<S3StoreConfig, 'bucket' | 'prefix' | 'endpoint' | 'region'>): string {
  const where = `s3://${config.bucket}${config.prefix ? `/${config.prefix}` : ''}`;
  return config.endpoint ? `${where} at ${config.endpoint}` : `${where} (AWS S3, region ${config.region})`;
}

/** The "folder" of one environment's backups: `<prefix>/<app>/<environment>/`. */
export function environmentPrefix(prefix: string, app: string, environment: string): string {
  assertSafeSegment(app, 'app');
  assertSafeSegment(environment, 'environment');
  return `${prefix ? `${prefix}/` : ''}${app}/${environment}/`;
}

export function backupKeys(prefix: string, ref: BackupRef): { dump: string; manifest: string } {
  assertSafeRef(ref);
  const folder = environmentPrefix(prefix, ref.app, ref.environment);
  return { dump: `${folder}${ref.id}${DUMP}`, manifest: `${folder}${ref.id}${MANIFEST}` };
}

export interface ListedObject {
  key: string;
  /** Epoch ms. */
  lastModified: number;
}

export interface ParsedListing {
  /** Backup id → when its dump and its manifest were written (epoch ms), for those that exist. */
  backups: Map<string, { dumpAt?: number; manifestAt?: number }>;
  /** Names (relative to the folder) that are no backup: another tool's objects, `X (1).dump`, deeper "folders" (ending in /). */
  strays: string[];
}

/**
 * Sorts one environment's listing into backups and strays. The store never writes temporary
 * objects, so a `.partial-` name here is a stray too (a directory store copied mid-write). The
 * folder's own marker object (`<folder>/`, made by consoles that "create a folder") is neither.
 */
export function parseListing(folder: string, objects: ListedObject[], subfolders: string[]): ParsedListing {
  const backups = new Map<string, { dumpAt?: number; manifestAt?: number }>();
  const strays: string[] = [];
  for (const { key, lastModified } of objects) {
    if (!key.startsWith(folder)) continue;
    const name = key.slice(folder.length);
    if (name === '') continue;
    const what = classifyEntry(name, !name.includes('/'));
    if (what.kind !== 'backup') {
      strays.push(name);
      continue;
    }
    const entry = backups.get(what.id) ?? {};
    if (name.endsWith(DUMP)) entry.dumpAt = lastModified;
    else entry.manifestAt = lastModified;
    backups.set(what.id, entry);
  }
  for (const sub of subfolders) if (sub.startsWith(folder) && sub.length > folder.length) strays.push(sub.slice(folder.length));
  return { backups, strays };
}

/** The byte ranges (inclusive ends) of a multipart upload of `size` bytes, parts of `partSize` or more. */
export function partRanges(size: number, partSize: number): Array<{ start: number; end: number }> {
  const part = Math.max(partSize, MIN_PART_SIZE, Math.ceil(size / MAX_PARTS));
  const ranges: Array<{ start: number; end: number }> = [];
  for (let start = 0; start < size; start += part) ranges.push({ start, end: Math.min(size, start + part) - 1 });
  return ranges;
}

// ------------------------------------------------------------------ errors (pure)

interface SdkError {
  name?: string;
  message?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

export interface S3ErrorContext {
  bucket: string;
  /** The store's description. */
  where: string;
  /** What was being done, for the message: "uploading backup a/b/c". */
  doing: string;
  /** Strings that must never appear in a message (the secret key, the session token). */
  secrets: string[];
}

function redactAll(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) if (secret) out = out.split(secret).join('***');
  return out;
}

/**
 * Turns what the SDK threw into the error the activities and the CLI report. What a retry cannot
 * fix (no such bucket, access denied, an unknown key or a wrong secret, no credentials, the wrong
 * region) becomes a non-retryable BackupFailed naming the bucket; anything else (the server down
 * or busy, a 5xx, a reset connection) stays an ordinary error, so the activity is retried. Server
 * messages are not repeated, only the error's code: some echo the request back.
 */
export function s3Failure(err: unknown, ctx: S3ErrorContext): Error {
  const e = (err ?? {}) as SdkError;
  const code = e.Code ?? e.name ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const bucket = `bucket "${ctx.bucket}"`;
  const refuse = (why: string) => backupFailure(redactAll(`${ctx.doing} in ${ctx.where} failed: ${why}`, ctx.secrets), true);
  switch (code) {
    case 'NoSuchBucket':
      return refuse(`${bucket} does not exist (create it, or set SLIPWAY_BACKUP_S3_BUCKET to one that does)`);
    case 'InvalidAccessKeyId':
    // versitygw without an IAM service answers an unknown access key so (HTTP 404).
    case 'XAdminUserNotFound':
      return refuse(`the server does not know the access key in AWS_ACCESS_KEY_ID (${code}); access to ${bucket} denied`);
    case 'SignatureDoesNotMatch':
      return refuse(`the request's signature does not match (SignatureDoesNotMatch): AWS_SECRET_ACCESS_KEY is not the secret of the access key in AWS_ACCESS_KEY_ID; access to ${bucket} denied`);
    case 'ExpiredToken':
    case 'InvalidToken':
    case 'TokenRefreshRequired':
      return refuse(`the session credentials were refused (${code}): renew AWS_SESSION_TOKEN or give the worker a role; access to ${bucket} denied`);
    case 'AccessDenied':
    case 'AllAccessDisabled':
    case 'AccountProblem':
      return refuse(`access to ${bucket} denied (${code}): the credentials the worker has may not do this, check the bucket's policy`);
    case 'PermanentRedirect':
    case 'AuthorizationHeaderMalformed':
    case 'IllegalLocationConstraintException':
      return refuse(`${bucket} is not in the region the store was given (${code}): set SLIPWAY_BACKUP_S3_REGION to the bucket's region`);
    case 'InvalidBucketName':
      return refuse(`${bucket} is not a valid bucket name (InvalidBucketName)`);
    case 'CredentialsProviderError':
      return refuse(`no credentials to reach ${bucket}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give the worker a role`);
  }
  // Bodiless answers (HEAD) carry only a status.
  if (status === 403) return refuse(`access to ${bucket} denied (HTTP 403): check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the bucket's policy`);
  if (status === 301) return refuse(`${bucket} is not at this endpoint or region (HTTP 301): set SLIPWAY_BACKUP_S3_REGION or SLIPWAY_BACKUP_S3_ENDPOINT`);
  const detail = status ? `${code} (HTTP ${status})` : `${code}: ${e.message ?? String(err)}`;
  return new Error(redactAll(`${ctx.doing} in ${ctx.where} failed: ${detail}`, ctx.secrets));
}

const isNotFound = (err: unknown) => {
  const e = err as SdkError;
  return e?.name === 'NoSuchKey' || e?.Code === 'NoSuchKey' || (e?.name === 'NotFound' && e.$metadata?.httpStatusCode === 404);
};

// ------------------------------------------------------------------ the store

export class S3BackupStore implements BackupStore {
  readonly description: string;
  readonly client: S3Client;
  private readonly warn: (message: string) => void;
  private readonly partSize: number;
  private readonly callTimeoutMs: number;
  private readonly secrets: string[];

  constructor(readonly config: S3StoreConfig, options: S3StoreOptions = {}) {
    this.description = describeS3Store(config);
    this.warn = options.warn ?? ((message) => defaultLogger().warn(message));
    this.partSize = Math.max(MIN_PART_SIZE, options.partSize ?? DEFAULT_PART_SIZE);
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.secrets = [config.credentials?.secretAccessKey ?? '', config.credentials?.sessionToken ?? ''];
    this.client = new S3Client({
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      forcePathStyle: config.forcePathStyle,
      ...(config.credentials ? { credentials: config.credentials } : {}),
      // No silent hang: a connection must open within 10 s and no socket may sit idle for a minute,
      // whatever the per-call deadline says.
      requestHandler: { connectionTimeout: 10_000, requestTimeout: 60_000 },
      maxAttempts: 3,
      // S3-compatible servers differ in which flexible checksums they take; the dump's own sha256,
      // in its manifest, is checked at every verification and restore.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // Our errors say what failed; the SDK's own console warnings would only repeat it.
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
  }

  /** Closes the client's sockets (tests; the worker keeps one store for its life). */
  destroy(): void {
    this.client.destroy();
  }

  private keys(ref: BackupRef) {
    return backupKeys(this.config.prefix, ref);
  }

  /** A signal that fires at `ms` from now (capped by the activity attempt) or when the activity is cancelled. */
  private deadline(ms: number): { signal: AbortSignal; ms: number } {
    const bound = Math.min(ms, remainingAttemptMs());
    const signals = [AbortSignal.timeout(bound)];
    const cancelled = currentActivity()?.cancellationSignal;
    if (cancelled) signals.push(cancelled);
    return { signal: AbortSignal.any(signals), ms: bound };
  }

  /** Runs one SDK call under `deadline`, turning what it throws into a store error. */
  private async call<T>(doing: string, deadline: { signal: AbortSignal; ms: number }, send: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await send(deadline.signal);
    } catch (err) {
      throw this.failure(err, doing, deadline);
    }
  }

  private failure(err: unknown, doing: string, deadline: { signal: AbortSignal; ms: number }): Error {
    if (deadline.signal.aborted) {
      const cancelled = currentActivity()?.cancellationSignal?.aborted;
      return new Error(
        cancelled ? `${doing} in ${this.description} stopped: the activity was cancelled` : `${doing} in ${this.description} timed out after ${Math.round(deadline.ms / 1000)} s`,
      );
    }
    return s3Failure(err, { bucket: this.config.bucket, where: this.description, doing, secrets: this.secrets });
  }

  private small<T>(doing: string, send: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    return this.call(doing, this.deadline(this.callTimeoutMs), send);
  }

  async put(ref: BackupRef, fromFile: string): Promise<{ size: number }> {
    const { dump } = this.keys(ref);
    const doing = `uploading backup ${ref.app}/${ref.environment}/${ref.id}`;
    const { size } = await stat(fromFile);
    // The whole transfer is bounded by what is left of the activity attempt.
    const transfer = this.deadline(Number.POSITIVE_INFINITY);
    // Heartbeats as bytes leave the file, so a slow upload of one big part still shows it is alive.
    const progress = uploadProgress(size);
    if (size <= this.partSize) {
      await this.withPartRetries(transfer, () =>
        this.call(doing, transfer, (abortSignal) =>
          this.client.send(
            new PutObjectCommand({ Bucket: this.config.bucket, Key: dump, Body: fileBody(fromFile, 0, size, progress), ContentLength: size, ContentType: 'application/octet-stream' }),
            { abortSignal },
          ),
        ),
      );
    } else {
      await this.multipartUpload(dump, fromFile, size, doing, transfer, progress);
    }
    // The size the store now holds, as the directory store reports its file's.
    const head = await this.small(`checking uploaded backup ${ref.app}/${ref.environment}/${ref.id}`, (abortSignal) =>
      this.client.send(new HeadObjectCommand({ Bucket: this.config.bucket, Key: dump }), { abortSignal }),
    );
    if (head.ContentLength !== size) {
      throw new Error(`${doing} in ${this.description}: the stored object has ${head.ContentLength} bytes, the dump ${size}`);
    }
    return { size };
  }

  private async multipartUpload(
    key: string,
    file: string,
    size: number,
    doing: string,
    transfer: { signal: AbortSignal; ms: number },
    progress: (bytes: number) => void,
  ): Promise<void> {
    const bucket = this.config.bucket;
    const created = await this.small(doing, (abortSignal) =>
      this.client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: 'application/octet-stream' }), { abortSignal }),
    );
    const uploadId = created.UploadId;
    if (!uploadId) throw new Error(`${doing} in ${this.description}: the server started a multipart upload without an UploadId`);
    const ranges = partRanges(size, this.partSize);
    const etags: string[] = [];
    let next = 0;
    // One failed part stops the others taking new ones; the upload is then aborted below.
    let failed = false;
    const worker = async () => {
      while (!failed && next < ranges.length) {
        const index = next++;
        const { start, end } = ranges[index]!;
        const length = end - start + 1;
        try {
          const part = await this.withPartRetries(transfer, () =>
            this.call(`${doing} (part ${index + 1} of ${ranges.length})`, transfer, (abortSignal) =>
              this.client.send(
                new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: index + 1, Body: fileBody(file, start, length, progress), ContentLength: length }),
                { abortSignal },
              ),
            ),
          );
          if (!part.ETag) throw new Error(`${doing} in ${this.description}: part ${index + 1} was stored without an ETag`);
          etags[index] = part.ETag;
        } catch (err) {
          failed = true;
          throw err;
        }
      }
    };
    try {
      const results = await Promise.allSettled(Array.from({ length: Math.min(PART_CONCURRENCY, ranges.length) }, worker));
      const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (rejected) throw rejected.reason;
      await this.call(doing, transfer, (abortSignal) =>
        this.client.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
          }),
          { abortSignal },
        ),
      );
    } catch (err) {
      // Parts of an unfinished upload are billed and invisible: give them back. Best effort, under its own deadline.
      await this.client
        .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }), { abortSignal: AbortSignal.timeout(this.callTimeoutMs) })
        .catch(() => undefined);
      throw err;
    }
  }

  /**
   * A streamed body cannot be sent twice, so the SDK does not retry it: a part (or a small dump)
   * whose send failed for a reason a retry can fix is sent again from the file, a few times,
   * while the transfer's deadline lasts.
   */
  private async withPartRetries<T>(transfer: { signal: AbortSignal }, send: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await send();
      } catch (err) {
        const nonRetryable = (err as { nonRetryable?: boolean }).nonRetryable === true;
        if (nonRetryable || transfer.signal.aborted || attempt >= PART_ATTEMPTS) throw err;
        await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
      }
    }
  }

  async get(ref: BackupRef, toFile: string): Promise<void> {
    const { dump } = this.keys(ref);
    const doing = `downloading backup ${ref.app}/${ref.environment}/${ref.id}`;
    const transfer = this.deadline(Number.POSITIVE_INFINITY);
    let response;
    try {
      response = await this.client.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: dump }), { abortSignal: transfer.signal });
    } catch (err) {
      if (isNotFound(err)) throw new Error(`backup ${ref.app}/${ref.environment}/${ref.id} has no dump in ${this.description}`);
      throw this.failure(err, doing, transfer);
    }
    const body = response.Body as Readable | undefined;
    if (!body) throw new Error(`${doing} in ${this.description}: the server answered without a body`);
    const of = response.ContentLength;
    const progress = throttledHeartbeat();
    let downloaded = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        downloaded += chunk.length;
        progress({ downloaded, of });
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, counter, createWriteStream(toFile), { signal: transfer.signal });
    } catch (err) {
      await rm(toFile, { force: true });
      throw this.failure(err, doing, transfer);
    }
    if (of !== undefined && downloaded !== of) {
      await rm(toFile, { force: true });
      throw new Error(`${doing} in ${this.description}: got ${downloaded} of ${of} bytes`);
    }
  }

  async writeManifest(manifest: BackupManifest): Promise<void> {
    const { manifest: key } = this.keys(manifest);
    await this.small(`writing the manifest of backup ${manifest.app}/${manifest.environment}/${manifest.id}`, (abortSignal) =>
      this.client.send(
        new PutObjectCommand({ Bucket: this.config.bucket, Key: key, Body: `${JSON.stringify(manifest, null, 2)}\n`, ContentType: 'application/json' }),
        { abortSignal },
      ),
    );
  }

  async readManifest(ref: BackupRef): Promise<BackupManifest | undefined> {
    const { manifest: key } = this.keys(ref);
    const name = `backup ${ref.app}/${ref.environment}/${ref.id}`;
    const doing = `reading the manifest of ${name}`;
    const deadline = this.deadline(this.callTimeoutMs);
    let text: string;
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: key }), { abortSignal: deadline.signal });
      if ((response.ContentLength ?? 0) > MAX_MANIFEST_BYTES) {
        (response.Body as Readable | undefined)?.destroy();
        throw new Error(`manifest of ${name} is ${response.ContentLength} bytes: not a manifest`);
      }
      text = (await response.Body?.transformToString('utf8')) ?? '';
    } catch (err) {
      if (isNotFound(err)) return undefined;
      if (err instanceof Error && err.message.startsWith(`manifest of ${name}`)) throw err;
      throw this.failure(err, doing, deadline);
    }
    try {
      return JSON.parse(text) as BackupManifest;
    } catch {
      throw new Error(`manifest of ${name} is not valid JSON`);
    }
  }

  async list(app: string, environment: string): Promise<StoredBackup[]> {
    const folder = environmentPrefix(this.config.prefix, app, environment);
    const objects: ListedObject[] = [];
    const subfolders: string[] = [];
    const seen = new Set<string>();
    let token: string | undefined;
    do {
      const page = await this.small(`listing backups of ${app}/${environment}`, (abortSignal) =>
        this.client.send(
          new ListObjectsV2Command({ Bucket: this.config.bucket, Prefix: folder, Delimiter: '/', ...(token ? { ContinuationToken: token } : {}) }),
          { abortSignal },
        ),
      );
      for (const o of page.Contents ?? []) if (o.Key) objects.push({ key: o.Key, lastModified: o.LastModified?.getTime() ?? 0 });
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix) subfolders.push(p.Prefix);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      // A server that hands back a token it gave before would list forever.
      if (token !== undefined && seen.has(token)) throw new Error(`listing backups of ${app}/${environment} in ${this.description}: the server repeated a continuation token`);
      if (token !== undefined) seen.add(token);
    } while (token !== undefined);

    const { backups, strays } = parseListing(folder, objects, subfolders);
    // A key that is no backup must not stop listing, pruning or restoring the backups beside it;
    // it is never deleted either (it is not ours), only named, once per listing.
    if (strays.length > 0) {
      this.warn(
        `skipping ${strays.length === 1 ? 'an object' : `${strays.length} objects`} in ${describeS3Store({ ...this.config, prefix: folder.slice(0, -1) })} that ${strays.length === 1 ? 'is' : 'are'} not a backup: ` +
          `${strays.sort().map((s) => JSON.stringify(s)).join(', ')} (backups are <id>.dump and <id>.manifest.json, ids of letters, digits, ".", "_" or "-")`,
      );
    }
    const entries = [...backups.entries()];
    const listed: StoredBackup[] = [];
    for (let i = 0; i < entries.length; i += MANIFEST_READ_CONCURRENCY) {
      const batch = entries.slice(i, i + MANIFEST_READ_CONCURRENCY);
      listed.push(
        ...(await Promise.all(
          batch.map(async ([id, at]) => {
            let manifest: BackupManifest | undefined;
            if (at.manifestAt !== undefined) {
              try {
                manifest = await this.readManifest({ app, environment, id });
              } catch (err) {
                // A store that refuses us now will refuse the rest: say so rather than list everything as unverified.
                if ((err as { nonRetryable?: boolean }).nonRetryable) throw err;
                manifest = undefined; // unreadable: listed, but it never counts as verified
              }
            }
            return { id, manifest, storedAt: at.dumpAt ?? at.manifestAt ?? 0 };
          }),
        )),
      );
    }
    // Ids sort by time only to the second: within one, the manifest's snapshot time decides.
    const takenAt = (b: StoredBackup) => (b.manifest ? Date.parse(b.manifest.takenAt) || b.storedAt : b.storedAt);
    return listed.sort((a, b) => takenAt(b) - takenAt(a) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  }

  async delete(ref: BackupRef): Promise<void> {
    const { dump, manifest } = this.keys(ref);
    // Manifest first: a backup without a manifest is unverified, never one that looks good without its dump.
    // Deleting a key that is not there succeeds in S3, so a repeated delete is not an error.
    for (const key of [manifest, dump]) {
      await this.small(`deleting backup ${ref.app}/${ref.environment}/${ref.id}`, (abortSignal) =>
        this.client.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: key }), { abortSignal }),
      );
    }
  }
}

/**
 * `length` bytes of a file from `start`, as a stream read while it is sent (a fresh one for every
 * attempt), telling `onBytes` what it hands on.
 */
function fileBody(file: string, start: number, length: number, onBytes: (bytes: number) => void): Readable | Uint8Array {
  if (length === 0) return new Uint8Array();
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      onBytes(chunk.length);
      done(null, chunk);
    },
  });
  // pipeline carries a destroy either way: the SDK aborting the body closes the file, a read error fails the body.
  pipeline(createReadStream(file, { start, end: start + length - 1 }), counter).catch(() => undefined);
  return counter;
}

/** Counts bytes sent (a retried part counts again: this is a sign of life, not an exact figure) and heartbeats with the count. */
function uploadProgress(of: number): (bytes: number) => void {
  const beat = throttledHeartbeat();
  let sent = 0;
  return (bytes) => {
    sent += bytes;
    beat({ uploadedBytes: sent, of });
  };
}

/** Heartbeats with transfer progress at most once a second (a large dump is many chunks). */
function throttledHeartbeat(): (details: unknown) => void {
  let last = 0;
  return (details) => {
    const now = Date.now();
    if (now - last < 1000) return;
    last = now;
    heartbeat(details);
  };
}
