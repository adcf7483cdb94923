/**
 * How a metric check's rounds become its verdict, as plain code: failures tolerated, each noData
 * policy, Prometheus without an answer, and the failure's words. Example-based, and property-based
 * (fast-check) over arbitrary sequences of rounds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conditionOf } from '../../core/metric-condition.js';
import {
  describeFailedCheck,
  initialProgress,
  recordRound,
  roundsOf,
  verdictOf,
  type MetricProgress,
  type NoDataPolicy,
  type RoundResult,
  type Verdict,
  type VerdictPolicy,
} from '../../core/metric-verdict.js';

const value = (v: number): RoundResult => ({ kind: 'value', value: v });
const NO_DATA: RoundResult = { kind: 'no-data' };
const DOWN: RoundResult = { kind: 'unavailable', reason: 'connect ECONNREFUSED 127.0.0.1:9090' };

function policy(over: Partial<VerdictPolicy> = {}): VerdictPolicy {
  return { condition: conditionOf('< 0.01'), rounds: 5, failuresAllowed: 0, noData: 'fail', unavailableAllowed: 2, ...over };
}

/** Runs the rounds until the verdict is not "continue"; returns it, the progress and the round it came at. */
function run(p: VerdictPolicy, results: RoundResult[]): { verdict: Verdict; progress: MetricProgress; at: number } {
  let progress = initialProgress();
  for (let i = 0; i < results.length; i++) {
    const r = recordRound(p, progress, i + 1, results[i]!);
    progress = r.progress;
    if (r.verdict.state !== 'continue') return { verdict: r.verdict, progress, at: i + 1 };
  }
  return { verdict: { state: 'continue' }, progress, at: results.length };
}

const WORDS = { name: 'error rate', query: 'sum(rate(errors[1m]))', prometheus: 'http://127.0.0.1:9090', failuresAllowed: 0, unavailableAllowed: 2, rounds: 5 };

describe('metric check verdict', () => {
  it('has floor(for / interval) rounds', () => {
    expect(roundsOf(60_000, 10_000)).toBe(6);
    expect(roundsOf(5_500, 1_000)).toBe(5);
    expect(roundsOf(1_000, 1_000)).toBe(1);
  });

  it('passes after the last round when every value meets the condition, not before', () => {
    const p = policy();
    expect(run(p, [value(0), value(0.001), value(0.002), value(0.003)]).verdict).toEqual({ state: 'continue' });
    expect(run(p, [value(0), value(0.001), value(0.002), value(0.003), value(0.009)])).toMatchObject({ verdict: { state: 'passed' }, at: 5 });
  });

  it('fails at the first bad round beyond failuresAllowed, without waiting for the rest', () => {
    expect(run(policy(), [value(0), value(0.31)])).toMatchObject({ verdict: { state: 'failed', why: 'condition' }, at: 2, progress: { lastMiss: 0.31, bad: 1 } });
    const tolerant = policy({ failuresAllowed: 2 });
    expect(run(tolerant, [value(0.5), value(0), value(0.5), value(0), value(0)]).verdict).toEqual({ state: 'passed' });
    expect(run(tolerant, [value(0.5), value(0.5), value(0), value(0.5)])).toMatchObject({ verdict: { state: 'failed', why: 'condition' }, at: 4 });
  });

  it('follows noData: fail makes it a bad round, pass a good one, wait neither until the end', () => {
    expect(run(policy({ noData: 'fail' }), [NO_DATA])).toMatchObject({ verdict: { state: 'failed', why: 'no-data' }, at: 1 });
    expect(run(policy({ noData: 'pass' }), Array(5).fill(NO_DATA)).verdict).toEqual({ state: 'passed' });
    expect(run(policy({ noData: 'wait' }), Array(5).fill(NO_DATA))).toMatchObject({ verdict: { state: 'failed', why: 'no-data' }, at: 5 });
    // Data that arrives late is judged as it comes.
    expect(run(policy({ noData: 'wait' }), [NO_DATA, NO_DATA, NO_DATA, value(0), value(0)]).verdict).toEqual({ state: 'passed' });
    expect(run(policy({ noData: 'wait' }), [NO_DATA, NO_DATA, value(0.2)])).toMatchObject({ verdict: { state: 'failed', why: 'condition' }, at: 3 });
  });

  it('takes NaN (a ratio over no traffic) for no data, and the infinities for values', () => {
    expect(run(policy({ noData: 'pass' }), Array(5).fill(value(NaN))).verdict).toEqual({ state: 'passed' });
    expect(run(policy(), [value(NaN)]).verdict).toEqual({ state: 'failed', why: 'no-data' });
    expect(run(policy(), [value(Infinity)]).verdict).toEqual({ state: 'failed', why: 'condition' });
  });

  it('tolerates unavailableAllowed rounds in a row without an answer, fails on the next, and a single answer resets the count', () => {
    expect(run(policy({ rounds: 6 }), [DOWN, DOWN, value(0), DOWN, DOWN]).verdict).toEqual({ state: 'continue' });
    expect(run(policy({ rounds: 6 }), [DOWN, DOWN, value(0), DOWN, DOWN, value(0)]).verdict).toEqual({ state: 'passed' });
    expect(run(policy(), [value(0), DOWN, DOWN, DOWN])).toMatchObject({ verdict: { state: 'failed', why: 'unavailable' }, at: 4, progress: { unavailableStreak: 3 } });
    // Never an answer within the allowance: nothing was checked, so it did not pass.
    expect(run(policy({ rounds: 2 }), [DOWN, DOWN])).toMatchObject({ verdict: { state: 'failed', why: 'unavailable' }, at: 2 });
  });

  it('fails a check that ends without one good round even within its allowance', () => {
    expect(run(policy({ rounds: 2, failuresAllowed: 1, noData: 'wait' }), [value(0.5), NO_DATA]).verdict).toEqual({ state: 'failed', why: 'condition' });
  });

  it('judges again, from its heartbeated progress, a check whose last round was done (a resumed attempt)', () => {
    const p = policy({ rounds: 2, failuresAllowed: 1 });
    const { progress } = run(p, [value(0.5), value(0)]);
    expect(verdictOf(p, progress)).toEqual({ state: 'passed' });
    expect(verdictOf(p, JSON.parse(JSON.stringify(run(p, [value(0.5), value(0.5)]).progress)) as MetricProgress)).toEqual({ state: 'failed', why: 'condition' });
  });

  it('over any rounds: never passes before the last, never passes with more bad rounds than allowed, and always decides at the last', () => {
    const round = fc.oneof(fc.double().map(value), fc.constant(NO_DATA), fc.constant(DOWN));
    const policies = fc.record({
      rounds: fc.integer({ min: 1, max: 12 }),
      failuresAllowed: fc.integer({ min: 0, max: 4 }),
      unavailableAllowed: fc.integer({ min: 0, max: 4 }),
      noData: fc.constantFrom<NoDataPolicy>('fail', 'pass', 'wait'),
      condition: fc.constantFrom('< 0.01', '> 0.99', 'between 0.2 and 0.8').map(conditionOf),
    });
    fc.assert(
      fc.property(policies, fc.array(round, { minLength: 12, maxLength: 12 }), (p, results) => {
        const { verdict, progress, at } = run(p, results.slice(0, p.rounds));
        expect(verdict.state).not.toBe('continue');
        if (verdict.state === 'passed') {
          expect(at).toBe(p.rounds);
          expect(progress.bad).toBeLessThanOrEqual(p.failuresAllowed);
          expect(progress.good).toBeGreaterThan(0);
        }
        // The rounds counted add up to the rounds run.
        const neither = p.noData === 'wait' ? progress.noData : 0;
        expect(progress.good + progress.bad + progress.unavailable + neither).toBe(at);
        // Progress survives JSON (heartbeat details) and is judged the same after.
        if (at === p.rounds) expect(verdictOf(p, JSON.parse(JSON.stringify(progress)) as MetricProgress)).toEqual(verdict);
      }),
    );
  });

  describe('in words', () => {
    it('names the value, the threshold, the rounds and the query', () => {
      const { verdict, progress } = run(policy(), [value(0), value(0.3125)]);
      expect(verdict).toEqual({ state: 'failed', why: 'condition' });
      expect(describeFailedCheck(conditionOf('< 0.01'), progress, 'condition', { ...WORDS, noData: 'fail' })).toBe(
        'error rate 0.3125 >= 0.01 (wanted < 0.01) in 1 of 2 rounds (5 planned); 0 failures allowed; query: sum(rate(errors[1m])) at http://127.0.0.1:9090',
      );
    });

    it('says no data, with the policy, and counts bad values beside it', () => {
      const p = policy({ failuresAllowed: 1 });
      const { progress } = run(p, [value(0.5), NO_DATA]);
      expect(describeFailedCheck(p.condition, progress, 'no-data', { ...WORDS, failuresAllowed: 1, noData: 'fail' })).toBe(
        'error rate: no data in 1 of 2 rounds (5 planned) (noData: fail), 0.5 >= 0.01 (wanted < 0.01) in 1; 1 failure allowed; query: sum(rate(errors[1m])) at http://127.0.0.1:9090',
      );
      const waited = run(policy({ noData: 'wait' }), Array(5).fill(NO_DATA)).progress;
      expect(describeFailedCheck(p.condition, waited, 'no-data', { ...WORDS, noData: 'wait' })).toBe(
        'error rate: no data in any of 5 rounds (noData: wait); query: sum(rate(errors[1m])) at http://127.0.0.1:9090',
      );
    });

    it('names Prometheus and why it did not answer when it stays down', () => {
      const { progress } = run(policy(), [value(0), DOWN, DOWN, DOWN]);
      expect(describeFailedCheck(conditionOf('< 0.01'), progress, 'unavailable', { ...WORDS, noData: 'fail' })).toBe(
        'Prometheus at http://127.0.0.1:9090 did not answer in 3 rounds in a row (2 allowed); last: connect ECONNREFUSED 127.0.0.1:9090; query: sum(rate(errors[1m]))',
      );
    });
  });
});
