/**
 * An HTTP probe: GET the URL until it answers with the expected status, up to `attempts` times,
 * `intervalMs` apart, each attempt bounded by `timeoutMs`. Redirects are not followed, so a check
 * for 301 sees the 301; the response body is discarded unread. After the last attempt: a
 * non-retryable CheckFailed saying what it got.
 *
 * Credentials in the URL (slipway.yaml refuses them; an input may still carry them) are sent as a
 * Basic Authorization header, as curl does, and never shown: the failure names the URL with its
 * userinfo and credential-named query values replaced by `***` (core/redact-url.ts).
 */
import { ApplicationFailure } from '@temporalio/common';
import { redactUrl, urlSecrets, urlUserinfo, withoutUserinfo } from '../../core/redact-url.js';
import { redactSecretShapes, redactValues } from '../../core/secret-shapes.js';
import { heartbeat, sleep } from '../activity-context.js';
import { FailureType, type HttpCheckInput } from '../types.js';

export async function httpCheck(input: HttpCheckInput): Promise<{ status: number; attempts: number }> {
  const attempts = Math.max(1, input.attempts);
  const userinfo = urlUserinfo(input.url);
  const target = withoutUserinfo(input.url);
  const headers: Record<string, string> = { 'user-agent': 'slipway-check' };
  if (userinfo) headers.authorization = `Basic ${Buffer.from(`${userinfo.user}:${userinfo.password ?? ''}`).toString('base64')}`;
  // Whatever fetch says about the URL (its errors quote it) passes through this.
  const secrets = urlSecrets(input.url);
  const hide = (text: string) => redactSecretShapes(redactValues(text, secrets));
  let last = 'no attempt made';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    heartbeat({ attempt });
    try {
      const response = await fetch(target, { method: 'GET', redirect: 'manual', signal: AbortSignal.timeout(input.timeoutMs), headers });
      // The status is the answer; the body is never read. Cancelling it closes the connection at
      // once, so a huge or endless body costs the worker (shared by every app) nothing, where
      // reading it whole would hold it in memory several times over. A check that ever matches on
      // the body is to read a bounded prefix, never the whole.
      await response.body?.cancel().catch(() => undefined);
      if (response.status === input.expectStatus) return { status: response.status, attempts: attempt };
      last = `status ${response.status}`;
    } catch (err) {
      last = hide(describeError(err, input.timeoutMs));
    }
    if (attempt < attempts) await sleep(input.intervalMs);
  }
  throw ApplicationFailure.create({
    message: `GET ${redactUrl(input.url)} did not answer ${input.expectStatus} in ${attempts} attempt${attempts === 1 ? '' : 's'}; last: ${last}`,
    type: FailureType.CheckFailed,
    nonRetryable: true,
  });
}

function describeError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `no answer within ${timeoutMs}ms`;
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err instanceof Error ? err.message : String(err)}${cause}`;
}
