/**
 * Whether the environment workflow that took a release's request can still answer it. A release
 * waits for that answer with no deadline of its own (an approval may take a day), so an environment
 * workflow that was terminated, cancelled or failed would leave it waiting forever; the release asks
 * here from time to time and fails with the reason instead. Only reads (describe).
 *
 * The request lives in the run that took it and in the runs that carry on its chain (continue-as-
 * new, reset). A new chain under the same id (started again by a later request) never saw it.
 */
import type { Client, WorkflowExecutionDescription, WorkflowExecutionStatusName } from '@temporalio/client';
import { environmentWorkflowId } from '../../core/ids.js';
import type { EnvironmentAliveInput, EnvironmentLiveness } from '../types.js';

/** How long one describe may take: the activity is short and retried. */
const DESCRIBE_DEADLINE_MS = 15_000;

/** Statuses after which a run answers nothing more; anything else (running, unknown, paused) is not proof it is gone. */
const ENDED: Partial<Record<WorkflowExecutionStatusName, string>> = {
  COMPLETED: 'completed',
  FAILED: 'failed',
  CANCELLED: 'was cancelled',
  TERMINATED: 'was terminated',
  TIMED_OUT: 'timed out',
};

export async function environmentAliveIn(client: Client, { app, environment, runId }: EnvironmentAliveInput): Promise<EnvironmentLiveness> {
  const workflowId = environmentWorkflowId(app, environment);
  const describe = async (run?: string): Promise<WorkflowExecutionDescription | undefined> => {
    try {
      return await client.withDeadline(Date.now() + DESCRIBE_DEADLINE_MS, () => client.workflow.getHandle(workflowId, run).describe());
    } catch (err) {
      if ((err as Error).name === 'WorkflowNotFoundError') return undefined;
      throw err;
    }
  };
  const chainOf = (d: WorkflowExecutionDescription) => d.raw.workflowExecutionInfo?.firstRunId || undefined;

  const took = runId ? await describe(runId) : undefined;
  if (took && !ENDED[took.status.name] && took.status.name !== 'CONTINUED_AS_NEW') return { alive: true };
  const latest = await describe();
  if (runId && !took) return { alive: false, reason: `${workflowId} (the run that took the request) no longer exists` };
  if (!latest) return { alive: false, reason: `${workflowId} no longer exists` };
  const sameChain = !took || (chainOf(latest) !== undefined && chainOf(latest) === chainOf(took));
  if (!sameChain) {
    return {
      alive: false,
      reason: `${workflowId} ${endedWords(took!)}, and what runs under that id now was started afresh and never took the request`,
    };
  }
  if (!ENDED[latest.status.name]) return { alive: true };
  return { alive: false, reason: `${workflowId} ${endedWords(latest)}` };
}

function endedWords(d: WorkflowExecutionDescription): string {
  const how = ENDED[d.status.name] ?? `ended (${d.status.name.toLowerCase()})`;
  return d.closeTime ? `${how} at ${d.closeTime.toISOString()}` : how;
}
