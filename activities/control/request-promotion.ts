/**
 * Hands a promotion request to the environment's workflow, starting that workflow if it is not
 * running (signal-with-start). Safe to retry: the environment workflow ignores a request id it knows.
 */
import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import { environmentWorkflowId } from '../../core/ids.js';
import { SA_APP, SA_ENVIRONMENT, SA_STAGE } from '../../core/search-attributes.js';
import { currentActivity } from '../activity-context.js';
import type { ControlActivities, PromotionRequest } from '../types.js';
import { buildRecordIn } from './build-record.js';

export function createControlActivities(opts: { client?: Client; taskQueue?: string } = {}): ControlActivities {
  const clientOf = () => {
    const client = opts.client ?? currentActivity()?.client;
    if (!client) throw new Error('a control activity outside an activity needs the client option');
    return client;
  };
  return {
    buildRecord: (input) => buildRecordIn(clientOf(), input),
    async requestPromotion(request: PromotionRequest): Promise<void> {
      const context = currentActivity();
      const client = opts.client ?? context?.client;
      const taskQueue = opts.taskQueue ?? context?.info.taskQueue;
      if (!client || !taskQueue) throw new Error('requestPromotion outside an activity needs the client and task queue options');
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
