/**
 * What Slipway's metrics say, computed by plain functions: the outcome and rollback labels of a
 * request, the approval decision, the schedule interval the backup alert doubles, the time to
 * detect Degraded, and the names the exporter gives each metric.
 */
import { describe, expect, it } from 'vitest';
import { degradedDetectionSeconds } from '../../activities/argocd/wait-for-healthy.js';
import { exportedName, exportedSeries, PROMOTION_OUTCOMES, ROLLBACK_RESULTS, SLIPWAY_METRICS } from '../../core/metrics.js';
import { approvalDecision, promotionOutcomeLabel, rollbackResult, scheduleIntervalMs } from '../../workflows/metrics.js';
import type { PromotionOutcome } from '../../workflows/types.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const failed = (extra: Partial<Extract<PromotionOutcome, { outcome: 'failed' }>>): PromotionOutcome => ({
  outcome: 'failed',
  reason: 'Degraded',
  failureType: 'ApplicationDegraded',
  rolledBack: false,
  ...extra,
});

describe('the outcome of a request', () => {
  it('tells a failed promotion that was rolled back from one whose rollback failed', () => {
    expect(promotionOutcomeLabel({ outcome: 'promoted', gitopsCommit: 'c', previousImages: [], alreadyDeployed: false })).toBe('promoted');
    expect(promotionOutcomeLabel(failed({ rolledBack: true }))).toBe('rolled-back');
    expect(promotionOutcomeLabel(failed({ rolledBack: false, rollbackError: 'conflict' }))).toBe('failed');
    expect(promotionOutcomeLabel({ outcome: 'rejected', by: 'bob' })).toBe('rejected');
    expect(promotionOutcomeLabel({ outcome: 'approval-timed-out', after: 1 })).toBe('approval-timed-out');
  });

  it('counts a rollback only where the promotion ran one: rolled back, or tried and failed', () => {
    expect(rollbackResult(failed({ rolledBack: true }))).toBe('rolled-back');
    expect(rollbackResult(failed({ rollbackError: 'the overlay changed', rollbackFailureType: 'RollbackConflict' }))).toBe('failed');
    expect(rollbackResult(failed({ rollbackFailureType: 'ApplicationDegraded' }))).toBe('failed');
    // A failure that says nothing of a rollback (a promotion from before rollbacks were reported).
    expect(rollbackResult(failed({}))).toBeUndefined();
    expect(rollbackResult({ outcome: 'cancelled' })).toBeUndefined();
  });

  it('takes only the label values the worker starts at 0, so every series it counts on exists before its first event', () => {
    const outcomes: PromotionOutcome[] = [
      { outcome: 'promoted', gitopsCommit: 'c', previousImages: [], alreadyDeployed: false },
      failed({ rolledBack: true }),
      failed({ rollbackError: 'x' }),
      { outcome: 'superseded', by: 'r' },
      { outcome: 'rejected', by: 'bob' },
      { outcome: 'approval-timed-out', after: 1 },
      { outcome: 'cancelled' },
      { outcome: 'refused', reason: 'no such environment' },
    ];
    expect(outcomes.map(promotionOutcomeLabel).sort()).toEqual([...PROMOTION_OUTCOMES].sort());
    expect(outcomes.map(rollbackResult).filter(Boolean).sort()).toEqual([...ROLLBACK_RESULTS].sort());
  });

  it('names how an approval wait ended; a withdrawal wins over anything else seen', () => {
    expect(approvalDecision({ answered: true, withdrawn: false, rejected: false })).toBe('approved');
    expect(approvalDecision({ answered: true, withdrawn: false, rejected: true })).toBe('rejected');
    expect(approvalDecision({ answered: false, withdrawn: false, rejected: false })).toBe('timed-out');
    expect(approvalDecision({ answered: true, withdrawn: true, rejected: false })).toBe('withdrawn');
  });
});

describe('the schedule interval the backup alert doubles', () => {
  // A Wednesday, 12:00 UTC.
  const wednesday = Date.parse('2026-11-25T12:00:00Z');

  it('is a day for a daily schedule and an hour for an hourly one', () => {
    expect(scheduleIntervalMs('0 3 * * *', wednesday)).toBe(DAY);
    expect(scheduleIntervalMs('15 * * * *', wednesday)).toBe(HOUR);
    expect(scheduleIntervalMs('*/5 * * * *', wednesday)).toBe(5 * 60_000);
  });

  it('is the longest gap of the last week, so a weekday schedule is not overdue over a weekend', () => {
    // Friday 03:00 → Monday 03:00, though the latest gap (Tuesday → Wednesday) is one day.
    expect(scheduleIntervalMs('0 3 * * 1-5', wednesday)).toBe(3 * DAY);
    // Weekday hours: the Friday 23:00 → Monday 00:00 gap.
    expect(scheduleIntervalMs('0 * * * 1-5', wednesday)).toBe(49 * HOUR);
  });

  it('reaches back past the week for a rarer schedule', () => {
    expect(scheduleIntervalMs('0 3 * * 0', wednesday)).toBe(7 * DAY);
    // November 1st → the 1st of December is not yet; October 1st → November 1st is 31 days.
    expect(scheduleIntervalMs('0 3 1 * *', wednesday)).toBe(31 * DAY);
  });

  it('is undefined for a schedule that does not parse, so nothing is exported for it', () => {
    expect(scheduleIntervalMs('every day', wednesday)).toBeUndefined();
    expect(scheduleIntervalMs('0 3 31 2 *', wednesday)).toBeUndefined();
  });
});

describe('the time to detect Degraded', () => {
  const started = Date.parse('2026-11-25T12:00:00Z');

  it('counts from the end of the sync operation', () => {
    expect(degradedDetectionSeconds({ phase: 'Succeeded', startedAt: '2026-11-25T12:00:05Z', finishedAt: '2026-11-25T12:00:10Z' }, started + 70_000, started)).toBe(60);
  });

  it('counts from the start of an operation that has not finished, and from the wait when there is none', () => {
    expect(degradedDetectionSeconds({ phase: 'Running', startedAt: '2026-11-25T12:00:05Z' }, started + 7_500, started)).toBe(2.5);
    expect(degradedDetectionSeconds(undefined, started + 4_000, started)).toBe(4);
  });

  it('never counts from before the wait began, nor below zero when clocks disagree', () => {
    expect(degradedDetectionSeconds({ phase: 'Succeeded', finishedAt: '2026-11-24T12:00:00Z' }, started + 3_000, started)).toBe(3);
    expect(degradedDetectionSeconds({ phase: 'Failed', finishedAt: '2026-11-25T12:00:09Z' }, started + 5_000, started)).toBe(0);
  });
});

describe('the names on the endpoint', () => {
  it('end counters in _total and histograms in their unit, as the exporter is set to', () => {
    const byName = Object.fromEntries(SLIPWAY_METRICS.map((m) => [m.name, exportedName(m)]));
    expect(byName).toMatchObject({
      slipway_promotions: 'slipway_promotions_total',
      slipway_promotion_duration: 'slipway_promotion_duration_seconds',
      slipway_approval_wait: 'slipway_approval_wait_seconds',
      slipway_degraded_detection: 'slipway_degraded_detection_seconds',
      slipway_rollbacks: 'slipway_rollbacks_total',
      slipway_backups: 'slipway_backups_total',
      slipway_backup_newest_verified_timestamp_seconds: 'slipway_backup_newest_verified_timestamp_seconds',
      slipway_backup_schedule_interval_seconds: 'slipway_backup_schedule_interval_seconds',
    });
    expect(exportedSeries(SLIPWAY_METRICS.find((m) => m.name === 'slipway_approval_wait')!)).toEqual([
      'slipway_approval_wait_seconds_bucket',
      'slipway_approval_wait_seconds_sum',
      'slipway_approval_wait_seconds_count',
    ]);
    expect(new Set(SLIPWAY_METRICS.map(exportedName)).size, 'no two metrics share a name').toBe(SLIPWAY_METRICS.length);
  });
});
