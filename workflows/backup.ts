/**
 * The backup of one environment's database, started by its Temporal Schedule (or by
 * `slipway backup run`): dump → verify by restoring into a scratch database → mark verified →
 * prune to the newest `keep` verified → notify. Retention runs only after the new backup is
 * verified, so a bad night never costs a good backup. The database URL stays on the worker: the
 * input names its env var only.
 */
import { ApplicationFailure, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import type { NotificationKind, PrunedBackups } from '../activities/types.js';
import type { NotifyChannel } from '../config/schema.js';
import { longStepActivities, longStepOptions, notifyQuietly, shortStepOptions, stepActivities, type StepLimits } from './activities.js';
import { describeFailure } from './failures.js';

export interface BackupInput {
  app: string;
  environment: string;
  /** Name of the worker's env var holding the PostgreSQL URL (never the URL). */
  databaseUrlFromEnv: string;
  keep: number;
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

/** `20261124T030000Z-1a2b3c4d`: sorts by time, unique per run, the same on every replay. */
function backupIdFor(): string {
  const info = workflowInfo();
  const stamp = info.startTime.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${info.runId.slice(0, 8)}`;
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

  const tell = async (kind: NotificationKind, message: string) => {
    // notifyQuietly schedules the activity even for no channels; backups never did, and their histories must replay.
    if (input.notify.length === 0) return;
    await notifyQuietly(input.notify, { kind, app, environment, workflowId, message }, `notify: ${kind} ${where}`);
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
      await tell('backup-failed', message);
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
        [{ ...target, backupId }],
      ),
    (reason) =>
      steps.recordBackupVerification
        .executeWithOptions({ ...shortStepOptions(LIMITS), summary: `record that backup ${backupId} failed verification` }, [
          { app, environment, backupId, verified: false, error: reason },
        ])
        .catch(() => undefined), // unrecorded, it is still unverified: it never counts
  );

  await step('marking it verified', () =>
    steps.recordBackupVerification.executeWithOptions({ ...shortStepOptions(LIMITS), summary: `mark backup ${backupId} verified` }, [
      { app, environment, backupId, verified: true },
    ]),
  );

  // A failed prune leaves the new backup good: it is reported, and the next run prunes again.
  setCurrentDetails(`pruning ${where} to the newest ${input.keep} verified backups`);
  let pruned: PrunedBackups = { kept: [], deleted: [] };
  let pruneError: string | undefined;
  try {
    pruned = await steps.pruneBackups.executeWithOptions(
      { ...shortStepOptions(LIMITS), summary: `keep the newest ${input.keep} verified backups of ${where}, delete older ones` },
      [{ app, environment, keep: input.keep }],
    );
  } catch (err) {
    pruneError = describeFailure(err).reason;
  }

  const summary =
    `backup ${backupId} of ${where} verified: ${verified.tables} tables, ${verified.rows} rows, ${humanSize(taken.size)}` +
    (pruneError ? `; pruning old backups failed: ${pruneError}` : pruned.deleted.length ? `; deleted ${pruned.deleted.length} old` : '');
  setCurrentDetails(summary);
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
