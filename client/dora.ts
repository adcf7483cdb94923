/**
 * The four DORA figures of an app's environments, from what its promotions did. Pure: the records
 * come from Temporal (client/commands/metrics.ts reads them), the figures from here, and tests
 * build records by hand.
 *
 * Definitions, per environment, over the promotions that started in the window:
 * - a *change* is a promotion of kind `promote` that ended (promoted, or failed — rolled back or
 *   not); explicit rollbacks (`slipway rollback`) are counted apart: they undo a change;
 * - **deployment frequency**: changes that ended promoted, per day and per week of the window;
 * - **lead time for changes**: from when the change was ready (`readyAt`) to when it was Healthy
 *   there with its checks passed (`healthyAt`), over the promoted changes, p50 and p90;
 * - **change failure rate**: changes that failed (rolled back, or failed and not rolled back) or
 *   that were promoted and then undone by an explicit rollback (the next promotion there is a
 *   rollback), over all changes;
 * - **time to restore**: for each failed change, from when it was seen failing to the next time
 *   the environment was Healthy on a build again. A failed promotion was seen failing at
 *   `failedAt` (Argo CD said Degraded, a check failed) and is restored when its own rollback is
 *   Healthy (`restoredAt`); without one, by the next promotion there that ends Healthy. A change
 *   undone by an explicit rollback was seen failing when the rollback was asked for (its
 *   `readyAt`) and is restored when a promotion after it — the rollback, or a fix — ends Healthy.
 */
import { formatDuration } from '../core/duration.js';

export type PromotionEnd = 'promoted' | 'rolled-back' | 'failed';

/** One promotion that ran in an environment, as its workflow recorded it. Times are epoch ms. */
export interface PromotionRecord {
  environment: string;
  kind: 'promote' | 'rollback';
  promotionId: string;
  releaseId: string;
  commit: string;
  version?: string;
  /** When the change was ready to ship (see `DoraReport.leadTimeFrom`). */
  readyAt: number;
  /** When its commit was made, where the release recorded it: lead time starts there instead of at `readyAt`. */
  committedAt?: number;
  /** When the promotion started. */
  startedAt: number;
  outcome: PromotionEnd;
  /** promoted: when it was Healthy there with its checks passed. */
  healthyAt?: number;
  /** rolled-back or failed: when it was seen failing. */
  failedAt?: number;
  /** rolled-back: when the rollback was Healthy again. */
  restoredAt?: number;
}

export interface DoraWindow {
  since: number;
  until: number;
}

/** Durations with the number of samples they rest on; p50 and p90 by nearest rank, absent without samples. */
export interface DurationFigure {
  count: number;
  p50Ms?: number;
  p90Ms?: number;
}

export interface EnvironmentDora {
  environment: string;
  /** Changes (promotions of kind `promote`) that ended in the window. */
  promotions: number;
  /** Explicit rollbacks that ran in the window (not changes). */
  rollbacks: number;
  /** Distinct releases the changes came from. */
  releases: number;
  deploymentFrequency: { deployments: number; perDay: number; perWeek: number };
  leadTime: DurationFigure;
  changeFailureRate: {
    /** Failed changes: the three kinds below added up. */
    failed: number;
    /** Out of all changes (`promotions`). */
    of: number;
    /** failed / of; absent when there was no change. */
    rate?: number;
    rolledBack: number;
    failedWithoutRollback: number;
    /** Promoted, then undone by an explicit rollback. */
    undoneByRollback: number;
  };
  timeToRestore: DurationFigure & {
    /** Failed changes, each one failure to restore from (= changeFailureRate.failed). */
    failures: number;
    /** Failures with no Healthy state after them yet. */
    unrestored: number;
  };
}

export interface DoraReport {
  window: DoraWindow;
  environments: EnvironmentDora[];
}

const DAY_MS = 86_400_000;

/** The nearest-rank percentile (0 < p ≤ 1) of `values`: always one of them, and monotonic in p. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

function durations(samples: number[]): DurationFigure {
  return { count: samples.length, p50Ms: percentile(samples, 0.5), p90Ms: percentile(samples, 0.9) };
}

/**
 * The figures of each environment in `environments` (in that order; by default those the records
 * name, sorted), over the records that started within the window.
 */
export function computeDora(records: readonly PromotionRecord[], window: DoraWindow, environments?: readonly string[]): DoraReport {
  const inWindow = records.filter((r) => r.startedAt >= window.since && r.startedAt <= window.until);
  const names = environments ?? [...new Set(inWindow.map((r) => r.environment))].sort();
  return { window, environments: names.map((name) => environmentDora(name, inWindow.filter((r) => r.environment === name), window)) };
}

function environmentDora(environment: string, records: PromotionRecord[], window: DoraWindow): EnvironmentDora {
  // One promotion at a time per environment (its workflow is the lock): start order is the order.
  const sequence = [...records].sort((a, b) => a.startedAt - b.startedAt || a.promotionId.localeCompare(b.promotionId));
  const changes = sequence.filter((r) => r.kind === 'promote');
  const promoted = changes.filter((r) => r.outcome === 'promoted');
  const leadTimes = promoted.flatMap((r) => (r.healthyAt === undefined ? [] : [Math.max(0, r.healthyAt - (r.committedAt ?? r.readyAt))]));

  /** The first promotion after position `index` that ended Healthy, and when. */
  const nextHealthy = (index: number): number | undefined => {
    for (const later of sequence.slice(index + 1)) if (later.outcome === 'promoted' && later.healthyAt !== undefined) return later.healthyAt;
    return undefined;
  };

  let rolledBack = 0;
  let failedWithoutRollback = 0;
  let undoneByRollback = 0;
  let unrestored = 0;
  const restoreTimes: number[] = [];
  const restore = (from: number, to: number | undefined) => {
    if (to === undefined) unrestored++;
    else restoreTimes.push(Math.max(0, to - from));
  };
  sequence.forEach((record, index) => {
    if (record.kind !== 'promote') return;
    if (record.outcome === 'rolled-back') {
      rolledBack++;
      restore(record.failedAt ?? record.startedAt, record.restoredAt ?? nextHealthy(index));
    } else if (record.outcome === 'failed') {
      failedWithoutRollback++;
      restore(record.failedAt ?? record.startedAt, nextHealthy(index));
    } else {
      const next = sequence[index + 1];
      if (next?.kind !== 'rollback') return;
      undoneByRollback++;
      // Asked for at its release's start; never counted from before the change itself was Healthy.
      restore(Math.max(next.readyAt, record.healthyAt ?? record.startedAt), nextHealthy(index));
    }
  });

  const failed = rolledBack + failedWithoutRollback + undoneByRollback;
  const days = Math.max(window.until - window.since, 1) / DAY_MS;
  return {
    environment,
    promotions: changes.length,
    rollbacks: sequence.length - changes.length,
    releases: new Set(changes.map((r) => r.releaseId)).size,
    deploymentFrequency: { deployments: promoted.length, perDay: promoted.length / days, perWeek: (promoted.length / days) * 7 },
    leadTime: durations(leadTimes),
    changeFailureRate: {
      failed,
      of: changes.length,
      ...(changes.length > 0 ? { rate: failed / changes.length } : {}),
      rolledBack,
      failedWithoutRollback,
      undoneByRollback,
    },
    timeToRestore: { ...durations(restoreTimes), failures: failed, unrestored },
  };
}

// ------------------------------------------------------------------ for people

/** A report as the CLI and the demo show it: whose, where lead time counts from, and what to know. */
export interface DoraSummary extends DoraReport {
  app: string;
  /** Where lead time starts, in words: `release start (commit times are not recorded)`. */
  leadTimeFrom: string;
  /** What limits the figures (Temporal's retention, a capped read, promotions not counted). */
  notes: string[];
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const rate = (perUnit: number) => (perUnit >= 10 ? perUnit.toFixed(0) : perUnit.toFixed(2));

function percentiles(figure: DurationFigure): string {
  return `p50 ${formatDuration(figure.p50Ms ?? 0)}, p90 ${formatDuration(figure.p90Ms ?? 0)}`;
}

/** The summary as lines for a terminal: per environment, each figure with what it rests on. */
export function renderDoraSummary(summary: DoraSummary): string[] {
  const { window } = summary;
  const lines = [
    `DORA metrics of ${summary.app}, the last ${formatDuration(window.until - window.since)} (${new Date(window.since).toISOString()} → ${new Date(window.until).toISOString()})`,
  ];
  for (const env of summary.environments) {
    lines.push(`${summary.app}/${env.environment}:`);
    if (env.promotions === 0) {
      lines.push(`  no promotions in the window${env.rollbacks > 0 ? ` (${plural(env.rollbacks, 'rollback')})` : ''}`);
      continue;
    }
    const { deploymentFrequency: f, leadTime, changeFailureRate: cfr, timeToRestore: ttr } = env;
    const failedKinds = [
      cfr.rolledBack > 0 ? `${cfr.rolledBack} rolled back` : '',
      cfr.failedWithoutRollback > 0 ? `${cfr.failedWithoutRollback} failed without a rollback` : '',
      cfr.undoneByRollback > 0 ? `${cfr.undoneByRollback} undone by a later rollback` : '',
    ].filter(Boolean);
    lines.push(
      `  deployment frequency  ${rate(f.perDay)}/day, ${rate(f.perWeek)}/week — ${plural(f.deployments, 'successful promotion')} of ${plural(env.releases, 'release')}`,
      leadTime.count === 0
        ? '  lead time             — (no promotion reached Healthy)'
        : `  lead time             ${percentiles(leadTime)} — over ${plural(leadTime.count, 'promotion')}, from ${summary.leadTimeFrom} to Healthy`,
      `  change failure rate   ${Math.round((cfr.rate ?? 0) * 100)}% — ${cfr.failed} of ${plural(cfr.of, 'promotion')}${failedKinds.length > 0 ? ` (${failedKinds.join(', ')})` : ''}${env.rollbacks > 0 ? `; ${plural(env.rollbacks, 'explicit rollback')} besides` : ''}`,
      ttr.failures === 0
        ? '  time to restore       — (no failed change to restore from)'
        : ttr.count === 0
          ? `  time to restore       not restored yet — ${plural(ttr.unrestored, 'failure')} with no Healthy promotion after it`
          : `  time to restore       ${percentiles(ttr)} — over ${plural(ttr.count, 'restored failure')}${ttr.unrestored > 0 ? `, ${ttr.unrestored} not restored yet` : ''}`,
    );
  }
  for (const note of summary.notes) lines.push(`note: ${note}`);
  return lines;
}
