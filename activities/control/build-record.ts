/**
 * Whether one build passed an environment: asked of the environment's own workflow (what runs
 * there and its last deployments), then of Temporal's visibility store for older promotions. A
 * later environment takes only builds that passed the one before it.
 */
import type { Client } from '@temporalio/client';
import { environmentWorkflowId } from '../../core/ids.js';
import type { BuildRecord, BuildRecordInput, EnvironmentStateLike } from '../types.js';

export async function buildRecordIn(client: Client, { app, environment, commit }: BuildRecordInput): Promise<BuildRecord> {
  const state = await environmentState(client, app, environment);
  if (state?.current?.commit === commit) return { state: 'passed', releaseId: state.current.releaseId };
  for (const record of state?.recent ?? []) {
    if (record.commit !== commit) continue;
    if (record.outcome === 'promoted') return { state: 'passed', releaseId: record.releaseId };
    if (record.outcome === 'failed') return { state: 'failed', releaseId: record.releaseId, reason: record.reason ?? 'failed' };
    // superseded, cancelled, rejected, timed out, refused: it never ran to the end there; look further back.
  }
  return olderPromotions(client, app, environment, commit);
}

async function environmentState(client: Client, app: string, environment: string): Promise<EnvironmentStateLike | undefined> {
  try {
    return await client.workflow.getHandle(environmentWorkflowId(app, environment)).query<EnvironmentStateLike>('state');
  } catch (err) {
    if ((err as Error).name === 'WorkflowNotFoundError') return undefined;
    throw err;
  }
}

/** Promotions older than the environment's recent records, by their ids (`promotion/<app>/<env>/<commit12>-<n>`). */
async function olderPromotions(client: Client, app: string, environment: string, commit: string): Promise<BuildRecord> {
  const prefix = `promotion/${app}/${environment}/${commit.slice(0, 12)}-`;
  const query = `WorkflowType = 'promotion' AND WorkflowId STARTS_WITH '${prefix}'`;
  let failed: string | undefined;
  for await (const execution of client.workflow.list({ query })) {
    if (execution.status.name === 'COMPLETED') return { state: 'passed', releaseId: execution.workflowId };
    if (execution.status.name === 'FAILED') failed ??= execution.workflowId;
  }
  return failed ? { state: 'failed', releaseId: failed, reason: `its promotion ${failed} failed` } : { state: 'not-run' };
}
