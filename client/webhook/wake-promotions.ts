/**
 * Wakes the promotions a pull-request delivery is about, through Temporal: the running promotion
 * workflows of each (app, environment), found by their search attributes, are sent
 * pullRequestChanged. The names come from the worker's policy, never from the delivery.
 */
import type { Client } from '@temporalio/client';
import { SA_APP, SA_ENVIRONMENT } from '../../core/search-attributes.js';
import { pullRequestChangedSignal } from '../../workflows/messages.js';
import type { WakeTarget } from './pull-request-event.js';

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
