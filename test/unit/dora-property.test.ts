/**
 * Invariants of the DORA figures (client/dora.ts) over generated promotion histories: rates stay
 * in [0, 1], the counts add up (every change is a deployment or a failure of one kind; every
 * failure is restored or not), p50 ≤ p90, no duration is negative, and figures are per
 * environment (one environment's records never move another's).
 *
 * A failure prints fast-check's seed and path; SLIPWAY_PROPERTY_SEED=<seed> replays the run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeDora, type DurationFigure, type PromotionRecord } from '../../client/dora.js';

const seed = process.env.SLIPWAY_PROPERTY_SEED ? Number(process.env.SLIPWAY_PROPERTY_SEED) : undefined;
const runs = { numRuns: 300, ...(seed !== undefined ? { seed } : {}) };
const T0 = Date.UTC(2025, 0, 1);
const ENVIRONMENTS = ['staging', 'production'];

/** One step of an environment's history: a promotion after a gap, with how long its parts took. */
const step = fc.record({
  environment: fc.constantFrom(...ENVIRONMENTS),
  kind: fc.constantFrom('promote' as const, 'promote' as const, 'rollback' as const),
  outcome: fc.constantFrom('promoted' as const, 'rolled-back' as const, 'failed' as const),
  gap: fc.integer({ min: 0, max: 3_600_000 }),
  waited: fc.integer({ min: 0, max: 600_000 }),
  took: fc.integer({ min: 0, max: 600_000 }),
  restoring: fc.integer({ min: 0, max: 600_000 }),
  release: fc.integer({ min: 0, max: 5 }),
});

/** Histories as the environment workflow makes them: one promotion at a time per environment. */
const histories = fc.array(step, { maxLength: 40 }).map((steps) => {
  const clock: Record<string, number> = Object.fromEntries(ENVIRONMENTS.map((e) => [e, T0]));
  return steps.map((s, i): PromotionRecord => {
    const readyAt = clock[s.environment]! + s.gap;
    const startedAt = readyAt + s.waited;
    const endedAt = startedAt + s.took;
    clock[s.environment] = endedAt + s.restoring;
    return {
      environment: s.environment,
      kind: s.kind,
      promotionId: `promotion/shop/${s.environment}/${i}`,
      releaseId: `release/shop/${s.release}`,
      commit: String(i).padEnd(40, '0'),
      readyAt,
      startedAt,
      outcome: s.outcome,
      ...(s.outcome === 'promoted' ? { healthyAt: endedAt } : { failedAt: endedAt }),
      ...(s.outcome === 'rolled-back' ? { restoredAt: endedAt + s.restoring } : {}),
    };
  });
});

const windows = fc.record({ from: fc.integer({ min: -3_600_000, max: 20 * 3_600_000 }), length: fc.integer({ min: 1, max: 40 * 86_400_000 }) }).map(({ from, length }) => ({
  since: T0 + from,
  until: T0 + from + length,
}));

function wellFormed(figure: DurationFigure): void {
  if (figure.count === 0) {
    expect(figure.p50Ms).toBeUndefined();
    expect(figure.p90Ms).toBeUndefined();
    return;
  }
  expect(figure.p50Ms!).toBeGreaterThanOrEqual(0);
  expect(figure.p50Ms!).toBeLessThanOrEqual(figure.p90Ms!);
}

describe('DORA figures: invariants over generated histories', () => {
  it('keeps rates in [0, 1], adds the counts up, and orders p50 ≤ p90', () => {
    fc.assert(
      fc.property(histories, windows, (records, window) => {
        const report = computeDora(records, window, ENVIRONMENTS);
        const inWindow = records.filter((r) => r.startedAt >= window.since && r.startedAt <= window.until);
        for (const env of report.environments) {
          const mine = inWindow.filter((r) => r.environment === env.environment);
          const changes = mine.filter((r) => r.kind === 'promote');
          expect(env.promotions).toBe(changes.length);
          expect(env.rollbacks).toBe(mine.length - changes.length);
          expect(env.releases).toBeLessThanOrEqual(env.promotions);

          const { deploymentFrequency: f, changeFailureRate: cfr, timeToRestore: ttr, leadTime } = env;
          // Every change is a deployment, or failed with or without its rollback.
          expect(f.deployments + cfr.rolledBack + cfr.failedWithoutRollback).toBe(env.promotions);
          expect(cfr.failed).toBe(cfr.rolledBack + cfr.failedWithoutRollback + cfr.undoneByRollback);
          expect(cfr.undoneByRollback).toBeLessThanOrEqual(f.deployments);
          expect(cfr.undoneByRollback).toBeLessThanOrEqual(env.rollbacks);
          expect(cfr.of).toBe(env.promotions);
          if (cfr.of === 0) expect(cfr.rate).toBeUndefined();
          else {
            expect(cfr.rate!).toBeGreaterThanOrEqual(0);
            expect(cfr.rate!).toBeLessThanOrEqual(1);
            expect(cfr.rate!).toBeCloseTo(cfr.failed / cfr.of, 12);
          }
          // Every failure is restored or not yet.
          expect(ttr.failures).toBe(cfr.failed);
          expect(ttr.count + ttr.unrestored).toBe(ttr.failures);
          expect(leadTime.count).toBe(f.deployments);
          wellFormed(leadTime);
          wellFormed(ttr);
          expect(f.perDay).toBeGreaterThanOrEqual(0);
          expect(f.perWeek).toBeCloseTo(f.perDay * 7, 9);
          expect(f.perDay).toBeCloseTo(f.deployments / ((window.until - window.since) / 86_400_000), 9);
        }
      }),
      runs,
    );
  });

  it('figures one environment from its own records alone', () => {
    fc.assert(
      fc.property(histories, windows, (records, window) => {
        const together = computeDora(records, window, ENVIRONMENTS);
        for (const [i, name] of ENVIRONMENTS.entries()) {
          const alone = computeDora(records.filter((r) => r.environment === name), window, [name]);
          expect(together.environments[i]).toEqual(alone.environments[0]);
        }
      }),
      runs,
    );
  });

  it('does not depend on the order the records are read in', () => {
    fc.assert(
      fc.property(histories.chain((records) => fc.tuple(fc.constant(records), fc.shuffledSubarray(records, { minLength: records.length, maxLength: records.length }))), windows, ([records, shuffled], window) => {
        expect(computeDora(shuffled, window, ENVIRONMENTS)).toEqual(computeDora(records, window, ENVIRONMENTS));
      }),
      runs,
    );
  });
});
