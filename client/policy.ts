/**
 * What the CLI and the webhook know of the pipeline policy: they hold no copy of it, so they ask
 * the worker (a short workflow that runs the read-only `describePolicy` activity). The answer has
 * names, gates and tag rules, and nothing a caller could use to steer the worker.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import type { PolicySummary } from '../activities/types.js';
import type { describePolicy } from '../workflows/policy.js';

/** How long to wait for a worker to answer before saying none is there. */
const ANSWER_WITHIN = '30s';

export class PolicyUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyUnavailableError';
  }
}

export async function fetchPolicy(client: Client, taskQueue: string): Promise<PolicySummary> {
  try {
    return await client.workflow.execute<typeof describePolicy>('describePolicy', {
      workflowId: `policy/describe/${randomUUID()}`,
      taskQueue,
      workflowExecutionTimeout: ANSWER_WITHIN,
      staticSummary: 'describe the pipeline policy for a client',
    });
  } catch (err) {
    let cause: Error | undefined = err as Error;
    while (cause?.cause instanceof Error) cause = cause.cause;
    if (err instanceof WorkflowFailedError && !err.cause) cause = err;
    throw new PolicyUnavailableError(`cannot read the pipeline policy from a Slipway worker on task queue "${taskQueue}" (within ${ANSWER_WITHIN}): ${cause?.message ?? 'no answer'}`);
  }
}

/** The app's part of the summary, or the reason it is not there. */
export function appInPolicy(policy: PolicySummary, app: string): PolicySummary['apps'][string] | string {
  return policy.apps[app] ?? `unknown app "${app}" (the worker's policy ${policy.version} has: ${Object.keys(policy.apps).join(', ')})`;
}
