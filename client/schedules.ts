/**
 * Backup schedules, kept in step with slipway.yaml. Every environment with a `backup:` block gets
 * one Temporal Schedule, `backup/<app>/<env>`, that starts the `backup` workflow on its cron
 * (UTC), skips a run while the previous one still runs, and catches up missed runs within the
 * configured window.
 *
 * `syncSchedules` is idempotent: the desired state's hash rides in the schedule action's memo (the
 * part of a schedule that can be updated), so an unchanged config touches nothing. Schedules carry
 * a marker memo, and their action names the task queue that owns them; only those are deleted when
 * their `backup:` block goes away, so schedules of another Slipway install in the same namespace
 * are left alone.
 */
import { createHash } from 'node:crypto';
import {
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleOptionsStartWorkflowAction,
} from '@temporalio/client';
import { sleep } from '../activities/activity-context.js';
import type { SlipwayConfig } from '../config/schema.js';
import { backupScheduleId } from '../core/ids.js';
import { SA_APP, SA_ENVIRONMENT } from '../core/search-attributes.js';
import type { BackupInput, backup } from '../workflows/backup.js';

const MARKER = 'slipway-backup-schedule';
const HASH_KEY = 'slipwayDesiredHash';

export interface DesiredBackupSchedule {
  scheduleId: string;
  app: string;
  environment: string;
  cron: string;
  catchupWindowMs: number;
  input: BackupInput;
}

export interface SyncReport {
  created: string[];
  updated: string[];
  deleted: string[];
  unchanged: string[];
}

export interface BackupScheduleInfo {
  scheduleId: string;
  app: string;
  environment: string;
  cron?: string;
  paused: boolean;
  note?: string;
  nextRuns: Date[];
  lastRun?: { at: Date; workflowId: string };
  running: string[];
}

/** What slipway.yaml asks for: one schedule per environment with a `backup:` block. */
export function desiredBackupSchedules(config: SlipwayConfig): DesiredBackupSchedule[] {
  const desired: DesiredBackupSchedule[] = [];
  for (const [app, appConfig] of Object.entries(config.apps)) {
    for (const env of appConfig.environments) {
      if (!env.backup) continue;
      desired.push({
        scheduleId: backupScheduleId(app, env.name),
        app,
        environment: env.name,
        cron: env.backup.schedule,
        catchupWindowMs: env.backup.catchupWindow,
        input: {
          app,
          environment: env.name,
          databaseUrlFromEnv: env.backup.postgres.urlFromEnv,
          keep: env.backup.keep,
          notify: Array.isArray(env.notify) ? env.notify : [env.notify],
        },
      });
    }
  }
  return desired;
}

/** Key order must not change the hash. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function desiredHash(desired: DesiredBackupSchedule, taskQueue: string): string {
  const state = { v: 1, cron: desired.cron, catchupWindowMs: desired.catchupWindowMs, overlap: 'SKIP', taskQueue, input: desired.input };
  return createHash('sha256').update(stableJson(state)).digest('hex').slice(0, 32);
}

function scheduleParts(desired: DesiredBackupSchedule, taskQueue: string) {
  const action: ScheduleOptionsStartWorkflowAction<typeof backup> = {
    type: 'startWorkflow',
    workflowType: 'backup',
    // Temporal appends the scheduled time: backup/todoapp/production-2026-11-24T03:00:00Z.
    workflowId: desired.scheduleId,
    taskQueue,
    args: [desired.input],
    memo: { [HASH_KEY]: desiredHash(desired, taskQueue), slipwayCron: desired.cron },
    typedSearchAttributes: [
      { key: SA_APP, value: desired.app },
      { key: SA_ENVIRONMENT, value: desired.environment },
    ],
    staticSummary: `Scheduled backup of ${desired.app}/${desired.environment} (${desired.cron} UTC)`,
  };
  return {
    spec: { cronExpressions: [desired.cron] },
    action,
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: desired.catchupWindowMs, pauseOnFailure: false },
  };
}

async function describeOrUndefined(client: Client, scheduleId: string): Promise<ScheduleDescription | undefined> {
  try {
    return await client.schedule.getHandle(scheduleId).describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return undefined;
    throw err;
  }
}

/**
 * The task queue a schedule belongs to. A schedule Slipway wrote carries the desired-state hash in
 * its action, and its action's task queue is its owner: an update can change the action but not
 * the schedule memo, so a schedule taken over in place is told apart by its action. The schedule
 * memo's marker is the fallback.
 */
function ownerOf(description: ScheduleDescription): string | undefined {
  const action = description.action.type === 'startWorkflow' ? description.action : undefined;
  if (action?.workflowType === 'backup' && typeof action.memo?.[HASH_KEY] === 'string') return action.taskQueue;
  return description.memo?.slipway === MARKER && typeof description.memo.taskQueue === 'string' ? description.memo.taskQueue : undefined;
}

/**
 * The backup schedules this task queue owns, described. The listing is eventually consistent and
 * shows only the schedule memo, so each `backup/` schedule's owner is read from its description.
 */
async function ownedSchedules(client: Client, taskQueue: string): Promise<ScheduleDescription[]> {
  const candidates: string[] = [];
  for await (const summary of client.schedule.list()) {
    if (summary.scheduleId.startsWith('backup/')) candidates.push(summary.scheduleId);
  }
  const owned: ScheduleDescription[] = [];
  for (const id of candidates.sort()) {
    const description = await describeOrUndefined(client, id);
    if (description && ownerOf(description) === taskQueue) owned.push(description);
  }
  return owned;
}

/** What a sync did before it stopped, the schedule it stopped at, and why. */
export class ScheduleSyncError extends Error {
  constructor(
    readonly report: SyncReport,
    readonly scheduleId: string,
    readonly step: 'create' | 'update' | 'delete' | 'read',
    options: { cause: unknown },
  ) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(`schedules sync stopped at ${scheduleId} (${step}): ${reason}`, options);
    this.name = 'ScheduleSyncError';
  }
}

/**
 * Makes the namespace's backup schedules match the config. Creates and updates come first and
 * deletes last, so a sync that stops midway never removes a schedule before the ones that stay are
 * in place; no schedule is ever deleted to be recreated (one under another owner is taken over in
 * place). When a step fails the sync stops there and throws a ScheduleSyncError carrying what it
 * changed until then.
 */
export async function syncSchedules(client: Client, config: SlipwayConfig, taskQueue: string): Promise<SyncReport> {
  const report: SyncReport = { created: [], updated: [], deleted: [], unchanged: [] };
  const desired = desiredBackupSchedules(config);
  let at: { scheduleId: string; step: ScheduleSyncError['step'] } = { scheduleId: '(listing)', step: 'read' };
  try {
    for (const want of desired) {
      const parts = scheduleParts(want, taskQueue);
      at = { scheduleId: want.scheduleId, step: 'read' };
      const current = await describeOrUndefined(client, want.scheduleId);
      if (!current) {
        at.step = 'create';
        await client.schedule.create({
          scheduleId: want.scheduleId,
          ...parts,
          memo: { slipway: MARKER, taskQueue, app: want.app, environment: want.environment },
        });
        report.created.push(want.scheduleId);
        continue;
      }
      const currentAction = current.action.type === 'startWorkflow' ? current.action : undefined;
      if (currentAction?.memo?.[HASH_KEY] === parts.action.memo![HASH_KEY] && ownerOf(current) === taskQueue) {
        report.unchanged.push(want.scheduleId);
        continue;
      }
      // In place, whoever held it before: a person's pause and note survive.
      at.step = 'update';
      await client.schedule.getHandle(want.scheduleId).update((previous) => ({
        ...parts,
        state: { paused: previous.state.paused, note: previous.state.note, remainingActions: previous.state.remainingActions },
      }));
      report.updated.push(want.scheduleId);
    }

    at = { scheduleId: '(listing)', step: 'read' };
    const wanted = new Set(desired.map((d) => d.scheduleId));
    for (const { scheduleId } of await ownedSchedules(client, taskQueue)) {
      if (wanted.has(scheduleId)) continue;
      at = { scheduleId, step: 'delete' };
      try {
        await client.schedule.getHandle(scheduleId).delete();
      } catch (err) {
        if (!(err instanceof ScheduleNotFoundError)) throw err;
      }
      report.deleted.push(scheduleId);
    }
  } catch (err) {
    throw new ScheduleSyncError(report, at.scheduleId, at.step, { cause: err });
  }
  return report;
}

function toInfo(description: ScheduleDescription): BackupScheduleInfo {
  const action = description.action.type === 'startWorkflow' ? description.action : undefined;
  const recent = description.info.recentActions.at(-1);
  return {
    scheduleId: description.scheduleId,
    app: String(description.memo?.app ?? description.scheduleId.split('/')[1]),
    environment: String(description.memo?.environment ?? description.scheduleId.split('/')[2]),
    cron: typeof action?.memo?.slipwayCron === 'string' ? action.memo.slipwayCron : undefined,
    paused: description.state.paused,
    note: description.state.note,
    nextRuns: description.info.nextActionTimes,
    lastRun: recent ? { at: recent.takenAt, workflowId: recent.action.workflow.workflowId } : undefined,
    running: description.info.runningActions.map((a) => a.workflow.workflowId),
  };
}

/** The backup schedules this task queue owns, with their state. */
export async function listSchedules(client: Client, taskQueue: string): Promise<BackupScheduleInfo[]> {
  return (await ownedSchedules(client, taskQueue)).map(toInfo);
}

export async function describeBackupSchedule(client: Client, app: string, environment: string): Promise<BackupScheduleInfo> {
  const description = await describeOrUndefined(client, backupScheduleId(app, environment));
  if (!description) throw new Error(`no backup schedule for ${app}/${environment} (run "slipway schedules sync")`);
  return toInfo(description);
}

export async function pauseSchedule(client: Client, app: string, environment: string, note = 'paused with slipway'): Promise<void> {
  await client.schedule.getHandle(backupScheduleId(app, environment)).pause(note);
}

export async function unpauseSchedule(client: Client, app: string, environment: string, note = 'unpaused with slipway'): Promise<void> {
  await client.schedule.getHandle(backupScheduleId(app, environment)).unpause(note);
}

/**
 * Runs the schedule's action now (a paused schedule runs too) and returns the workflow it started.
 * With the SKIP policy nothing starts while a backup is still running: then this throws.
 */
export async function triggerSchedule(
  client: Client,
  app: string,
  environment: string,
  options: { timeoutMs?: number } = {},
): Promise<{ workflowId: string; runId: string }> {
  const handle = client.schedule.getHandle(backupScheduleId(app, environment));
  const before = await handle.describe();
  // Workflow ids carry the trigger time to the second, so two runs can share one: tell them apart by run id.
  const seen = new Set(before.info.recentActions.map((a) => a.action.workflow.firstExecutionRunId));
  await handle.trigger();
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  for (;;) {
    const now = await handle.describe();
    const started = now.info.recentActions.find((a) => !seen.has(a.action.workflow.firstExecutionRunId));
    if (started) return { workflowId: started.action.workflow.workflowId, runId: started.action.workflow.firstExecutionRunId };
    if (Date.now() > deadline) {
      const running = now.info.runningActions.map((a) => a.workflow.workflowId);
      throw new Error(
        `the backup schedule of ${app}/${environment} started nothing` +
          (running.length ? ` (a backup is still running: ${running.join(', ')})` : ''),
      );
    }
    await sleep(200);
  }
}
