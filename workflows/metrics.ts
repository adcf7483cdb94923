/**
 * What only workflows know, recorded on the worker's meter: how each request an environment took
 * up ended, how long its promotion ran, how long it waited for approval, rollbacks, and backup runs.
 * The SDK's workflow meter records nothing while a workflow replays, so each fact is counted when
 * it first happens. A metric issues no command, so none of this changes a history and none of it
 * is behind patched(). Nothing here can fail a workflow: `record` swallows what the meter throws.
 */
import { metricMeter } from '@temporalio/workflow';
import { parseCron, previousFiring } from '../core/cron.js';
import {
  APPROVAL_WAIT,
  BACKUPS,
  BACKUP_SCHEDULE_INTERVAL,
  ENVIRONMENT_HEALTHY_AT,
  PROMOTIONS,
  PROMOTION_DURATION,
  ROLLBACKS,
  ROLLBACK_FAILED_AT,
  record,
} from '../core/metrics.js';
import type { EnvironmentPhase, PromotionOutcome, PromotionRequest } from './types.js';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** The `outcome` label: a failed promotion says whether its rollback brought the environment back. */
export function promotionOutcomeLabel(outcome: PromotionOutcome): string {
  if (outcome.outcome === 'failed') return outcome.rolledBack ? 'rolled-back' : 'failed';
  return outcome.outcome;
}

/** The rollback a failed promotion ran, if it says: rolled back, or tried and failed. */
export function rollbackResult(outcome: PromotionOutcome): 'rolled-back' | 'failed' | undefined {
  if (outcome.outcome !== 'failed') return undefined;
  if (outcome.rolledBack) return 'rolled-back';
  return outcome.rollbackError !== undefined || outcome.rollbackFailureType !== undefined ? 'failed' : undefined;
}

/**
 * One request the environment took up, as it ended. `gate` is where it stood when it ended: its
 * promotion's duration is counted from the `deploying` gate on (after freeze windows and approval).
 */
export function recordRequest(
  app: string,
  environment: string,
  request: Pick<PromotionRequest, 'kind'>,
  outcome: PromotionOutcome,
  gate: { phase: EnvironmentPhase; since: number } | undefined,
  now: number,
): void {
  const labels = { app, environment, kind: request.kind ?? 'promote', outcome: promotionOutcomeLabel(outcome) };
  record(metricMeter, PROMOTIONS, 1, labels);
  if (gate?.phase === 'deploying') record(metricMeter, PROMOTION_DURATION, (now - gate.since) / 1000, labels);
  const rollback = rollbackResult(outcome);
  if (rollback) record(metricMeter, ROLLBACKS, 1, { app, environment, result: rollback });
  if (rollback === 'failed') record(metricMeter, ROLLBACK_FAILED_AT, now / 1000, { app, environment });
  if (outcome.outcome === 'promoted' || rollback === 'rolled-back') record(metricMeter, ENVIRONMENT_HEALTHY_AT, now / 1000, { app, environment });
}

export type ApprovalDecision = 'approved' | 'rejected' | 'timed-out' | 'withdrawn';

/** How a wait at the approval gate ended, from what the gate saw. */
export function approvalDecision(seen: { answered: boolean; withdrawn: boolean; rejected: boolean }): ApprovalDecision {
  if (seen.withdrawn) return 'withdrawn';
  if (!seen.answered) return 'timed-out';
  return seen.rejected ? 'rejected' : 'approved';
}

export function recordApprovalWait(app: string, environment: string, waitedMs: number, decision: ApprovalDecision): void {
  record(metricMeter, APPROVAL_WAIT, waitedMs / 1000, { app, environment, decision });
}

export function recordBackup(app: string, environment: string, outcome: 'verified' | 'flagged' | 'failed'): void {
  record(metricMeter, BACKUPS, 1, { app, environment, outcome });
}

/** The schedule's gap, for the alert "no verified backup within twice the schedule" (see `scheduleIntervalMs`). */
export function recordBackupSchedule(app: string, environment: string, schedule: string | undefined, now: number): void {
  const interval = schedule ? scheduleIntervalMs(schedule, now) : undefined;
  if (interval !== undefined) record(metricMeter, BACKUP_SCHEDULE_INTERVAL, interval / 1000, { app, environment });
}

/**
 * The longest gap between consecutive firings of a cron schedule over the week before `now` (at
 * least one gap, looking back up to 400 days for a rare one). The longest, not the latest: a
 * weekday schedule's Friday → Monday gap is part of its period, and twice its Tuesday gap would
 * call a quiet weekend overdue. Undefined for a cron that does not parse or fires less than twice
 * a lookback. Pure and bounded: at most a few thousand cron steps.
 */
export function scheduleIntervalMs(schedule: string, now: number): number | undefined {
  let spec;
  try {
    spec = parseCron(schedule);
  } catch {
    return undefined;
  }
  const LOOKBACK = 400 * DAY_MS;
  const WINDOW = 7 * DAY_MS;
  let later = previousFiring(spec, now, LOOKBACK);
  if (later === undefined) return undefined;
  let longest: number | undefined;
  // Capped: an every-minute cron reaches the window's start in ten thousand steps, well under this.
  for (let steps = 0; steps < 20_000; steps++) {
    const earlier = previousFiring(spec, later - MINUTE_MS, LOOKBACK);
    if (earlier === undefined) break;
    longest = Math.max(longest ?? 0, later - earlier);
    later = earlier;
    if (now - earlier >= WINDOW) break;
  }
  return longest;
}
