/**
 * Turning Kubernetes API errors about an Application into Slipway's failures: a missing
 * Application and a refused request are things a retry cannot fix, so they are non-retryable
 * with a message naming namespace/application; anything else (server down, timeouts) stays an
 * ordinary, retryable error.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, type ArgoApplicationRef } from '../types.js';

export function statusCode(err: unknown): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e?.code === 'number') return e.code;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  return undefined;
}

function serverMessage(err: unknown): string | undefined {
  const body = (err as { body?: unknown })?.body;
  if (typeof body === 'string') {
    try {
      return (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      return body || undefined;
    }
  }
  return (body as { message?: string } | undefined)?.message;
}

export function describeRef(ref: ArgoApplicationRef): string {
  return `Argo CD Application ${ref.namespace}/${ref.application}`;
}

function statusBody(err: unknown): { details?: { name?: string } } | undefined {
  const body = (err as { body?: unknown })?.body;
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as { details?: { name?: string } };
    } catch {
      return undefined;
    }
  }
  return body as { details?: { name?: string } } | undefined;
}

/**
 * A 404 about the Application itself (the Status names it). A 404 without a name means the
 * applications.argoproj.io API is not served at this moment — e.g. an API server that is still
 * loading its CRDs after a restart — which is worth retrying.
 */
export function isMissingObject(err: unknown): boolean {
  return statusCode(err) === 404 && Boolean(statusBody(err)?.details?.name);
}

export function isRefused(err: unknown): boolean {
  const code = statusCode(err);
  return code === 401 || code === 403;
}

/** The non-retryable failure for a missing Application or a refused request, or undefined for errors worth retrying. */
export function permanentFailure(err: unknown, ref: ArgoApplicationRef): ApplicationFailure | undefined {
  if (isMissingObject(err)) {
    return ApplicationFailure.nonRetryable(`${describeRef(ref)} does not exist`, FailureType.ApplicationNotFound);
  }
  if (isRefused(err)) {
    const why = serverMessage(err);
    return ApplicationFailure.nonRetryable(
      `the Kubernetes API refused access to ${describeRef(ref)}${why ? `: ${why}` : ''}`,
      FailureType.Forbidden,
    );
  }
  return undefined;
}

/** Rethrows a 404/403 as its failure, anything else as an error naming the Application. */
export function toActivityError(err: unknown, ref: ArgoApplicationRef, doing: string): Error {
  const permanent = permanentFailure(err, ref);
  if (permanent) return permanent;
  const code = statusCode(err);
  if (code === 404) return new Error(`the Argo CD Application API (applications.argoproj.io) is not served by the Kubernetes API server (yet?) for ${describeRef(ref)}`);
  const why = serverMessage(err) ?? (err as Error)?.message ?? String(err);
  return new Error(`${doing} ${describeRef(ref)} failed${code ? ` (HTTP ${code})` : ''}: ${why}`);
}

/**
 * An Application whose deletion was asked for is as good as gone: with Argo CD's resources
 * finalizer it lingers while its resources are deleted, and what it reports meanwhile (even
 * Healthy) is not a deployment that will stay.
 */
export function deletionFailure(app: { metadata: { deletionTimestamp?: string } }, ref: ArgoApplicationRef): ApplicationFailure | undefined {
  const since = app.metadata.deletionTimestamp;
  if (!since) return undefined;
  return ApplicationFailure.nonRetryable(`${describeRef(ref)} is being deleted (since ${since})`, FailureType.ApplicationNotFound);
}
