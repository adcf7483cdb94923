/**
 * The verdict of a metric check over its rounds. The check asks Prometheus once per `interval`
 * for `for` (rounds = floor(for / interval), the first one `interval` after the start) and each
 * round ends as a value, no data, or no answer. This decides, round by round, whether to go on,
 * and how the check ended; the activity only asks and sleeps. Pure, no I/O, and its progress is
 * plain JSON so a retried activity attempt resumes from its last heartbeat.
 *
 * - A value that meets the condition is a good round; one that does not is a bad round.
 * - No data (an empty result, or NaN: a ratio over no traffic) follows `noData`: `fail` makes it a
 *   bad round, `pass` a good one, `wait` neither — and a check that saw no value at all by the end
 *   fails for no data.
 * - More than `failuresAllowed` bad rounds fail the check at once.
 * - No answer (Prometheus down, 5xx, no answer in time, after retries within the round) is neither
 *   good nor bad; more than `unavailableAllowed` such rounds in a row fail the check naming
 *   Prometheus, not the app.
 * - After the last round the check passes if it had at least one good round.
 */
import { describeMiss, formatCondition, meets, type Condition } from './metric-condition.js';

export type NoDataPolicy = 'fail' | 'pass' | 'wait';

export type RoundResult = { kind: 'value'; value: number } | { kind: 'no-data' } | { kind: 'unavailable'; reason: string };

export interface VerdictPolicy {
  condition: Condition;
  rounds: number;
  failuresAllowed: number;
  noData: NoDataPolicy;
  unavailableAllowed: number;
}

/** What the rounds so far said. */
export interface MetricProgress {
  /** The last round done (1-based; 0 before the first). */
  round: number;
  good: number;
  bad: number;
  /** Rounds with no data (whatever the policy made of them). */
  noData: number;
  /** Bad rounds that were bad for no data (noData: fail). */
  badNoData: number;
  unavailable: number;
  /** Rounds without an answer since the last answer. */
  unavailableStreak: number;
  lastValue?: number;
  /** The value of the last round that did not meet the condition. */
  lastMiss?: number;
  /** What made the last bad round bad: its value, or no data. */
  lastBad?: 'condition' | 'no-data';
  /** Why the last unanswered round got no answer. */
  lastUnavailable?: string;
}

export type Verdict =
  | { state: 'continue' }
  | { state: 'passed' }
  | { state: 'failed'; why: 'condition' | 'no-data' | 'unavailable' };

export function initialProgress(): MetricProgress {
  return { round: 0, good: 0, bad: 0, noData: 0, badNoData: 0, unavailable: 0, unavailableStreak: 0 };
}

/** How many rounds a check of `forMs` every `intervalMs` has (at least one). */
export function roundsOf(forMs: number, intervalMs: number): number {
  return Math.max(1, Math.floor(forMs / intervalMs));
}

/** The progress after `round` ended with `result`, and what that means for the check. */
export function recordRound(policy: VerdictPolicy, before: MetricProgress, round: number, result: RoundResult): { progress: MetricProgress; verdict: Verdict } {
  const p: MetricProgress = { ...before, round };
  // NaN is what a ratio over no traffic gives: no data, not a bad value.
  const outcome: RoundResult = result.kind === 'value' && Number.isNaN(result.value) ? { kind: 'no-data' } : result;
  if (outcome.kind === 'unavailable') {
    p.unavailable++;
    p.unavailableStreak++;
    p.lastUnavailable = outcome.reason;
    if (p.unavailableStreak > policy.unavailableAllowed) return { progress: p, verdict: { state: 'failed', why: 'unavailable' } };
  } else {
    p.unavailableStreak = 0;
    if (outcome.kind === 'value') {
      p.lastValue = outcome.value;
      if (meets(policy.condition, outcome.value)) p.good++;
      else {
        p.bad++;
        p.lastMiss = outcome.value;
        p.lastBad = 'condition';
      }
    } else {
      p.noData++;
      if (policy.noData === 'pass') p.good++;
      else if (policy.noData === 'fail') {
        p.bad++;
        p.badNoData++;
        p.lastBad = 'no-data';
      }
    }
    if (p.bad > policy.failuresAllowed) {
      return { progress: p, verdict: { state: 'failed', why: p.lastBad ?? 'condition' } };
    }
  }
  if (round < policy.rounds) return { progress: p, verdict: { state: 'continue' } };
  return { progress: p, verdict: finalVerdict(p) };
}

/** The verdict of progress whose last round is done (a resumed attempt finding it so). */
export function verdictOf(policy: VerdictPolicy, p: MetricProgress): Verdict {
  if (p.unavailableStreak > policy.unavailableAllowed) return { state: 'failed', why: 'unavailable' };
  if (p.bad > policy.failuresAllowed) return { state: 'failed', why: p.lastBad ?? 'condition' };
  return finalVerdict(p);
}

/** After the last round, within the limits: passed only if some round was good. */
function finalVerdict(p: MetricProgress): Verdict {
  if (p.good > 0) return { state: 'passed' };
  if (p.lastMiss !== undefined) return { state: 'failed', why: 'condition' };
  if (p.noData > 0) return { state: 'failed', why: 'no-data' };
  return { state: 'failed', why: 'unavailable' };
}

export interface VerdictWords {
  /** What the value is ("error rate"); "value" when the check has no name. */
  name: string;
  /** The query as sent (variables substituted). */
  query: string;
  /** Prometheus' URL as it may be shown (no credentials). */
  prometheus: string;
  noData: NoDataPolicy;
  failuresAllowed: number;
  unavailableAllowed: number;
  rounds: number;
  conditionText?: string;
}

/**
 * Why a check failed, in one line naming the value, the threshold, how many rounds said so and
 * the query: `error rate 0.31 >= 0.01 (wanted < 0.01) in 3 of 6 rounds (0 allowed); query: …`.
 */
export function describeFailedCheck(condition: Condition, progress: MetricProgress, why: 'condition' | 'no-data' | 'unavailable', words: VerdictWords): string {
  const wanted = words.conditionText ?? formatCondition(condition);
  const of = `of ${progress.round} round${progress.round === 1 ? '' : 's'}${progress.round < words.rounds ? ` (${words.rounds} planned)` : ''}`;
  const tail = `; query: ${words.query} at ${words.prometheus}`;
  if (why === 'unavailable') {
    const inARow = progress.unavailableStreak > words.unavailableAllowed;
    return (
      `Prometheus at ${words.prometheus} did not answer ` +
      (inARow ? `in ${progress.unavailableStreak} rounds in a row (${words.unavailableAllowed} allowed)` : `in any of ${progress.round} rounds`) +
      `; last: ${progress.lastUnavailable ?? 'no answer'}; query: ${words.query}`
    );
  }
  const valueBad = progress.bad - progress.badNoData;
  const missed = valueBad > 0 ? `${describeMiss(condition, progress.lastMiss!)} (wanted ${wanted})` : undefined;
  // Within the limit and failed all the same: the check ended without one good round.
  const noneGood = progress.bad <= words.failuresAllowed ? ', and no round met it' : '';
  const allowed = `; ${words.failuresAllowed} failure${words.failuresAllowed === 1 ? '' : 's'} allowed${noneGood}`;
  if (why === 'condition') {
    const alsoNoData = progress.badNoData > 0 ? `, no data in ${progress.badNoData}` : '';
    return `${words.name} ${missed} in ${valueBad} ${of}${alsoNoData}${allowed}${tail}`;
  }
  if (words.noData === 'fail') {
    const alsoMissed = missed ? `, ${missed} in ${valueBad}` : '';
    return `${words.name}: no data in ${progress.badNoData} ${of} (noData: fail)${alsoMissed}${allowed}${tail}`;
  }
  return `${words.name}: no data in any ${of} (noData: ${words.noData})${tail}`;
}
