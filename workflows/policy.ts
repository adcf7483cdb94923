/**
 * The worker's policy, as workflows read it: through a read-only activity, so the answer is in
 * the workflow's history and a release keeps the version it started with. A request's own copy of
 * the config is never trusted — anyone who can reach the Temporal API can write one.
 */
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { ControlActivities, EnvironmentPolicy, PolicyActivities, PolicyRef, PolicySummary } from '../activities/types.js';
import { shortSha } from '../core/ids.js';
import { imagesForCommit } from '../core/images.js';
import { controlStepOptions } from './activities.js';
import type { PromotionRequest, ReleasePipeline } from './types.js';

const policy = () => proxyActivities<PolicyActivities>(controlStepOptions());

/** The release's pipeline and the policy version it runs under; an app the policy lacks is refused. */
export async function releasePolicy(app: string): Promise<{ pipeline: ReleasePipeline; policy: PolicyRef }> {
  const p = await policy().releasePolicy.executeWithOptions({ ...controlStepOptions(), summary: `read the policy for ${app}` }, [{ app }]);
  return { pipeline: { app: p.app, appConfig: p.appConfig, git: p.git, engine: p.engine }, policy: refOf(p) };
}

export async function environmentPolicy(app: string, environment: string, version: string | undefined): Promise<EnvironmentPolicy> {
  return policy().environmentPolicy.executeWithOptions(
    { ...controlStepOptions(), summary: `read the policy for ${app}/${environment}${version ? ` (${version})` : ''}` },
    [{ app, environment, version }],
  );
}

/**
 * The request as the policy has it: gates, wiring and images from the worker's policy; from the
 * request only what a caller may choose (which build, which kind, who to answer).
 */
export function underPolicy(request: PromotionRequest, p: EnvironmentPolicy): PromotionRequest {
  return {
    ...request,
    app: p.app,
    environment: p.environment,
    git: p.git,
    engine: p.engine,
    sourceRepo: p.sourceRepo,
    images: imagesForCommit(p.images, request.commit),
    policyVersion: p.version,
  };
}

export function refOf(p: PolicyRef): PolicyRef {
  return { version: p.version, source: p.source, ...(p.commit ? { commit: p.commit } : {}) };
}

/** For clients that hold no copy of the policy: apps, environments, gates and tag rules. */
export async function describePolicy(): Promise<PolicySummary> {
  return policy().describePolicy.executeWithOptions({ ...controlStepOptions(), summary: 'describe the policy for a client' }, []);
}

/**
 * Where a release asked to start at environment `startIndex` really starts: there when its build
 * passed the environment before, else (policy `promotion.unvalidated: run-earlier`) at the first
 * environment. A build that failed there, or a policy that says `refuse`, ends the release.
 */
export async function firstEnvironmentToRun(pipeline: ReleasePipeline, commit: string, startIndex: number): Promise<number> {
  const previous = pipeline.appConfig.environments[startIndex - 1]!.name;
  const record = await proxyActivities<ControlActivities>(controlStepOptions()).buildRecord.executeWithOptions(
    { ...controlStepOptions(), summary: `did ${shortSha(commit)} pass ${previous}?` },
    [{ app: pipeline.app, environment: previous, commit }],
  );
  if (record.state === 'passed') return startIndex;
  if (record.state === 'failed') {
    throw ApplicationFailure.nonRetryable(`${shortSha(commit)} failed in ${previous} (${record.releaseId}): ${record.reason}; it will not be promoted further`, 'RequestRefused');
  }
  if (pipeline.appConfig.promotion?.unvalidated === 'refuse') {
    throw ApplicationFailure.nonRetryable(`${shortSha(commit)} has not passed ${previous}, and the policy refuses builds that skip it`, 'RequestRefused');
  }
  return 0;
}
