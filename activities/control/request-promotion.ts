/**
 * Hands a promotion request to the environment's workflow, or takes one back, starting that
 * workflow if it is not running (signal-with-start). Safe to retry: the environment workflow
 * ignores a request id it knows, and a withdrawal it has seen already changes nothing.
 */
import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import { environmentWorkflowId } from '../../core/ids.js';
import { SA_APP, SA_ENVIRONMENT, SA_STAGE } from '../../core/search-attributes.js';
import { currentActivity } from '../activity-context.js';
import type { ControlActivities, PromotionDelivered, PromotionRequest, WithdrawPromotionInput } from '../types.js';
import { buildRecordIn } from './build-record.js';
import { environmentAliveIn } from './environment-alive.js';

export function createControlActivities(opts: { client?: Client; taskQueue?: string } = {}): ControlActivities {
  const clientOf = () => {
    const client = opts.client ?? currentActivity()?.client;
    if (!client) throw new Error('a control activity outside an activity needs the client option');
    return client;
  };
  /** Sends `signal` to the environment workflow of `app`/`environment`, started first if it is not running. */
  const signalEnvironment = async (app: string, environment: string, signal: string, arg: unknown): Promise<PromotionDelivered> => {
    const client = clientOf();
    const taskQueue = opts.taskQueue ?? currentActivity()?.info.taskQueue;
    if (!taskQueue) throw new Error(`${signal} outside an activity needs the task queue option`);
    const handle = await client.workflow.signalWithStart('environment', {
      workflowId: environmentWorkflowId(app, environment),
      taskQueue,
      args: [{ app, environment }],
      signal,
      signalArgs: [arg],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      staticSummary: `${app} ${environment}: what runs there, what is deploying, what waits`,
      typedSearchAttributes: [
        { key: SA_APP, value: app },
        { key: SA_ENVIRONMENT, value: environment },
        { key: SA_STAGE, value: 'idle' },
      ],
    });
    // The run that took it: a release watches that run's chain, not whatever later runs under the id.
    return { runId: handle.signaledRunId };
  };
  return {
    buildRecord: (input) => buildRecordIn(clientOf(), input),
    requestPromotion: (request: PromotionRequest) => signalEnvironment(request.app, request.environment.name, 'requestPromotion', request),
    // The withdrawal may overtake its request (a cancelled release's requestPromotion can still
    // land): started here, the environment remembers it, and the request never queues.
    withdrawPromotion: async ({ app, environment, requestId }: WithdrawPromotionInput) => {
      await signalEnvironment(app, environment, 'withdrawRequest', { requestId });
    },
    environmentAlive: (input) => environmentAliveIn(clientOf(), input),
  };
}
