/**
 * Slipway's own metrics: the one list of what the worker exports beside the Temporal SDK's, with
 * their kinds, units, labels and buckets. Workflows (workflows/metrics.ts), activities, the
 * worker's exporter settings (worker/telemetry.ts), the Grafana dashboard test and the README all
 * go by it, so a name is spelt in one place. Pure and free of Node modules: workflows import it.
 *
 * Names here are the names given to the SDK's meter; the Prometheus exporter, set up as
 * `EXPORTER_NAMING` says, adds `_total` to counters and the unit to histograms (`exportedName`).
 * Gauges keep their name as given, so theirs carry the unit already.
 */
import type { MetricMeter, MetricTags } from '@temporalio/common';

export interface SlipwayMetric<L extends string = string> {
  /** The name given to the meter. */
  name: string;
  kind: 'counter' | 'histogram' | 'gauge';
  /** Histograms: the unit the exporter appends to the name. */
  unit?: 'seconds';
  help: string;
  /** The labels Slipway sets (the SDK's meter adds namespace, task queue and workflow or activity type). */
  labels: readonly L[];
  /** Histogram bucket bounds, in the unit. */
  buckets?: readonly number[];
}

/**
 * How the worker's Prometheus exporter names what it exports: Prometheus's conventions (counters
 * end in `_total`, durations are seconds and say so). The SDK's own metrics follow the same
 * settings: `temporal_request_total`, `temporal_request_latency_seconds`.
 */
export const EXPORTER_NAMING = { countersTotalSuffix: true, unitSuffix: true, useSecondsForDurations: true } as const;

const metric = <L extends string>(m: SlipwayMetric<L>): SlipwayMetric<L> => m;

const MINUTE = 60;
const HOUR = 60 * MINUTE;

/** Each request an environment took up, by how it ended (see `promotionOutcomeLabel` in workflows/metrics.ts). */
export const PROMOTIONS = metric({
  name: 'slipway_promotions',
  kind: 'counter',
  help: 'Requests an environment took up, by outcome: promoted, rolled-back, failed, rejected, approval-timed-out, cancelled, superseded, refused',
  labels: ['app', 'environment', 'kind', 'outcome'],
});

/** From the promotion's start (after its gates) to promoted, rolled back or failed. */
export const PROMOTION_DURATION = metric({
  name: 'slipway_promotion_duration',
  kind: 'histogram',
  unit: 'seconds',
  help: 'How long a promotion ran, from writing the overlay to promoted, rolled back or failed (checks and soak included)',
  labels: ['app', 'environment', 'kind', 'outcome'],
  buckets: [5, 15, 30, MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 20 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 6 * HOUR],
});

export const APPROVAL_WAIT = metric({
  name: 'slipway_approval_wait',
  kind: 'histogram',
  unit: 'seconds',
  help: 'How long a request waited at an approval gate, by decision: approved, rejected, timed-out, withdrawn',
  labels: ['app', 'environment', 'decision'],
  buckets: [10, MINUTE, 5 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR, 24 * HOUR, 48 * HOUR, 7 * 24 * HOUR],
});

/** Measured by the Argo CD wait, which knows the Application, not the app and environment it serves. */
export const DEGRADED_DETECTION = metric({
  name: 'slipway_degraded_detection',
  kind: 'histogram',
  unit: 'seconds',
  help: 'From the sync of our commit (Argo CD\'s operation end) to Slipway\'s Degraded verdict on it, by what decided it: a failed sync, or health',
  labels: ['argocd_namespace', 'argocd_application', 'by'],
  buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE],
});

/** The rollbacks of failed promotions; explicit rollbacks (`slipway rollback`) count in PROMOTIONS with kind="rollback". */
export const ROLLBACKS = metric({
  name: 'slipway_rollbacks',
  kind: 'counter',
  help: 'Rollbacks of failed promotions, by result: rolled-back (the previous images healthy again) or failed (refused, not written, or not healthy after)',
  labels: ['app', 'environment', 'result'],
});

/**
 * Timestamps rather than a 0/1 state: with several workers, and an environment's workflow moving
 * between them, each worker keeps the last value it set; the newest across workers (max) is the
 * truth, where a state gauge left behind on another worker would be stale.
 */
export const ROLLBACK_FAILED_AT = metric({
  name: 'slipway_rollback_failed_timestamp_seconds',
  kind: 'gauge',
  help: 'When a rollback of a failed promotion in this environment last failed (Unix seconds)',
  labels: ['app', 'environment'],
});

export const ENVIRONMENT_HEALTHY_AT = metric({
  name: 'slipway_environment_healthy_timestamp_seconds',
  kind: 'gauge',
  help: 'When a promotion last left this environment healthy: promoted, or rolled back and healthy again (Unix seconds)',
  labels: ['app', 'environment'],
});

export const BACKUPS = metric({
  name: 'slipway_backups',
  kind: 'counter',
  help: 'Backup runs by outcome: verified, flagged (restores but the database looks wiped or shrunken), failed',
  labels: ['app', 'environment', 'outcome'],
});

export const BACKUP_NEWEST_VERIFIED_AT = metric({
  name: 'slipway_backup_newest_verified_timestamp_seconds',
  kind: 'gauge',
  help: 'When the newest verified backup of this environment was taken (Unix seconds); its age is time() minus this',
  labels: ['app', 'environment'],
});

export const BACKUP_SCHEDULE_INTERVAL = metric({
  name: 'slipway_backup_schedule_interval_seconds',
  kind: 'gauge',
  help: 'The longest gap between firings of this environment\'s backup schedule over the last week (seconds), set when a backup runs',
  labels: ['app', 'environment'],
});

/** The values the counters' outcome labels take (workflows/metrics.ts), each started at 0 (worker/telemetry.ts). */
export const PROMOTION_KINDS = ['promote', 'rollback'] as const;
export const PROMOTION_OUTCOMES = ['promoted', 'rolled-back', 'failed', 'rejected', 'approval-timed-out', 'cancelled', 'superseded', 'refused'] as const;
export const ROLLBACK_RESULTS = ['rolled-back', 'failed'] as const;
export const BACKUP_OUTCOMES = ['verified', 'flagged', 'failed'] as const;

export const SLIPWAY_METRICS: readonly SlipwayMetric[] = [
  PROMOTIONS,
  PROMOTION_DURATION,
  APPROVAL_WAIT,
  DEGRADED_DETECTION,
  ROLLBACKS,
  ROLLBACK_FAILED_AT,
  ENVIRONMENT_HEALTHY_AT,
  BACKUPS,
  BACKUP_NEWEST_VERIFIED_AT,
  BACKUP_SCHEDULE_INTERVAL,
];

/**
 * The Temporal SDK's worker metrics the dashboard shows, as the exporter names them. They are the
 * SDK's, not Slipway's: test/integration/worker-metrics.test.ts checks each is on a real worker's
 * endpoint, so an SDK upgrade that renames one fails there, not silently on the dashboard.
 */
export const SDK_METRICS_SHOWN = [
  'temporal_worker_task_slots_available',
  'temporal_worker_task_slots_used',
  'temporal_num_pollers',
  'temporal_sticky_cache_size',
  'temporal_workflow_task_schedule_to_start_latency_seconds',
  'temporal_activity_schedule_to_start_latency_seconds',
  'temporal_activity_execution_latency_seconds',
] as const;

/** The metric's name on the Prometheus endpoint, under `EXPORTER_NAMING`. */
export function exportedName(m: SlipwayMetric): string {
  if (m.kind === 'counter') return `${m.name}_total`;
  if (m.kind === 'histogram' && m.unit) return `${m.name}_${m.unit}`;
  return m.name;
}

/** Every series name the metric shows on the endpoint (a histogram's buckets, sum and count). */
export function exportedSeries(m: SlipwayMetric): string[] {
  const name = exportedName(m);
  return m.kind === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name];
}

/** The exporter's bucket bounds for Slipway's histograms, keyed by the name given to the meter. */
export function histogramBuckets(): Record<string, number[]> {
  return Object.fromEntries(SLIPWAY_METRICS.filter((m) => m.buckets).map((m) => [m.name, [...m.buckets!]]));
}

/**
 * Records one value. A metric never changes what Slipway does: anything the meter throws (a
 * negative value, a meter used outside its context) is swallowed here, and nothing is recorded
 * without a meter (activities called outside a worker).
 */
export function record<L extends string>(meter: MetricMeter | undefined, m: SlipwayMetric<L>, value: number, labels: Record<L, string>): void {
  if (!meter || !Number.isFinite(value)) return;
  try {
    const tags: MetricTags = labels;
    const v = Math.max(0, value);
    if (m.kind === 'counter') meter.createCounter(m.name, undefined, m.help).add(Math.round(v), tags);
    else if (m.kind === 'histogram') meter.createHistogram(m.name, 'float', m.unit, m.help).record(v, tags);
    else meter.createGauge(m.name, 'float', undefined, m.help).set(v, tags);
  } catch {
    /* see above */
  }
}
