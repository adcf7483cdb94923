/**
 * An HTTP probe: GET the URL until it answers with the expected status, up to `attempts` times,
 * `intervalMs` apart, each attempt bounded by `timeoutMs`. Redirects are not followed, so a check
 * for 301 sees the 301. After the last attempt: a non-retryable CheckFailed saying what it got.
 */
import { ApplicationFailure } from '@temporalio/common';
import { heartbeat, sleep } from '../activity-context.js';
import { FailureType, type HttpCheckInput } from '../types.js';

export async function httpCheck(input: HttpCheckInput): Promise<{ status: number; attempts: number }> {
  const attempts = Math.max(1, input.attempts);
  let last = 'no attempt made';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    heartbeat({ attempt });
    try {
      const response = await fetch(input.url, {
        method: 'GET',
        redirect: 'manual',
        signal: AbortSignal.timeout(input.timeoutMs),
        headers: { 'user-agent': 'slipway-check' },
      });
      // Drain the body so the connection is released.
      await response.arrayBuffer().catch(() => undefined);
      if (response.status === input.expectStatus) return { status: response.status, attempts: attempt };
      last = `status ${response.status}`;
    } catch (err) {
      last = describeError(err, input.timeoutMs);
    }
    if (attempt < attempts) await sleep(input.intervalMs);
  }
  throw ApplicationFailure.create({
    message: `GET ${safeUrl(input.url)} did not answer ${input.expectStatus} in ${attempts} attempt${attempts === 1 ? '' : 's'}; last: ${last}`,
    type: FailureType.CheckFailed,
    nonRetryable: true,
  });
}

function describeError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `no answer within ${timeoutMs}ms`;
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err instanceof Error ? err.message : String(err)}${cause}`;
}

/** The URL without userinfo or query, which may carry credentials. */
function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    if (u.search) u.search = '?…';
    return u.toString();
  } catch {
    return url;
  }
}
