/**
 * The backup of one environment's database, started by its Temporal Schedule (or by
 * `slipway backup run`): dump → verify by restoring into a scratch database (on the scratch server
 * the policy names, else on the source server) → mark verified → prune to the newest `keep`
 * verified → notify. Retention runs only after the new backup is
 * verified, so a bad night never costs a good backup. A backup that restores but shows an empty or
 * shrunken database is recorded as flagged, never verified, and nothing is pruned after it. When a
 * scheduled run ends without a verified backup, the store is asked whether the schedule has now
 * gone twice its period without one, and if so people are told. The database URL stays on the
 * worker: the input names its env var only.
 */
import { ApplicationFailure, isCancellation, patched, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import type { NotificationKind, PrunedBackups } from '../activities/types.js';
import type { NotifyChannel } from '../config/schema.js';
import { longStepActivities, longStepOptions, notifyQuietly, shortStepOptions, stepActivities, type StepLimits } from './activities.js';
import { describeFailure } from './failures.js';
import { environmentPolicy } from './policy.js';
import { recordBackup, recordBackupSchedule } from './metrics.js';

export interface BackupInput {
  app: string;
  environment: string;
  /** Name of the worker's env var holding the PostgreSQL URL (never the URL). */
  databaseUrlFromEnv: string;
  keep: number;
  /** Verified backups younger than this many days survive pruning beyond `keep` (absent: by count only). */
  keepDays?: number;
  /** The largest fraction of rows that may disappear since the last verified backup before a backup is flagged (absent: 0.5). */
  maxShrink?: number;
  /** The schedule's cron (UTC); absent, the one the schedule put in the run's memo. Without either, no freshness check. */
  schedule?: string;
  notify: NotifyChannel[];
}

export interface BackupResult {
  backupId: string;
  size: number;
  sha256: string;
  tables: number;
  rows: number;
  kept: string[];
  deleted: string[];
  /** Set when the backup is good but pruning old ones failed (it is retried next run). */
  pruneError?: string;
}

/**
 * A backup runs on its schedule, outside any release, so slipway.yaml's `engine` block does not
 * reach it: recording and pruning get two minutes an attempt, and a worker that stops
 * heartbeating during a dump or a restore is replaced after a minute.
 */
const LIMITS: StepLimits = { stepTimeout: 2 * 60_000, heartbeatTimeout: 60_000 };
/** A dump or a restore takes as long as the database is big. */
const DUMP_OR_RESTORE_MS = 6 * 60 * 60_000;

/** Backup ids take the random end of the run id, not its start (see backupIdFor). */
const PATCH_BACKUP_ID = 'backup-id-from-run-id-tail';
/** Retention, flagging and the schedule come from the worker's policy, not the run's input. */
const PATCH_POLICY_SETTINGS = 'backup-settings-from-policy';
/** A backup whose database looks wiped or shrunken ends flagged instead of verified, and prunes nothing. */
const PATCH_FLAGGED = 'backup-flagged-not-verified';
/** A run that ends without a verified backup checks whether its schedule is overdue. */
const PATCH_OVERDUE = 'backup-overdue-alert';
/** Verification restores on the scratch server the policy names (backup.verify), not on the source. */
const PATCH_VERIFY_SERVER = 'backup-verify-on-scratch-server';

/** The memo key client/schedules.ts gives every scheduled run: the schedule's cron. */
const CRON_MEMO = 'slipwayCron';

/** The cron of the schedule that started this run: from the input, else from the run's memo. */
function scheduleOf(input: BackupInput): string | undefined {
  if (input.schedule) return input.schedule;
  const fromMemo = workflowInfo().memo?.[CRON_MEMO];
  return typeof fromMemo === 'string' ? fromMemo : undefined;
}

/** What decides which backups are deleted, which are trusted, and when the schedule is behind. */
interface BackupSettings {
  keep: number;
  keepDays?: number;
  maxShrink?: number;
  schedule?: string;
  /** The worker's variable with the URL of the server verification restores on; only ever from the policy. */
  verifyUrlFromEnv?: string;
}

/**
 * The environment's `backup:` block from the worker's policy. Anyone who can reach the Temporal API
 * can start this workflow with any input, and these settings delete backups, so the policy's
 * answer wins; the input's (what the schedule was given when it was synced) stands only when the
 * policy has no backup for this environment or cannot be read — then the policy guard still checks
 * the database variable before anything touches a database.
 */
async function settingsFor(input: BackupInput): Promise<BackupSettings> {
  const fromInput: BackupSettings = { keep: input.keep, keepDays: input.keepDays, maxShrink: input.maxShrink, schedule: scheduleOf(input) };
  if (!patched(PATCH_POLICY_SETTINGS)) return fromInput;
  try {
    const backup = (await environmentPolicy(input.app, input.environment, undefined)).environment.backup;
    if (!backup) return fromInput;
    return {
      keep: backup.keep,
      keepDays: backup.keepDays,
      maxShrink: backup.maxShrink,
      schedule: backup.schedule,
      ...(backup.verify ? { verifyUrlFromEnv: backup.verify.postgres.urlFromEnv } : {}),
    };
  } catch (err) {
    if (isCancellation(err)) throw err;
    return fromInput;
  }
}

/**
 * `20261124T030000Z-1a2b3c4d`: sorts by time, unique per run, the same on every replay. Run ids
 * can be UUIDv7, whose first digits are a timestamp shared by every run in the same minute, so two
 * runs started in one second (a schedule and a manual run) got one id and the second overwrote the
 * first's dump; the last digits are random in every UUID version.
 */
function backupIdFor(): string {
  const info = workflowInfo();
  const stamp = info.startTime.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const unique = patched(PATCH_BACKUP_ID) ? info.runId.replace(/-/g, '').slice(-8) : info.runId.slice(0, 8);
  return `${stamp}-${unique}`;
}

function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

export async function backup(input: BackupInput): Promise<BackupResult> {
  const { app, environment } = input;
  const where = `${app}/${environment}`;
  const backupId = backupIdFor();
  const { workflowId } = workflowInfo();
  const target = { app, environment, databaseUrlFromEnv: input.databaseUrlFromEnv };
  const steps = stepActivities(LIMITS);
  const long = longStepActivities(LIMITS, DUMP_OR_RESTORE_MS);
  const settings = await settingsFor(input);
  // Metrics issue no command (workflows/metrics.ts): no patch.
  recordBackupSchedule(app, environment, settings.schedule, workflowInfo().startTime.getTime());

  const tell = async (kind: NotificationKind, message: string) => {
    // notifyQuietly schedules the activity even for no channels; backups never did, and their histories must replay.
    if (input.notify.length === 0) return;
    await notifyQuietly(input.notify, { kind, app, environment, workflowId, message }, `notify: ${kind} ${where}`);
  };

  /**
   * A run that ends without a verified backup asks the store (the record of what every run
   * produced) whether the schedule has now gone twice its period without one, and says so. Without
   * a schedule (none in the policy or the run's memo) there is nothing to fall behind; a check that
   * cannot be made changes nothing, since the run's own failure was already told.
   */
  const alertIfOverdue = async () => {
    const { schedule } = settings;
    if (!schedule || input.notify.length === 0 || !patched(PATCH_OVERDUE)) return;
    try {
      const freshness = await steps.checkBackupFreshness.executeWithOptions(
        { ...shortStepOptions(LIMITS), summary: `check that ${where} has a verified backup from its last two scheduled runs` },
        [{ app, environment, schedule }],
      );
      if (freshness.overdue && freshness.message) await tell('backup-failed', freshness.message);
    } catch {
      /* the store could not be read: the failure of this run is already reported */
    }
  };

  /** Runs one step; its failure ends the backup, saying what it was doing and why, after `cleanUp`. */
  const step = async <T>(doing: string, run: () => Promise<T>, cleanUp?: (reason: string) => Promise<void>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      const { reason } = describeFailure(err);
      await cleanUp?.(reason);
      const message = `backup of ${where} failed while ${doing}: ${reason}`;
      setCurrentDetails(`failed while ${doing}`);
      recordBackup(app, environment, 'failed');
      await tell('backup-failed', message);
      await alertIfOverdue();
      throw ApplicationFailure.nonRetryable(message, 'BackupFailed');
    }
  };

  setCurrentDetails(`taking backup ${backupId} of ${where}`);
  const taken = await step('taking the dump', () =>
    long.takeBackup.executeWithOptions(
      { ...longStepOptions(LIMITS, DUMP_OR_RESTORE_MS), summary: `dump the ${where} database with pg_dump into backup ${backupId}` },
      [{ ...target, backupId, workflowId }],
    ),
  );

  setCurrentDetails(`verifying backup ${backupId}: restoring into a scratch database`);
  const verified = await step(
    'verifying it',
    () =>
      long.verifyBackup.executeWithOptions(
        { ...longStepOptions(LIMITS, DUMP_OR_RESTORE_MS), summary: `verify backup ${backupId}: checksum, restore into a scratch database, compare row counts` },
        [
          {
            ...target,
            backupId,
            ...(settings.maxShrink !== undefined ? { maxShrink: settings.maxShrink } : {}),
            // Asked only when the policy names a scratch server, so runs without one record no marker.
            ...(settings.verifyUrlFromEnv && patched(PATCH_VERIFY_SERVER) ? { verifyUrlFromEnv: settings.verifyUrlFromEnv } : {}),
          },
        ],
      ),
    (reason) =>
      steps.recordBackupVerification
        .executeWithOptions({ ...shortStepOptions(LIMITS), summary: `record that backup ${backupId} failed verification` }, [
          { app, environment, backupId, verified: false, error: reason },
        ])
        .catch(() => undefined), // unrecorded, it is still unverified: it never counts
  );

  // Only activities that judge the source can return `flagged`, so histories recorded before this never reach the branch.
  if (verified.flagged && patched(PATCH_FLAGGED)) {
    const message = `backup ${backupId} of ${where} is flagged, not verified: ${verified.flagged}`;
    await steps.recordBackupVerification
      .executeWithOptions({ ...shortStepOptions(LIMITS), summary: `record that backup ${backupId} is flagged` }, [
        { app, environment, backupId, verified: false, flagged: verified.flagged },
      ])
      .catch(() => undefined); // unrecorded, it is still unverified: it never counts
    setCurrentDetails(message);
    recordBackup(app, environment, 'flagged');
    await tell('backup-failed', message);
    await alertIfOverdue();
    // Nothing is pruned: the last verified backup from before is the one that matters now.
    throw ApplicationFailure.nonRetryable(message, 'BackupFlagged');
  }

  await step('marking it verified', () =>
    steps.recordBackupVerification.executeWithOptions({ ...shortStepOptions(LIMITS), summary: `mark backup ${backupId} verified` }, [
      { app, environment, backupId, verified: true },
    ]),
  );

  // A failed prune leaves the new backup good: it is reported, and the next run prunes again.
  setCurrentDetails(`pruning ${where} to the newest ${settings.keep} verified backups`);
  let pruned: PrunedBackups = { kept: [], deleted: [] };
  let pruneError: string | undefined;
  try {
    pruned = await steps.pruneBackups.executeWithOptions(
      {
        ...shortStepOptions(LIMITS),
        summary: settings.keepDays
          ? `keep the newest ${settings.keep} verified backups of ${where} and those younger than ${settings.keepDays} days, delete older ones`
          : `keep the newest ${settings.keep} verified backups of ${where}, delete older ones`,
      },
      [{ app, environment, keep: settings.keep, ...(settings.keepDays !== undefined ? { keepDays: settings.keepDays } : {}) }],
    );
  } catch (err) {
    pruneError = describeFailure(err).reason;
  }

  const summary =
    `backup ${backupId} of ${where} verified: ${verified.tables} tables, ${verified.rows} rows, ${humanSize(taken.size)}` +
    (pruneError ? `; pruning old backups failed: ${pruneError}` : pruned.deleted.length ? `; deleted ${pruned.deleted.length} old` : '');
  setCurrentDetails(summary);
  recordBackup(app, environment, 'verified');
  await tell('backup-succeeded', summary);
  return {
    backupId,
    size: taken.size,
    sha256: taken.sha256,
    tables: verified.tables,
    rows: verified.rows,
    kept: pruned.kept,
    deleted: pruned.deleted,
    ...(pruneError ? { pruneError } : {}),
  };
}
