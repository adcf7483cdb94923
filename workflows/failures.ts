/** Turning failures from activities and child workflows into one line a person can act on. */
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, TemporalFailure, isCancellation } from '@temporalio/workflow';

export interface FailureSummary {
  reason: string;
  type: string;
  details?: unknown;
}

/** The innermost application failure's message and type; cancellations are reported as such. */
export function describeFailure(err: unknown): FailureSummary {
  if (isCancellation(err)) return { reason: 'cancelled', type: 'Cancelled' };
  let current: unknown = err;
  while (current instanceof ActivityFailure || current instanceof ChildWorkflowFailure) {
    if (!current.cause) break;
    current = current.cause;
  }
  if (current instanceof ApplicationFailure) {
    return { reason: current.message, type: current.type ?? 'Error', details: current.details?.[0] };
  }
  if (current instanceof TemporalFailure) return { reason: current.message, type: current.name };
  if (current instanceof Error) return { reason: current.message, type: current.name };
  return { reason: String(current), type: 'Error' };
}
