/**
 * The DORA figures (client/dora.ts) from hand-built promotion records, with no server: what each
 * figure counts, the edge cases (no promotions, only failures, a rollback after a success, restore
 * spans), the window, the rendering the CLI and the demo print, and `--since`.
 */
import { describe, expect, it } from 'vitest';
import { parseSince } from '../../client/commands/metrics.js';
import { computeDora, percentile, renderDoraSummary, type DoraSummary, type PromotionRecord } from '../../client/dora.js';

const MIN = 60_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2025, 0, 1);
const window = { since: T0, until: T0 + 7 * DAY };

let n = 0;
/** A promotion of kind `promote` into production that started at T0 + `at` minutes, ready a minute before. */
function record(at: number, outcome: PromotionRecord['outcome'], more: Partial<PromotionRecord> = {}): PromotionRecord {
  n++;
  const startedAt = T0 + at * MIN;
  return {
    environment: 'production',
    kind: 'promote',
    promotionId: `promotion/shop/production/c${n}-${n}`,
    releaseId: `release/shop/c${n}`,
    commit: `c${n}`.padEnd(40, '0'),
    readyAt: startedAt - MIN,
    startedAt,
    outcome,
    ...(outcome === 'promoted' ? { healthyAt: startedAt + 2 * MIN } : { failedAt: startedAt + MIN }),
    ...(outcome === 'rolled-back' ? { restoredAt: startedAt + 3 * MIN } : {}),
    ...more,
  };
}
const rollback = (at: number, outcome: PromotionRecord['outcome'] = 'promoted', more: Partial<PromotionRecord> = {}) => record(at, outcome, { kind: 'rollback', ...more });
const production = (records: PromotionRecord[]) => computeDora(records, window, ['production']).environments[0]!;

describe('DORA figures from promotion records', () => {
  it('reports an environment with no promotions as zero deployments, no rate and no durations', () => {
    const env = production([]);
    expect(env).toMatchObject({ environment: 'production', promotions: 0, rollbacks: 0, releases: 0 });
    expect(env.deploymentFrequency).toEqual({ deployments: 0, perDay: 0, perWeek: 0 });
    expect(env.leadTime).toEqual({ count: 0, p50Ms: undefined, p90Ms: undefined });
    expect(env.changeFailureRate.rate).toBeUndefined();
    expect(env.timeToRestore).toMatchObject({ count: 0, failures: 0, unrestored: 0, p50Ms: undefined });
  });

  it('starts lead time at the commit where the release recorded its time, and at ready where it did not', () => {
    const env = production([
      record(0, 'promoted', { healthyAt: T0 + 2 * MIN, committedAt: T0 - 60 * MIN }), // committed an hour before: 62 min
      record(60, 'promoted', { healthyAt: T0 + 70 * MIN }), // no commit time: from ready at 59, 11 min
    ]);
    expect(env.leadTime).toEqual({ count: 2, p50Ms: 11 * MIN, p90Ms: 62 * MIN });
    // Time to restore and the rest do not move with it.
    expect(env.changeFailureRate).toMatchObject({ failed: 0, of: 2 });
  });

  it('counts successful promotions per day and per week of the window, and lead time from ready to Healthy', () => {
    const env = production([
      record(0, 'promoted', { healthyAt: T0 + 2 * MIN }), // ready at -1 min: 3 min
      record(60, 'promoted', { healthyAt: T0 + 70 * MIN }), // ready at 59: 11 min
      record(120, 'promoted', { healthyAt: T0 + 125 * MIN }), // ready at 119: 6 min
    ]);
    expect(env.deploymentFrequency.deployments).toBe(3);
    expect(env.deploymentFrequency.perDay).toBeCloseTo(3 / 7, 10);
    expect(env.deploymentFrequency.perWeek).toBeCloseTo(3, 10);
    expect(env.leadTime).toEqual({ count: 3, p50Ms: 6 * MIN, p90Ms: 11 * MIN });
    expect(env.changeFailureRate).toMatchObject({ failed: 0, of: 3, rate: 0 });
    expect(env.releases).toBe(3);
  });

  it('with only failures: no deployments, a failure rate of 1, and each failure restored by its own rollback', () => {
    const env = production([record(0, 'rolled-back'), record(10, 'rolled-back', { failedAt: T0 + 12 * MIN, restoredAt: T0 + 20 * MIN })]);
    expect(env.deploymentFrequency.deployments).toBe(0);
    expect(env.leadTime.count).toBe(0);
    expect(env.changeFailureRate).toEqual({ failed: 2, of: 2, rate: 1, rolledBack: 2, failedWithoutRollback: 0, undoneByRollback: 0 });
    // From seen failing to its rollback Healthy: 2 min and 8 min.
    expect(env.timeToRestore).toEqual({ count: 2, failures: 2, unrestored: 0, p50Ms: 2 * MIN, p90Ms: 8 * MIN });
  });

  it('counts a success followed by an explicit rollback as a failed change, restored when the rollback is Healthy', () => {
    const good = record(0, 'promoted');
    const bad = record(30, 'promoted'); // Healthy at 32
    const back = rollback(50, 'promoted', { readyAt: T0 + 45 * MIN, healthyAt: T0 + 52 * MIN });
    const env = production([back, good, bad]); // order given does not matter
    expect(env.promotions).toBe(2);
    expect(env.rollbacks).toBe(1);
    expect(env.deploymentFrequency.deployments).toBe(2);
    expect(env.changeFailureRate).toMatchObject({ failed: 1, of: 2, rate: 0.5, undoneByRollback: 1, rolledBack: 0 });
    // Seen failing when the rollback was asked for (45), restored when it was Healthy (52).
    expect(env.timeToRestore).toMatchObject({ count: 1, failures: 1, p50Ms: 7 * MIN });
    // The rollback is no change: it is neither a deployment nor in lead time.
    expect(env.leadTime.count).toBe(2);
  });

  it('does not blame the change before when a rollback follows a failed one', () => {
    const env = production([record(0, 'promoted'), record(10, 'failed', { failedAt: T0 + 11 * MIN }), rollback(20, 'promoted', { healthyAt: T0 + 22 * MIN })]);
    expect(env.changeFailureRate).toMatchObject({ failed: 1, of: 2, failedWithoutRollback: 1, undoneByRollback: 0 });
    // Failed without a rollback: restored by the next promotion that ends Healthy (the explicit rollback).
    expect(env.timeToRestore).toMatchObject({ count: 1, unrestored: 0, p50Ms: 11 * MIN });
  });

  it('leaves a failure without a rollback unrestored until a later promotion ends Healthy', () => {
    const env = production([record(0, 'failed'), record(10, 'rolled-back')]);
    // The rolled-back one is back on the failed state: it restores itself, not the failure before it.
    expect(env.timeToRestore).toMatchObject({ failures: 2, count: 1, unrestored: 1, p50Ms: 2 * MIN });
    const fixed = production([record(0, 'failed', { failedAt: T0 + MIN }), record(10, 'rolled-back'), record(20, 'promoted', { healthyAt: T0 + 25 * MIN })]);
    expect(fixed.timeToRestore).toMatchObject({ failures: 2, count: 2, unrestored: 0, p50Ms: 2 * MIN, p90Ms: 24 * MIN });
  });

  it('does not count a rollback that is itself rolled back as restoring the change it undoes', () => {
    const env = production([record(0, 'promoted'), rollback(10, 'rolled-back')]);
    expect(env.changeFailureRate.undoneByRollback).toBe(1);
    expect(env.timeToRestore).toMatchObject({ failures: 1, count: 0, unrestored: 1 });
  });

  it('counts only promotions that started in the window, and each environment apart', () => {
    const before = record(-10, 'rolled-back');
    const staging = record(5, 'promoted', { environment: 'staging' });
    const report = computeDora([before, record(5, 'promoted'), staging], window, ['staging', 'production', 'preview']);
    expect(report.environments.map((e) => [e.environment, e.promotions])).toEqual([
      ['staging', 1],
      ['production', 1],
      ['preview', 0],
    ]);
    expect(report.environments[1]!.changeFailureRate.failed).toBe(0);
    // Without names, the environments the records name, sorted.
    expect(computeDora([staging, record(6, 'promoted')], window).environments.map((e) => e.environment)).toEqual(['production', 'staging']);
  });

  it('counts the releases behind the changes once each', () => {
    const env = production([record(0, 'failed', { releaseId: 'release/shop/a' }), record(10, 'promoted', { releaseId: 'release/shop/a' })]);
    expect(env.releases).toBe(1);
    expect(env.promotions).toBe(2);
  });

  it('takes percentiles by nearest rank: always an observed value', () => {
    expect(percentile([], 0.5)).toBeUndefined();
    expect(percentile([7], 0.9)).toBe(7);
    expect(percentile([4, 1, 3, 2], 0.5)).toBe(2);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5)).toBe(5);
  });
});

describe('the DORA summary people read', () => {
  const summary = (records: PromotionRecord[], notes: string[] = []): DoraSummary => ({
    app: 'shop',
    leadTimeFrom: 'release start (commit times are not recorded)',
    notes,
    ...computeDora(records, window, ['staging', 'production']),
  });

  it('names each figure per environment with what it rests on and where lead time starts', () => {
    const lines = renderDoraSummary(
      summary([record(0, 'promoted'), record(30, 'promoted'), record(60, 'rolled-back'), record(90, 'promoted'), rollback(100)], ['Temporal keeps closed workflows for 1d']),
    );
    expect(lines[0]).toBe('DORA metrics of shop, the last 7d (2025-01-01T00:00:00.000Z → 2025-01-08T00:00:00.000Z)');
    expect(lines).toContain('shop/staging:');
    expect(lines).toContain('  no promotions in the window');
    expect(lines).toContain('shop/production:');
    expect(lines).toContain('  deployment frequency  0.43/day, 3.00/week — 3 successful promotions of 4 releases');
    expect(lines).toContain('  lead time             p50 3m, p90 3m — over 3 promotions, from release start (commit times are not recorded) to Healthy');
    expect(lines).toContain('  change failure rate   50% — 2 of 4 promotions (1 rolled back, 1 undone by a later rollback); 1 explicit rollback besides');
    expect(lines).toContain('  time to restore       p50 2m, p90 3m — over 2 restored failures');
    expect(lines.at(-1)).toBe('note: Temporal keeps closed workflows for 1d');
  });

  it('says how many failures are not restored yet', () => {
    const lines = renderDoraSummary(summary([record(0, 'failed')]));
    expect(lines).toContain('  change failure rate   100% — 1 of 1 promotion (1 failed without a rollback)');
    expect(lines).toContain('  lead time             — (no promotion reached Healthy)');
    expect(lines).toContain('  time to restore       not restored yet — 1 failure with no Healthy promotion after it');
    expect(renderDoraSummary(summary([record(0, 'promoted')]))).toContain('  time to restore       — (no failed change to restore from)');
  });
});

describe('slipway metrics --since', () => {
  it('takes a duration and refuses anything else with the reason', () => {
    expect(parseSince('30d')).toBe(30 * DAY);
    expect(parseSince('12h')).toBe(12 * 3_600_000);
    expect(parseSince('thirty days')).toMatch(/expected a duration like 30s, 5m, 24h or 1h30m, got "thirty days"/);
    expect(parseSince('0d')).toMatch(/longer than 0/);
    expect(parseSince('400d')).toMatch(/longer than the longest duration allowed/);
  });
});
