/**
 * Builds a Slipway worker: workflows from a prebundle when given, the activities handed in, and
 * the worker's policy — read by the policy activities, and enforced on every activity call.
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createPolicyActivities, type PolicyStore } from '../activities/policy/index.js';
import { workflowsSourcePath } from './bundle-code.js';
import { PolicyGuard } from './policy-guard.js';
import { deploymentOptions, workerVersioningFromEnv } from './versioning.js';

export interface SlipwayWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: object;
  /** The pipeline policy this worker owns (its slipway.yaml, from a file or git). */
  policy: PolicyStore;
  /** Path of a prebuilt workflow bundle (dist/workflow-bundle.js); bundles from source when absent. */
  workflowBundlePath?: string;
  /** Extra worker options (concurrency limits, identity...); wins over the limits from the environment. */
  tuning?: Partial<WorkerOptions>;
  /** Where the concurrency limits (SLIPWAY_MAX_CONCURRENT_*) and the worker version (SLIPWAY_WORKER_*, versioning.ts) are read from; process.env by default. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Sized for the shipped manifest's 1 Gi limit: most slots are held by waits (an Argo CD watch, an
 * HTTP check that discards its body), about a megabyte each; the heavy ones spawn git and
 * kustomize (about 60 MB peak for `kustomize build`) beside a worker that takes a few hundred MB
 * itself. Raise it together with the memory limit.
 */
export const DEFAULT_MAX_CONCURRENT_ACTIVITIES = 32;
/** Workflow tasks are short bursts of CPU on cached workflows; this keeps a burst of them from piling up. */
export const DEFAULT_MAX_CONCURRENT_WORKFLOW_TASKS = 16;

export interface WorkerConcurrency {
  maxConcurrentActivityTaskExecutions: number;
  maxConcurrentWorkflowTaskExecutions: number;
}

/**
 * The worker's concurrency limits: SLIPWAY_MAX_CONCURRENT_ACTIVITIES and
 * SLIPWAY_MAX_CONCURRENT_WORKFLOW_TASKS, unset or empty for the defaults. Anything but a positive
 * integer stops the start: a typo must not silently lift the bound the memory limit relies on.
 */
export function workerConcurrencyFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerConcurrency {
  const workflowTasks = positiveInteger(env, 'SLIPWAY_MAX_CONCURRENT_WORKFLOW_TASKS', DEFAULT_MAX_CONCURRENT_WORKFLOW_TASKS);
  // The SDK refuses fewer than 2 workflow task slots while it caches workflows (the default).
  if (workflowTasks < 2) throw new Error(`SLIPWAY_MAX_CONCURRENT_WORKFLOW_TASKS must be at least 2, got "${env.SLIPWAY_MAX_CONCURRENT_WORKFLOW_TASKS}"`);
  return {
    maxConcurrentActivityTaskExecutions: positiveInteger(env, 'SLIPWAY_MAX_CONCURRENT_ACTIVITIES', DEFAULT_MAX_CONCURRENT_ACTIVITIES),
    maxConcurrentWorkflowTaskExecutions: workflowTasks,
  };
}

function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name]?.trim();
  if (text === undefined || text === '') return fallback;
  if (!/^[1-9]\d{0,5}$/.test(text)) throw new Error(`${name} must be a positive integer (at most 999999), got "${env[name]}"`);
  return Number(text);
}

export async function createSlipwayWorker(options: SlipwayWorkerOptions): Promise<Worker> {
  // A malformed limit stops the start before anything connects.
  const concurrency = workerConcurrencyFromEnv(options.env);
  const versioning = workerVersioningFromEnv(options.env);
  // Read before the first task: a broken policy stops the worker at start, and the guard knows it.
  await options.policy.current();
  const guard = new PolicyGuard(() => options.policy.all());
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: { ...options.activities, ...createPolicyActivities(options.policy) },
    interceptors: { activity: [guard.interceptor()] },
    ...(options.workflowBundlePath
      ? { workflowBundle: { codePath: options.workflowBundlePath } }
      : { workflowsPath: workflowsSourcePath() }),
    // Waits heartbeat; give them room to report a cancellation promptly.
    maxHeartbeatThrottleInterval: '2s',
    shutdownGraceTime: '20s',
    ...concurrency,
    // SLIPWAY_WORKER_BUILD_ID makes this worker one version of a worker deployment (versioning.ts).
    ...(versioning ? { workerDeploymentOptions: deploymentOptions(versioning) } : {}),
    ...options.tuning,
  });
}
