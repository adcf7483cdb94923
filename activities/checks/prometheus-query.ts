/**
 * One instant query through Prometheus' HTTP API (`POST <base>/api/v1/query`, form-encoded so a
 * long query fits), bounded by its own deadline, and what its answer means for a metric check:
 * one value, or no data. An answer that a retry may change (no connection, 5xx, 429, too slow, a
 * body that is not the API's) is a `PrometheusUnanswered`; one it cannot change (the query
 * refused, several series, credentials refused, no API at that URL) is a non-retryable failure.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../types.js';

/** The answer's size bound: one sample is a few hundred bytes; more is a query returning many series. */
export const MAX_ANSWER_BYTES = 1 << 20;

export interface QueryRequest {
  /** Prometheus' base URL (the API is under /api/v1). */
  prometheus: string;
  /** As shown in messages (no credentials). */
  shownUrl: string;
  query: string;
  token?: string;
  timeoutMs: number;
  /** Ends the request early (the activity was cancelled). */
  signal?: AbortSignal;
}

export type QueryAnswer = { kind: 'value'; value: number } | { kind: 'no-data' };

/** No answer this time; asking again may get one. */
export class PrometheusUnanswered extends Error {
  override name = 'PrometheusUnanswered';
}

interface ApiBody {
  status?: string;
  errorType?: string;
  error?: string;
  data?: { resultType?: string; result?: unknown };
}

export async function queryOnce(request: QueryRequest): Promise<QueryAnswer> {
  const endpoint = `${request.prometheus.replace(/\/+$/, '')}/api/v1/query`;
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
    'user-agent': 'slipway-metric-check',
  };
  if (request.token) headers.authorization = `Bearer ${request.token}`;
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;
  let status: number;
  let text: string;
  try {
    const response = await fetch(endpoint, { method: 'POST', headers, body: new URLSearchParams({ query: request.query }), signal, redirect: 'manual' });
    status = response.status;
    text = await readBounded(response, MAX_ANSWER_BYTES, request.query);
  } catch (err) {
    if (err instanceof ApplicationFailure) throw err;
    if (request.signal?.aborted) throw request.signal.reason;
    throw new PrometheusUnanswered(describeFetchError(err, request.timeoutMs));
  }
  const body = parseBody(text);
  const said = body?.error ? `: ${body.errorType ? `${body.errorType}: ` : ''}${body.error}` : '';
  if (status >= 500 || status === 429) throw new PrometheusUnanswered(`answered ${status}${said}`);
  if (status === 400 || status === 422) {
    throw ApplicationFailure.create({
      message: `Prometheus at ${request.shownUrl} refused the query${said || ` (${status})`}; query: ${request.query}`,
      type: FailureType.MetricQueryInvalid,
      nonRetryable: true,
    });
  }
  if (status === 401 || status === 403) {
    throw ApplicationFailure.create({
      message: `Prometheus at ${request.shownUrl} refused the request (${status})${request.token ? ': check the token variable of this check' : ': it may need a token (tokenFromEnv)'}`,
      type: FailureType.PrometheusUnavailable,
      nonRetryable: true,
    });
  }
  if (status !== 200) {
    throw ApplicationFailure.create({
      message: `Prometheus at ${request.shownUrl} answered ${status} at /api/v1/query: is ${request.shownUrl} Prometheus' base URL?`,
      type: FailureType.PrometheusUnavailable,
      nonRetryable: true,
    });
  }
  if (body?.status !== 'success' || !body.data) throw new PrometheusUnanswered('answered 200 with something that is not a Prometheus API answer');
  return answerOf(body.data, request.query);
}

/** One value from the result, no data, or a failure naming the query when it is not one value. */
export function answerOf(data: NonNullable<ApiBody['data']>, query: string): QueryAnswer {
  const { resultType, result } = data;
  if (resultType === 'scalar' && Array.isArray(result)) return { kind: 'value', value: sampleValue(result[1]) };
  if (resultType === 'vector' && Array.isArray(result)) {
    if (result.length === 0) return { kind: 'no-data' };
    if (result.length === 1) return { kind: 'value', value: sampleValue((result[0] as { value?: unknown[] }).value?.[1]) };
    const shown = result
      .slice(0, 3)
      .map((s) => labelsOf((s as { metric?: Record<string, string> }).metric ?? {}))
      .join(', ');
    throw ApplicationFailure.create({
      message: `the query returned ${result.length} series (${shown}${result.length > 3 ? ', …' : ''}); a metric check needs one value: aggregate it, e.g. sum(…) or max(…); query: ${query}`,
      type: FailureType.MetricQueryInvalid,
      nonRetryable: true,
    });
  }
  throw ApplicationFailure.create({
    message: `the query returned a ${resultType === 'matrix' ? 'range vector' : String(resultType)}; a metric check needs one value (an instant vector of one series, or a scalar); query: ${query}`,
    type: FailureType.MetricQueryInvalid,
    nonRetryable: true,
  });
}

/** Prometheus writes sample values as strings: "0.25", "NaN", "+Inf", "-Inf". */
function sampleValue(raw: unknown): number {
  if (raw === '+Inf' || raw === 'Inf') return Infinity;
  if (raw === '-Inf') return -Infinity;
  return typeof raw === 'string' ? Number(raw) : NaN;
}

function labelsOf(metric: Record<string, string>): string {
  return `{${Object.entries(metric)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ')}}`;
}

function parseBody(text: string): ApiBody | undefined {
  try {
    const body = JSON.parse(text) as unknown;
    return body && typeof body === 'object' ? (body as ApiBody) : undefined;
  } catch {
    return undefined;
  }
}

/** The body as text, refusing more than `max` bytes (a query returning thousands of series). */
async function readBounded(response: Response, max: number, query: string): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw ApplicationFailure.create({
        message: `the answer is over ${max >> 20} MiB: the query returns far more than one value; a metric check needs one (aggregate it); query: ${query}`,
        type: FailureType.MetricQueryInvalid,
        nonRetryable: true,
      });
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `no answer within ${timeoutMs}ms`;
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : '';
  return cause || (err instanceof Error ? err.message : String(err));
}
