/**
 * Activity stubs with the timeouts and retry policies each kind of step needs. Short steps retry
 * with backoff; long waits heartbeat so a dead worker is noticed within `heartbeatTimeout` and the
 * wait resumes on another one. Failures a retry cannot fix arrive as non-retryable failures.
 */
import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type {
  ArgoActivities,
  BuildActivities,
  CheckActivities,
  ControlActivities,
  GithubActivities,
  GitopsActivities,
  NotificationEvent,
  NotifyActivities,
} from '../activities/types.js';
import type { EngineConfig, EnvironmentConfig } from '../config/schema.js';

const RETRY = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' } as const;

export function shortStepOptions(engine: EngineConfig): ActivityOptions {
  return { startToCloseTimeout: engine.stepTimeout, retry: { ...RETRY, maximumAttempts: 10 } };
}

/** Steps that wait on something outside (Argo CD, a build): heartbeat, and bound the whole wait. */
export function waitStepOptions(engine: EngineConfig, waitMs: number): ActivityOptions {
  return {
    startToCloseTimeout: waitMs + 60_000,
    scheduleToCloseTimeout: waitMs * 2 + 5 * 60_000,
    heartbeatTimeout: engine.heartbeatTimeout,
    retry: { ...RETRY, maximumAttempts: 20 },
  };
}

export function notifyOptions(): ActivityOptions {
  return { startToCloseTimeout: '1m', retry: { ...RETRY, maximumAttempts: 3 } };
}

export function stepActivities(engine: EngineConfig) {
  return proxyActivities<GitopsActivities & ArgoActivities & GithubActivities & ControlActivities & BuildActivities & CheckActivities>(
    shortStepOptions(engine),
  );
}

export function waitActivities(engine: EngineConfig, waitMs: number) {
  return proxyActivities<ArgoActivities & GithubActivities & BuildActivities & CheckActivities>(waitStepOptions(engine, waitMs));
}

/**
 * Tells people through the environment's channels. A notification that cannot be delivered never
 * changes the outcome of what it reports, so failures end here.
 */
export async function notifyQuietly(notify: EnvironmentConfig['notify'], event: NotificationEvent, summary: string): Promise<void> {
  try {
    await proxyActivities<NotifyActivities>(notifyOptions()).notify.executeWithOptions({ ...notifyOptions(), summary }, [
      { channels: Array.isArray(notify) ? notify : [notify], event },
    ]);
  } catch {
    /* delivery problems are the notify activity's to log */
  }
}
