/**
 * Turning GitHub API errors into the ApplicationFailures workflows rely on. The token is scrubbed
 * from every message, and no cause is attached, so nothing unredacted reaches workflow history.
 */
import { RequestError } from '@octokit/request-error';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../types.js';

/** Statuses a retry cannot fix: bad token, no permission, a request GitHub rejects as invalid. */
const NON_RETRYABLE_STATUSES = new Set([400, 401, 403, 404, 410, 422]);

export function scrub(text: string, secret: string | undefined): string {
  if (!secret || secret.length < 4) return text;
  return text.split(secret).join('***');
}

export function githubFailure(message: string, nonRetryable = true): ApplicationFailure {
  return ApplicationFailure.create({ message, type: FailureType.GitHubRequestFailed, nonRetryable });
}

/** `where` says what Slipway was doing (`create tag v1.2.0 in org/app`). */
export function toGithubFailure(err: unknown, where: string, token: string | undefined): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  if (timedOut(err)) {
    // The request's own deadline (AbortSignal.timeout) passed: GitHub may answer the next one.
    return ApplicationFailure.create({ message: scrub(`${where}: GitHub did not answer in time`, token), type: 'GitHubUnavailable', nonRetryable: false });
  }
  if (err instanceof RequestError) {
    const data = err.response?.data as { message?: string } | undefined;
    const detail = data?.message ?? err.message;
    const text = scrub(`${where}: GitHub answered ${err.status}: ${detail}`, token);
    return githubFailure(text, NON_RETRYABLE_STATUSES.has(err.status));
  }
  // Network errors and the like: worth retrying.
  const text = scrub(`${where}: ${err instanceof Error ? err.message : String(err)}`, token);
  return ApplicationFailure.create({ message: text, type: 'GitHubUnavailable', nonRetryable: false });
}

/** A request ended by its deadline; Octokit wraps the fetch's TimeoutError as a RequestError with it as the cause. */
function timedOut(err: unknown): boolean {
  const name = (e: unknown) => (e instanceof Error ? e.name : undefined);
  return name(err) === 'TimeoutError' || (err instanceof Error && name(err.cause) === 'TimeoutError');
}

export const isStatus = (err: unknown, status: number): boolean => err instanceof RequestError && err.status === status;
