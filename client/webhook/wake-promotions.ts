/**
 * What the webhook asks of Temporal for a pull-request delivery. Pull-request mode: the running
 * promotion workflows of each (app, environment), found by their search attributes, are sent
 * pullRequestChanged. Previews: the event goes to the app's previews workflow. The names come from
 * the worker's policy, never from the delivery.
 */
import type { Client } from '@temporalio/client';
import { previewsWorkflowId } from '../../core/ids.js';
import { SA_APP, SA_ENVIRONMENT } from '../../core/search-attributes.js';
import { previewEventSignal, pullRequestChangedSignal } from '../../workflows/messages.js';
import type { previews } from '../../workflows/previews.js';
import type { PreviewAction, WakeTarget } from './pull-request-event.js';

export type WakePromotions = (targets: WakeTarget[], number: number | undefined) => Promise<string[]>;

/** At most this many promotions are woken per target: an environment runs one at a time, so more is a sign of something odd. */
const MAX_PER_TARGET = 20;

export function wakePromotionsViaTemporal(client: Client): WakePromotions {
  return async (targets, number) => {
    const woken: string[] = [];
    for (const { app, environment } of targets) {
      const query = `WorkflowType = 'promotion' AND ExecutionStatus = 'Running' AND ${SA_APP.name} = '${quoted(app)}' AND ${SA_ENVIRONMENT.name} = '${quoted(environment)}'`;
      let seen = 0;
      for await (const execution of client.workflow.list({ query, pageSize: MAX_PER_TARGET })) {
        await client.workflow.getHandle(execution.workflowId, execution.runId).signal(pullRequestChangedSignal, number === undefined ? {} : { number });
        woken.push(execution.workflowId);
        if (++seen >= MAX_PER_TARGET) break;
      }
    }
    return woken;
  };
}

/** Policy names are plain already; a quote would end the literal, so it never passes. */
function quoted(name: string): string {
  return name.replace(/['\\]/g, '');
}

export type PreviewEvent = (app: string, number: number, action: PreviewAction) => Promise<string>;

/** Hands the event to the app's previews workflow, starting it when it is not running (signal-with-start): its id. */
export function previewEventViaTemporal(client: Client, taskQueue: string): PreviewEvent {
  return async (app, number, action) => {
    const handle = await client.workflow.signalWithStart<typeof previews, [{ number: number; action: PreviewAction }]>('previews', {
      workflowId: previewsWorkflowId(app),
      taskQueue,
      args: [{ app }],
      signal: previewEventSignal,
      signalArgs: [{ number, action }],
      staticSummary: `the previews of ${app}`,
    });
    return handle.workflowId;
  };
}
