/** Asking an environment's workflow (`env/<app>/<env>`) what runs there, what deploys and what waits. */
import type { Client } from '@temporalio/client';
import { environmentWorkflowId } from '../core/ids.js';
import { environmentStateQuery } from '../workflows/messages.js';
import type { EnvironmentState } from '../workflows/types.js';

/** The environment's state, or undefined when nothing was ever promoted there (its workflow does not exist yet). */
export async function queryEnvironmentState(client: Client, app: string, environment: string): Promise<EnvironmentState | undefined> {
  try {
    return await client.workflow.getHandle(environmentWorkflowId(app, environment)).query(environmentStateQuery);
  } catch (err) {
    if ((err as Error).name === 'WorkflowNotFoundError') return undefined;
    throw err;
  }
}
