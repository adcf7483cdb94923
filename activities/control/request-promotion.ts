/**
 * Hands a promotion request to the environment's workflow, starting that workflow if it is not
 * running (signal-with-start). Safe to retry: the environment workflow ignores a request id it knows.
 */
import { Context } from '@temporalio/activity';
import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import { environmentWorkflowId } from '../../core/ids.js';
import { SA_APP, SA_ENVIRONMENT, SA_STAGE } from '../../core/search-attributes.js';
import type { PromotionRequest } from '../../workflows/types.js';
import type { ControlActivities } from '../types.js';

export function createControlActivities(opts: { client?: Client; taskQueue?: string } = {}): ControlActivities {
  return {
    async requestPromotion(request: PromotionRequest): Promise<void> {
      const context = Context.current();
      const client = opts.client ?? context.client;
      const taskQueue = opts.taskQueue ?? context.info.taskQueue;
      await client.workflow.signalWithStart('environment', {
        workflowId: environmentWorkflowId(request.app, request.environment.name),
        taskQueue,
        args: [{ app: request.app, environment: request.environment.name }],
        signal: 'requestPromotion',
        signalArgs: [request],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        staticSummary: `${request.app} ${request.environment.name}: what runs there, what is deploying, what waits`,
        typedSearchAttributes: [
          { key: SA_APP, value: request.app },
          { key: SA_ENVIRONMENT, value: request.environment.name },
          { key: SA_STAGE, value: 'idle' },
        ],
      });
    },
  };
}
