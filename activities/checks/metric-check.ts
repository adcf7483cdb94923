/**
 * A metric check: the query (with the release's variables) asked of Prometheus once per interval
 * for `for`, each round's answer judged by core/metric-verdict.ts. Each request has its own
 * deadline and is retried within its round; every round's progress is heartbeated, so an attempt
 * retried after a lost worker resumes at the round it had reached, on the same schedule, instead
 * of starting the window again. A check that fails is a non-retryable MetricCheckFailed naming the
 * value, the threshold and the query; a Prometheus that stays down, PrometheusUnavailable naming
 * its URL; a query that cannot give one value, MetricQueryInvalid. Nothing here shows the token.
 */
import { ApplicationFailure } from '@temporalio/common';
import { conditionOf } from '../../core/metric-condition.js';
import { describeFailedCheck, initialProgress, recordRound, roundsOf, verdictOf, type MetricProgress, type RoundResult, type Verdict, type VerdictPolicy } from '../../core/metric-verdict.js';
import { parseTemplate, renderTemplate } from '../../core/promql-template.js';
import { redactUrl } from '../../core/redact-url.js';
import { redactValues } from '../../core/secret-shapes.js';
import { currentActivity, heartbeat, sleep } from '../activity-context.js';
import { FailureType, type MetricCheckInput, type MetricCheckResult } from '../types.js';
import { PrometheusUnanswered, queryOnce } from './prometheus-query.js';

/** What each heartbeat carries: enough for a retried attempt to go on where this one was. */
export interface MetricCheckHeartbeat {
  startedAtMs: number;
  query: string;
  rounds: number;
  progress: MetricProgress;
}

/** Pauses between tries within a round: short, since a round lasts one interval. */
const RETRY_PAUSE_MS = { first: 200, max: 1000 };
/** A try is not started with less time than this left in its round. */
const MIN_TRY_MS = 50;

export async function metricCheck(input: MetricCheckInput): Promise<MetricCheckResult> {
  const name = input.name ?? 'value';
  const shownUrl = redactUrl(input.prometheus);
  const template = parseTemplate(input.query);
  if ('problems' in template) throw invalidInput(`the metric query is not usable: ${template.problems.join('; ')}`);
  let condition;
  try {
    condition = conditionOf(input.condition);
  } catch (err) {
    throw invalidInput(`the metric condition is not usable: ${(err as Error).message}`);
  }
  const rendered = renderTemplate(template.parts, input.variables);
  if ('missing' in rendered) {
    // A comparison with the previous build, in an environment Slipway has deployed nothing to before.
    const why = `the query uses ${rendered.missing.map((v) => `{{${v}}}`).join(', ')} and no earlier build of this environment is known`;
    if (input.noData === 'pass') return { query: input.query, rounds: 0, good: 0, bad: 0, noData: 0, unavailable: 0, skipped: why };
    throw ApplicationFailure.create({ message: `${name}: no data — ${why} (noData: ${input.noData}); query: ${input.query}`, type: FailureType.MetricCheckFailed, nonRetryable: true });
  }
  const query = rendered.query;
  const token = input.tokenFromEnv ? process.env[input.tokenFromEnv] : undefined;
  if (input.tokenFromEnv && !token) throw invalidInput(`the environment variable ${input.tokenFromEnv} (the Prometheus token of this check) is not set on the worker`);
  const hide = (text: string) => (token ? redactValues(text, [token]) : text);

  const rounds = roundsOf(input.forMs, input.intervalMs);
  const policy: VerdictPolicy = { condition, rounds, failuresAllowed: input.failuresAllowed, noData: input.noData, unavailableAllowed: input.unavailableAllowed };
  const activity = currentActivity();
  const resumed = resumeFrom(activity?.info.heartbeatDetails, query);
  const startedAtMs = resumed?.startedAtMs ?? Date.now();
  let progress = resumed?.progress ?? initialProgress();
  const details = (): MetricCheckHeartbeat => ({ startedAtMs, query, rounds, progress });
  heartbeat(details());
  // Between rounds too (a round may wait on a slow answer), well inside the heartbeat timeout.
  const beatEveryMs = Math.max(200, Math.min(5000, (activity?.info.heartbeatTimeoutMs || 15_000) / 3));
  const ticker = activity ? setInterval(() => heartbeat(details()), beatEveryMs) : undefined;

  const askRound = async (deadline: number): Promise<RoundResult> => {
    let last = 'no answer';
    let pause = RETRY_PAUSE_MS.first;
    for (;;) {
      const left = deadline - Date.now();
      if (left < MIN_TRY_MS) return { kind: 'unavailable', reason: last };
      try {
        return await queryOnce({ prometheus: input.prometheus, shownUrl, query, token, timeoutMs: Math.min(input.timeoutMs, left), signal: activity?.cancellationSignal });
      } catch (err) {
        if (!(err instanceof PrometheusUnanswered)) throw err instanceof ApplicationFailure ? hidden(err, hide) : err;
        last = hide(err.message);
      }
      const wait = Math.min(pause, deadline - Date.now() - MIN_TRY_MS);
      if (wait <= 0) return { kind: 'unavailable', reason: last };
      await sleep(wait);
      pause = Math.min(pause * 2, RETRY_PAUSE_MS.max);
    }
  };

  const end = (verdict: Verdict): MetricCheckResult => {
    if (verdict.state === 'failed') {
      const message = describeFailedCheck(condition, progress, verdict.why, {
        name,
        query,
        prometheus: shownUrl,
        noData: input.noData,
        failuresAllowed: input.failuresAllowed,
        unavailableAllowed: input.unavailableAllowed,
        rounds,
        conditionText: input.condition.trim(),
      });
      throw ApplicationFailure.create({
        message: hide(message),
        type: verdict.why === 'unavailable' ? FailureType.PrometheusUnavailable : FailureType.MetricCheckFailed,
        nonRetryable: true,
        details: [{ query, condition: input.condition, value: progress.lastMiss ?? null, progress }],
      });
    }
    const { good, bad, noData, unavailable, lastValue } = progress;
    return { query, rounds: progress.round, good, bad, noData, unavailable, ...(lastValue !== undefined ? { lastValue } : {}) };
  };

  try {
    // A previous attempt that judged its last round and was lost before it could say so.
    if (progress.round >= rounds) return end(verdictOf(policy, progress));
    // Rounds whose time passed while no attempt ran (a lost worker) are not made up; the last always runs.
    const behind = Math.floor((Date.now() - startedAtMs) / input.intervalMs);
    for (let round = Math.max(progress.round + 1, Math.min(rounds, behind)); round <= rounds; round++) {
      const due = startedAtMs + round * input.intervalMs;
      await sleep(Math.max(0, due - Date.now()));
      const result = await askRound(Math.max(due, Date.now()) + input.intervalMs);
      const recorded = recordRound(policy, progress, round, result);
      progress = recorded.progress;
      heartbeat(details());
      if (recorded.verdict.state !== 'continue') return end(recorded.verdict);
    }
    return end(verdictOf(policy, progress));
  } finally {
    if (ticker) clearInterval(ticker);
  }
}

/** The progress a previous attempt heartbeated, when it was for this same query. */
function resumeFrom(details: unknown, query: string): MetricCheckHeartbeat | undefined {
  const d = details as Partial<MetricCheckHeartbeat> | undefined;
  if (!d || typeof d !== 'object' || d.query !== query || typeof d.startedAtMs !== 'number' || !d.progress || typeof d.progress.round !== 'number') return undefined;
  return d as MetricCheckHeartbeat;
}

function invalidInput(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: FailureType.InvalidConfig, nonRetryable: true });
}

/** The same failure with the token's value out of its message. */
function hidden(err: ApplicationFailure, hide: (text: string) => string): ApplicationFailure {
  const message = hide(err.message);
  return message === err.message ? err : ApplicationFailure.create({ message, type: err.type ?? undefined, nonRetryable: err.nonRetryable ?? undefined });
}
