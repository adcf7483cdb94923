/**
 * The backup activities: take a dump, verify it by restoring it, record the verdict, prune, and
 * tell whether a schedule has fallen behind. Each is idempotent: a retried dump with the same id
 * replaces its own earlier attempt, a retried verification recreates its scratch database,
 * recording and pruning converge, the freshness check only reads.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { backupFailure, backupRefusal, databaseFromEnv, redact, serverLabel, withDatabase, type DatabaseTarget } from './connection.js';
import { sha256File } from './checksum.js';
import { countRows, createDatabase, dropDatabase, serverVersion, withClient } from './pg-client.js';
import { dumpDatabase, PgToolError, probePgDump, restoreDatabase, type PgDumpIdentity } from './pg-tools.js';
import { canDump, canRestoreInto, clientPackageFor, majorFromVersionNum, majorFromVersionText, type PgMajor } from './pg-versions.js';
import { assertSafeRef, type BackupManifest, type BackupRef, type BackupStore, type StoredBackup } from './store.js';
import { chooseBackupsToPrune } from './retention.js';
import { DEFAULT_MAX_SHRINK, whyFlagged } from './flags.js';
import { scheduleFreshness } from './freshness.js';
import { currentActivity } from '../activity-context.js';
import { BACKUP_NEWEST_VERIFIED_AT, record } from '../../core/metrics.js';
import {
  FailureType,
  type BackupActivities,
  type BackupFreshness,
  type BackupFreshnessInput,
  type PruneBackupsInput,
  type PrunedBackups,
  type RecordVerificationInput,
  type TakeBackupInput,
  type TakenBackup,
  type VerifiedBackup,
  type VerifyBackupInput,
} from '../types.js';

export interface BackupActivityOptions {
  store: BackupStore;
  /** Where dumps are staged on the worker; the OS temp folder by default. */
  workDir?: string;
  /** Defaults to process.env; tests may hand their own. */
  env?: NodeJS.ProcessEnv;
}

async function withTempDir<T>(parent: string, use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(parent, 'slipway-backup-'));
  try {
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A scratch database name that is the same for every attempt at one backup (so a retry cleans up the last). */
export function scratchDatabaseName(ref: BackupRef): string {
  const digest = createHash('sha256').update(`${ref.app}/${ref.environment}/${ref.id}`).digest('hex').slice(0, 16);
  return `slipway_verify_${digest}`;
}

function toolFailure(err: unknown, target: DatabaseTarget, doing: string): Error {
  if (err instanceof PgToolError) {
    const unreachable = /could not connect|Connection refused|connection to server .* failed/i.test(err.stderr);
    const where = `${target.label} (URL from ${target.fromEnv})`;
    return unreachable
      ? backupFailure(`cannot reach the database at ${where} while ${doing}: ${err.message}`, false)
      : backupFailure(`${doing} failed for ${where}: ${err.message}`, false);
  }
  return err instanceof Error ? new Error(redact(err.message, target)) : new Error(String(err));
}

/** SQLSTATE insufficient_privilege: here, a user without CREATEDB. */
const INSUFFICIENT_PRIVILEGE = '42501';

/** The server's major version, from `server_version_num` (its text form carries distribution suffixes). */
async function serverMajor(client: pg.Client): Promise<PgMajor | undefined> {
  const { rows } = await client.query<{ server_version_num: string }>('SHOW server_version_num');
  return majorFromVersionNum(Number(rows[0]?.server_version_num));
}

/**
 * pg_dump refuses a server newer than itself, and only once it has connected, in words that name
 * neither the binary nor what to install. Asked first, the refusal names both versions, the binary
 * and the fix, and nothing is dumped or stored. A pg_dump that cannot tell its version is left to
 * say for itself why it cannot run.
 */
export function pgDumpTooOld(pgDump: PgDumpIdentity, server: { major: PgMajor; version: string }, target: DatabaseTarget, env: NodeJS.ProcessEnv): Error | undefined {
  if (!pgDump.major || canDump(pgDump.major, server.major)) return undefined;
  const chosen = env.SLIPWAY_PG_BIN
    ? `or point SLIPWAY_PG_BIN (now ${env.SLIPWAY_PG_BIN}) at the bin folder of a newer one`
    : 'or set SLIPWAY_PG_BIN to the bin folder of a newer one';
  return backupRefusal(
    FailureType.PgDumpTooOld,
    `pg_dump at ${pgDump.path} is PostgreSQL ${pgDump.major.label} (${pgDump.version}), older than the server it was to dump: ` +
      `${target.label} (URL from ${target.fromEnv}) runs PostgreSQL ${server.major.label} (${server.version}). pg_dump refuses servers ` +
      `newer than itself, so nothing was dumped. Give the worker a client at least as new: install ${clientPackageFor(server.major)} ` +
      `(Debian puts it in /usr/lib/postgresql/${server.major.label}/bin, and the newest installed is used), ${chosen}`,
  );
}

/** Where a verification restores, and how the manifest and the result say it. */
interface VerifyPlace {
  server: DatabaseTarget;
  onScratchServer: boolean;
  /** `scratch server db.internal:5432`, `the source server db.prod:5432`: no user, database or password. */
  verifiedOn: string;
}

/** A verification whose user may not create its scratch database, and what to change. */
function needsCreatedb(err: Error, place: VerifyPlace): Error {
  const { server } = place;
  const why = redact(err.message, server);
  const fix = place.onScratchServer
    ? `Its user (URL from ${server.fromEnv}) needs CREATEDB on the scratch server`
    : `The backup credential (URL from ${server.fromEnv}) needs CREATEDB on the source server; or give the backup a ` +
      'scratch server of its own (backup.verify.postgres.urlFromEnv in slipway.yaml), and the source credential needs only to read';
  return backupFailure(`${server.label} refused to create the scratch database a verification restores into: ${why}. ${fix}`, true);
}

export function createBackupActivities(options: BackupActivityOptions): BackupActivities {
  const { store } = options;
  const workDir = options.workDir ?? tmpdir();
  const env = options.env ?? process.env;

  async function takeBackup(input: TakeBackupInput): Promise<TakenBackup> {
    const ref = { app: input.app, environment: input.environment, id: input.backupId };
    assertSafeRef(ref);
    const target = databaseFromEnv(input.databaseUrlFromEnv, env);
    return withTempDir(workDir, async (dir) => {
      const file = join(dir, `${ref.id}.dump`);
      // Row counts and the dump must describe the same moment: count inside a repeatable-read
      // transaction and hand its exported snapshot to pg_dump, so writes during the dump do not
      // make a good backup look wrong at verification.
      const { tables, version, takenAt, pgDump } = await withClient(target, 'taking a backup', async (client) => {
        const pgDump = await probePgDump(env);
        const major = await serverMajor(client);
        const version = await serverVersion(client);
        const tooOld = major && pgDumpTooOld(pgDump, { major, version }, target, env);
        if (tooOld) throw tooOld;
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        try {
          const { rows } = await client.query<{ snapshot: string }>('SELECT pg_export_snapshot() AS snapshot');
          const takenAt = new Date().toISOString();
          const tables = await countRows(client);
          try {
            await dumpDatabase(target, file, rows[0]!.snapshot, { env });
          } catch (err) {
            throw toolFailure(err, target, 'pg_dump');
          }
          return { tables, version, takenAt, pgDump };
        } finally {
          await client.query('COMMIT').catch(() => undefined);
        }
      });
      const sha256 = await sha256File(file);
      const { size } = await store.put(ref, file);
      const manifest: BackupManifest = {
        formatVersion: 1,
        ...ref,
        takenAt,
        workflowId: input.workflowId,
        database: target.database,
        serverVersion: version,
        pgDumpVersion: pgDump.version,
        format: 'pg_dump-custom',
        size,
        sha256,
        tables,
        verified: false,
      };
      // The manifest goes last: a dump without one is unverified and never counts.
      await store.writeManifest(manifest);
      return {
        id: ref.id,
        size,
        sha256,
        tables: Object.keys(tables).length,
        rows: Object.values(tables).reduce((a, b) => a + b, 0),
        serverVersion: version,
      };
    });
  }

  async function verifyBackup(input: VerifyBackupInput): Promise<VerifiedBackup> {
    const ref = { app: input.app, environment: input.environment, id: input.backupId };
    assertSafeRef(ref);
    const name = `backup ${ref.app}/${ref.environment}/${ref.id}`;
    const manifest = await store.readManifest(ref).catch((err: Error) => {
      throw backupFailure(`${name}: ${err.message}`, true);
    });
    if (!manifest) throw backupFailure(`${name} has no manifest in ${store.description}`, true);
    const place = verifyPlace(input);
    const { server, verifiedOn } = place;
    return withTempDir(workDir, async (dir) => {
      const file = join(dir, `${ref.id}.dump`);
      try {
        await store.get(ref, file);
      } catch (err) {
        throw backupFailure(`${name}: ${(err as Error).message}`, true);
      }
      const actual = await sha256File(file);
      if (actual !== manifest.sha256) {
        throw backupFailure(`${name} is corrupt: its sha256 is ${actual}, the manifest says ${manifest.sha256}`, true);
      }

      if (place.onScratchServer) await refuseOlderScratchServer(name, manifest, place);
      // Said before the restore, so a verification that fails there is on record with where it ran.
      if (manifest.verifiedOn !== verifiedOn) await store.writeManifest({ ...manifest, verifiedOn });

      const scratch = withDatabase(server, scratchDatabaseName(ref));
      await withClient(server, 'creating a scratch database', async (client) => {
        await dropDatabase(client, scratch.database);
        try {
          await createDatabase(client, scratch.database);
        } catch (err) {
          if ((err as { code?: string }).code === INSUFFICIENT_PRIVILEGE) throw needsCreatedb(err as Error, place);
          throw err;
        }
      });
      try {
        try {
          await restoreDatabase(scratch, file, { env });
        } catch (err) {
          const failure = toolFailure(err, scratch, 'pg_restore into a scratch database');
          // A dump that does not restore will not restore next time either.
          if (err instanceof PgToolError && !/cannot reach/.test(failure.message)) {
            throw backupFailure(`${name} does not restore on ${verifiedOn}: ${err.message}`, true);
          }
          throw failure;
        }
        const restored = await withClient(scratch, 'counting restored rows', countRows);
        const problems = compareCounts(manifest.tables, restored);
        if (problems.length > 0) {
          throw backupFailure(`${name} does not match its source: ${problems.join('; ')}`, true);
        }
        // It restores and matches its source; whether the source itself looks like a disaster is
        // judged against the backup before it that was verified.
        const previous = newestVerified(await store.list(ref.app, ref.environment), manifest);
        const flagged = whyFlagged({ tables: manifest.tables, previous, maxShrink: input.maxShrink ?? DEFAULT_MAX_SHRINK });
        return {
          tables: Object.keys(restored).length,
          rows: Object.values(restored).reduce((a, b) => a + b, 0),
          ...(flagged ? { flagged } : {}),
          verifiedOn,
        };
      } finally {
        await withClient(server, 'dropping the scratch database', (client) => dropDatabase(client, scratch.database)).catch(
          () => undefined,
        );
      }
    });
  }

  /**
   * The policy's scratch server when it names one: the restore of a full copy then never lands
   * on the source server, whose credential needs no more than to read. Without one, a scratch
   * database on the source server, as before, and the backup credential needs CREATEDB there.
   */
  function verifyPlace(input: VerifyBackupInput): VerifyPlace {
    if (input.verifyUrlFromEnv) {
      const server = databaseFromEnv(
        input.verifyUrlFromEnv,
        env,
        'the URL of the PostgreSQL server backups are verified on (backup.verify.postgres.urlFromEnv in slipway.yaml)',
      );
      return { server, onScratchServer: true, verifiedOn: `scratch server ${serverLabel(server)}` };
    }
    const source = databaseFromEnv(input.databaseUrlFromEnv, env);
    return { server: source, onScratchServer: false, verifiedOn: `the source server ${serverLabel(source)}` };
  }

  /** A dump is only meant to restore into a server at least as new as the one it came from. */
  async function refuseOlderScratchServer(name: string, manifest: BackupManifest, place: VerifyPlace): Promise<void> {
    const dumpedFrom = majorFromVersionText(manifest.serverVersion);
    if (!dumpedFrom) return; // a manifest that does not say: the restore itself is the test
    const { major, version } = await withClient(place.server, 'checking the scratch server\'s version', async (client) => ({
      major: await serverMajor(client),
      version: await serverVersion(client),
    }));
    if (!major || canRestoreInto(dumpedFrom, major)) return;
    throw backupRefusal(
      FailureType.ScratchServerTooOld,
      `${name} was dumped from PostgreSQL ${dumpedFrom.label} (${manifest.serverVersion}), and the ${place.verifiedOn} ` +
        `(URL from ${place.server.fromEnv}) runs PostgreSQL ${major.label} (${version}): a dump is not meant to restore into an ` +
        `older server, so nothing was restored. Point ${place.server.fromEnv} at a server of PostgreSQL ${dumpedFrom.label} or newer`,
    );
  }

  async function recordBackupVerification(input: RecordVerificationInput): Promise<void> {
    const ref = { app: input.app, environment: input.environment, id: input.backupId };
    assertSafeRef(ref);
    const manifest = await store.readManifest(ref).catch(() => undefined);
    if (!manifest) {
      if (input.verified) throw backupFailure(`backup ${ref.app}/${ref.environment}/${ref.id} has no manifest to mark verified`, true);
      return; // nothing to record a failure on: without a manifest it never counts anyway
    }
    // A flagged backup is never recorded as verified, whatever the caller says.
    const verified = input.verified && !input.flagged;
    await store.writeManifest({
      ...manifest,
      verified,
      verifiedAt: new Date().toISOString(),
      verificationError: verified ? undefined : input.flagged ? `flagged: ${input.flagged}` : (input.error ?? 'verification failed'),
      flagged: input.flagged,
    });
    // A run verifies the backup it has just taken: the newest verified one, two runs overlapping aside.
    if (verified) newestVerifiedMetric(ref.app, ref.environment, manifest.takenAt);
  }

  async function pruneBackups(input: PruneBackupsInput): Promise<PrunedBackups> {
    const backups = await store.list(input.app, input.environment);
    const choice = chooseBackupsToPrune(
      backups.map((b) => ({ id: b.id, takenAt: takenAtOf(b), verified: isVerified(b) })),
      { keep: input.keep, keepDays: input.keepDays },
      Date.now(),
    );
    for (const id of choice.delete) await store.delete({ app: input.app, environment: input.environment, id });
    return { kept: choice.keep, deleted: choice.delete };
  }

  async function checkBackupFreshness(input: BackupFreshnessInput): Promise<BackupFreshness> {
    const newest = newestVerified(await store.list(input.app, input.environment));
    // What the store says, again after a worker restart lost what the last verification set.
    if (newest) newestVerifiedMetric(input.app, input.environment, newest.takenAt);
    const freshness = scheduleFreshness({
      where: `${input.app}/${input.environment}`,
      schedule: input.schedule,
      newestVerified: newest && { id: newest.id, takenAt: Date.parse(newest.takenAt) },
      now: Date.now(),
    });
    return { ...freshness, ...(newest ? { newestVerified: { id: newest.id, takenAt: newest.takenAt } } : {}) };
  }

  return { takeBackup, verifyBackup, recordBackupVerification, pruneBackups, checkBackupFreshness };
}

/** The age alert reads this (infra/prometheus/slipway-alerts.yml): time() minus when the backup was taken. */
function newestVerifiedMetric(app: string, environment: string, takenAt: string): void {
  const at = Date.parse(takenAt);
  if (Number.isFinite(at)) record(currentActivity()?.metricMeter, BACKUP_NEWEST_VERIFIED_AT, at / 1000, { app, environment });
}

const takenAtOf = (b: StoredBackup) => (b.manifest ? Date.parse(b.manifest.takenAt) || b.storedAt : b.storedAt);
const isVerified = (b: StoredBackup) => b.manifest?.verified === true && !b.manifest.flagged;

/** The newest verified backup in a listing, taken before `before` when given (and never `before` itself). */
function newestVerified(backups: StoredBackup[], before?: BackupManifest): BackupManifest | undefined {
  const limit = before ? Date.parse(before.takenAt) : Infinity;
  return backups
    .filter((b) => isVerified(b) && b.id !== before?.id && takenAtOf(b) <= limit)
    .sort((a, b) => takenAtOf(b) - takenAtOf(a) || (a.id < b.id ? 1 : -1))[0]?.manifest;
}

/** Every table of the source must be in the restore with the same row count, and nothing extra. */
export function compareCounts(expected: Record<string, number>, actual: Record<string, number>): string[] {
  const problems: string[] = [];
  for (const [table, rows] of Object.entries(expected)) {
    if (!(table in actual)) problems.push(`table ${table} is missing`);
    else if (actual[table] !== rows) problems.push(`table ${table} has ${actual[table]} rows, expected ${rows}`);
  }
  for (const table of Object.keys(actual)) if (!(table in expected)) problems.push(`unexpected table ${table}`);
  return problems;
}
