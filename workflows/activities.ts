/**
 * Activity stubs with the timeouts and retry policies each kind of step needs. Short steps retry
 * with backoff; long waits heartbeat so a dead worker is noticed within `heartbeatTimeout` and the
 * wait resumes on another one. Failures a retry cannot fix arrive as non-retryable failures.
 */
import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type {
  ArgoActivities,
  BackupActivities,
  BuildActivities,
  CheckActivities,
  ControlActivities,
  GithubActivities,
  GitopsActivities,
  NotificationEvent,
  NotifyActivities,
  PreviewApplicationActivities,
  PreviewWriteActivities,
  PullRequestActivities,
  PullRequestWriteActivities,
} from '../activities/types.js';
import type { CheckConfig, EngineConfig, EnvironmentConfig } from '../config/schema.js';

const RETRY = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' } as const;

/** The limits steps are given: slipway.yaml's `engine` block for releases, the backup workflow's own for backups. */
export type StepLimits = Pick<EngineConfig, 'stepTimeout' | 'heartbeatTimeout'>;

export function shortStepOptions(engine: StepLimits): ActivityOptions {
  return { startToCloseTimeout: engine.stepTimeout, retry: { ...RETRY, maximumAttempts: 10 } };
}

/**
 * Overlay reads and writes: short, but a git remote can stall, so they heartbeat and a worker
 * that dies mid-write is noticed within `heartbeatTimeout` instead of the whole step timeout.
 */
export function gitStepOptions(engine: StepLimits): ActivityOptions {
  return { ...shortStepOptions(engine), heartbeatTimeout: engine.heartbeatTimeout };
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

/**
 * Steps that are long work on the worker itself (a database dump or restore), not a wait on
 * something outside: one attempt may take `attemptMs` and heartbeats, so a dead worker is noticed
 * within `heartbeatTimeout`; only a few attempts, because each one can take hours.
 */
export function longStepOptions(engine: StepLimits, attemptMs: number): ActivityOptions {
  return { startToCloseTimeout: attemptMs, heartbeatTimeout: engine.heartbeatTimeout, retry: { ...RETRY, maximumAttempts: 3 } };
}

/** Steps whose failure changes nothing (notifications, GitHub's deployment view): a few quick tries. */
export function notifyOptions(): ActivityOptions {
  return { startToCloseTimeout: '1m', retry: { ...RETRY, maximumAttempts: 3 } };
}

/** Asking another workflow through Temporal itself: quick, and retried long enough to ride out a Temporal restart. */
export function controlStepOptions(): ActivityOptions {
  return { startToCloseTimeout: '1m', retry: { ...RETRY, maximumAttempts: 20 } };
}

/** Long enough for all of an HTTP check's own attempts; one activity retry covers a worker lost mid-check. */
export function httpCheckOptions(http: Extract<CheckConfig, { http: unknown }>['http']): ActivityOptions {
  return { startToCloseTimeout: http.attempts * (http.timeout + http.interval) + 30_000, retry: { ...RETRY, maximumAttempts: 2 } };
}

/**
 * A metric check asks for its whole `for` in one attempt, heartbeating each round: the attempt
 * covers `for`, one more round and slack; a worker lost mid-check is noticed within
 * `heartbeatTimeout`, and the retry resumes at the round the heartbeats had reached.
 */
export function metricCheckOptions(metric: Extract<CheckConfig, { metric: unknown }>['metric'], engine: StepLimits): ActivityOptions {
  return {
    startToCloseTimeout: metric.for + 2 * metric.interval + 30_000,
    heartbeatTimeout: engine.heartbeatTimeout,
    retry: { ...RETRY, maximumAttempts: 3 },
  };
}

export function stepActivities(engine: StepLimits) {
  return proxyActivities<
    GitopsActivities &
      PullRequestWriteActivities &
      PullRequestActivities &
      PreviewWriteActivities &
      PreviewApplicationActivities &
      ArgoActivities &
      GithubActivities &
      ControlActivities &
      BuildActivities &
      CheckActivities &
      BackupActivities
  >(shortStepOptions(engine));
}

export function waitActivities(engine: EngineConfig, waitMs: number) {
  return proxyActivities<ArgoActivities & GithubActivities & BuildActivities & CheckActivities>(waitStepOptions(engine, waitMs));
}

export function longStepActivities(engine: StepLimits, attemptMs: number) {
  return proxyActivities<BackupActivities>(longStepOptions(engine, attemptMs));
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
