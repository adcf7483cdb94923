/**
 * Upgrading Slipway while releases are in flight, with Temporal's Worker Versioning.
 *
 * A worker started with SLIPWAY_WORKER_BUILD_ID polls as one version of a worker deployment
 * (SLIPWAY_WORKER_DEPLOYMENT, `slipway` by default). Its workflows are AUTO_UPGRADE: releases wait
 * days for approvals and environment workflows live as long as the environment, so pinning them
 * to the version that started them would keep every old worker running for days. Instead the
 * deployment's current version runs every workflow task, and a workflow change that running
 * workflows would replay differently goes behind `patched()` (the replay suite holds histories of
 * earlier versions). What versioning adds over a plain rolling restart: once the new version is
 * current, no task goes to an old worker again — without it, a workflow that took a new branch on
 * a new worker could be handed back to an old one mid-rollout and fail there.
 *
 * SLIPWAY_WORKER_TAKE_OVER says when a worker makes its version the current one:
 * - `on-start` (the default): as soon as it polls — a rolling update then moves the work to the
 *   new pods as they come up, and the old ones drain;
 * - `manual`: only when the deployment has no current version yet (a first install); otherwise the
 *   operator moves it with `temporal worker deployment set-current-version`, for a staged cut-over.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { NativeConnection, WorkerDeploymentOptions } from '@temporalio/worker';

export type TakeOver = 'on-start' | 'manual';

export interface WorkerVersioning {
  deploymentName: string;
  buildId: string;
  takeOver: TakeOver;
}

/** Kept to the characters Temporal and a Kubernetes label accept, so a typo cannot slip through. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The worker's version from its environment, or undefined when SLIPWAY_WORKER_BUILD_ID is unset (unversioned). */
export function workerVersioningFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerVersioning | undefined {
  const buildId = env.SLIPWAY_WORKER_BUILD_ID?.trim();
  const deploymentName = env.SLIPWAY_WORKER_DEPLOYMENT?.trim() || 'slipway';
  const takeOver = env.SLIPWAY_WORKER_TAKE_OVER?.trim() || 'on-start';
  if (!buildId) {
    if (env.SLIPWAY_WORKER_DEPLOYMENT?.trim() || env.SLIPWAY_WORKER_TAKE_OVER?.trim()) {
      throw new Error('SLIPWAY_WORKER_DEPLOYMENT and SLIPWAY_WORKER_TAKE_OVER need SLIPWAY_WORKER_BUILD_ID: set the build id of this worker, or unset them');
    }
    return undefined;
  }
  if (!NAME.test(buildId)) throw new Error(`SLIPWAY_WORKER_BUILD_ID must be letters, digits, ".", "_" or "-" (at most 128), got "${buildId}"`);
  if (!NAME.test(deploymentName)) throw new Error(`SLIPWAY_WORKER_DEPLOYMENT must be letters, digits, ".", "_" or "-" (at most 128), got "${deploymentName}"`);
  if (takeOver !== 'on-start' && takeOver !== 'manual') throw new Error(`SLIPWAY_WORKER_TAKE_OVER must be "on-start" or "manual", got "${takeOver}"`);
  return { deploymentName, buildId, takeOver };
}

export function deploymentOptions(v: WorkerVersioning): WorkerDeploymentOptions {
  return {
    version: { deploymentName: v.deploymentName, buildId: v.buildId },
    useWorkerVersioning: true,
    defaultVersioningBehavior: 'AUTO_UPGRADE',
  };
}

/** What the worker should do about the deployment's current version; pure, so the rule is tested without a server. */
export function takeOverDecision(v: WorkerVersioning, currentBuildId: string | undefined): 'nothing' | 'make-current' | 'leave' {
  if (currentBuildId === v.buildId) return 'nothing';
  if (currentBuildId === undefined || v.takeOver === 'on-start') return 'make-current';
  return 'leave';
}

/** The part of a connection (the worker's NativeConnection or a client's Connection) these calls use. */
export interface DeploymentApi {
  workflowService: NativeConnection['workflowService'];
  withDeadline<R>(deadline: number | Date, fn: () => Promise<R>): Promise<R>;
}

export interface TakeOverResult {
  /** The current version before this worker acted (undefined: none). */
  previous?: string;
  outcome: 'already-current' | 'made-current' | 'left';
}

/**
 * Makes this worker's version current when its policy says so. Call it once the worker polls: the
 * server refuses a version that has no pollers yet, so it retries until `timeoutMs`, each call with
 * its own deadline.
 */
export async function takeOver(
  connection: DeploymentApi,
  namespace: string,
  v: WorkerVersioning,
  options: { timeoutMs?: number; identity?: string } = {},
): Promise<TakeOverResult> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const current = await currentBuildId(connection, namespace, v.deploymentName);
      const decision = takeOverDecision(v, current);
      if (decision === 'nothing') return { previous: current, outcome: 'already-current' };
      if (decision === 'leave') return { previous: current, outcome: 'left' };
      await connection.withDeadline(Date.now() + 10_000, () =>
        connection.workflowService.setWorkerDeploymentCurrentVersion({
          namespace,
          deploymentName: v.deploymentName,
          buildId: v.buildId,
          identity: options.identity ?? `slipway-worker ${v.buildId}`,
        }),
      );
      return { previous: current, outcome: 'made-current' };
    } catch (err) {
      // Until the server has seen this version poll, it answers NotFound or FailedPrecondition.
      lastError = err;
      await sleep(500);
    }
  }
  throw new Error(
    `worker deployment ${v.deploymentName}: could not make build ${v.buildId} current within ${options.timeoutMs ?? 60_000} ms: ${lastError instanceof Error ? lastError.message : String(lastError)}`,
  );
}

/** The deployment's current build id; undefined when it has none or does not exist yet. */
export async function currentBuildId(connection: DeploymentApi, namespace: string, deploymentName: string): Promise<string | undefined> {
  try {
    const described = await connection.withDeadline(Date.now() + 10_000, () =>
      connection.workflowService.describeWorkerDeployment({ namespace, deploymentName }),
    );
    return described.workerDeploymentInfo?.routingConfig?.currentDeploymentVersion?.buildId || undefined;
  } catch (err) {
    if ((err as { code?: number }).code === 5 /* NOT_FOUND */) return undefined;
    throw err;
  }
}
