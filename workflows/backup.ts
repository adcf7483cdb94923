/**
 * The backup of one environment's database, started by its Temporal Schedule (or by
 * `slipway backup run`): dump → verify by restoring into a scratch database → mark verified →
 * prune to the newest `keep` verified → notify. Retention runs only after the new backup is
 * verified, so a bad night never costs a good backup. The database URL stays on the worker: the
 * input names its env var only.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  proxyActivities,
  setCurrentDetails,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { BackupActivities, PrunedBackups } from '../activities/backup/types.js';
import type { NotifyActivities, NotificationEvent } from '../activities/types.js';
import type { NotifyChannel } from '../config/schema.js';

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

const RETRY = { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m' } as const;

/** Dump and restore run as long as the database is big; heartbeats catch a dead worker. A few retries ride out a restart. */
const longStep: ActivityOptions = {
  startToCloseTimeout: '6h',
  heartbeatTimeout: '1m',
  retry: { ...RETRY, maximumAttempts: 3 },
};
const shortStep: ActivityOptions = { startToCloseTimeout: '2m', retry: { ...RETRY, maximumAttempts: 5 } };
const notifyStep: ActivityOptions = { startToCloseTimeout: '1m', retry: { ...RETRY, maximumAttempts: 3 } };

const acts = proxyActivities<BackupActivities>(longStep);
const notifier = proxyActivities<NotifyActivities>(notifyStep);

/** `20261124T030000Z-1a2b3c4d`: sorts by time, unique per run, the same on every replay. */
function backupIdFor(): string {
  const info = workflowInfo();
  const stamp = info.startTime.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${info.runId.slice(0, 8)}`;
}

/** The innermost message of an activity failure: what actually went wrong. */
function reasonOf(err: unknown): string {
  let current: unknown = err;
  while (current instanceof ActivityFailure && current.cause) current = current.cause;
  return current instanceof Error ? current.message : String(current);
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

  const tell = async (kind: NotificationEvent['kind'], message: string) => {
    if (input.notify.length === 0) return;
    await notifier.notify
      .executeWithOptions({ ...notifyStep, summary: `notify: ${message}`.slice(0, 200) }, [
        { channels: input.notify, event: { kind, app, environment, workflowId, message } },
      ])
      .catch(() => undefined); // a lost notification must not change the backup's outcome
  };

  const fail = async (step: string, err: unknown): Promise<never> => {
    const message = `backup of ${where} failed while ${step}: ${reasonOf(err)}`;
    setCurrentDetails(`failed while ${step}`);
    await tell('backup-failed', message);
    throw ApplicationFailure.nonRetryable(message, 'BackupFailed');
  };

  setCurrentDetails(`taking backup ${backupId} of ${where}`);
  let taken;
  try {
    taken = await acts.takeBackup.executeWithOptions(
      { ...longStep, summary: `dump the ${where} database with pg_dump into backup ${backupId}` },
      [{ ...target, backupId, workflowId }],
    );
  } catch (err) {
    return fail('taking the dump', err);
  }

  setCurrentDetails(`verifying backup ${backupId}: restoring into a scratch database`);
  let verified;
  try {
    verified = await acts.verifyBackup.executeWithOptions(
      { ...longStep, summary: `verify backup ${backupId}: checksum, restore into a scratch database, compare row counts` },
      [{ ...target, backupId }],
    );
  } catch (err) {
    await acts.recordBackupVerification
      .executeWithOptions({ ...shortStep, summary: `record that backup ${backupId} failed verification` }, [
        { app, environment, backupId, verified: false, error: reasonOf(err) },
      ])
      .catch(() => undefined); // unrecorded, it is still unverified: it never counts
    return fail('verifying it', err);
  }

  try {
    await acts.recordBackupVerification.executeWithOptions(
      { ...shortStep, summary: `mark backup ${backupId} verified` },
      [{ app, environment, backupId, verified: true }],
    );
  } catch (err) {
    return fail('marking it verified', err);
  }

  setCurrentDetails(`pruning ${where} to the newest ${input.keep} verified backups`);
  let pruned: PrunedBackups = { kept: [], deleted: [] };
  let pruneError: string | undefined;
  try {
    pruned = await acts.pruneBackups.executeWithOptions(
      { ...shortStep, summary: `keep the newest ${input.keep} verified backups of ${where}, delete older ones` },
      [{ app, environment, keep: input.keep }],
    );
  } catch (err) {
    pruneError = reasonOf(err);
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
