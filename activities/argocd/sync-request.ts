/**
 * When a sync may be requested, read from the Application as Argo CD's own API server and
 * controller treat it (util/argo SetAppOperation, controller processRequestedAppOperation):
 *
 * - an operation is in progress while `operation` is set: queued until the controller copies it
 *   into `operationState` and sets it Running, then Running (or Terminating) until it completes;
 * - the controller runs an in-progress operation from `operationState.operation`, and clears
 *   `operation` when it completes — so an `operation` written over a running one is dropped, and
 *   the API server refuses to set one while another is set;
 * - `argocd app terminate-op` sets `operationState.phase` to Terminating, which only a running
 *   operation (with `operation` set) honours.
 *
 * So ours is requested only when no `operation` is set; a queued, running or finished operation
 * asking for our revision is ours already (a retry of the request must not ask twice). Pure.
 */
import type { ArgoApplication, ArgoOperation } from './application.js';
import { revisionIn, type SourceSlot } from './sources.js';

/** Who Slipway says it is in `operation.initiatedBy`. */
export const SLIPWAY_USER = 'slipway';

export type SyncDecision =
  /** No operation is in progress: ours may be set now. */
  | { kind: 'request' }
  /** An operation asking for our revision is queued, running or done. */
  | { kind: 'ours'; stage: 'queued' | 'running' | 'finished' }
  /** Another operation holds the Application; `terminable` when terminate-op would end it. */
  | { kind: 'busy'; stage: 'queued' | 'running' | 'terminating'; operation: ArgoOperation | undefined; since?: string; terminable: boolean };

const inProgress = (phase: string | undefined) => phase === 'Running' || phase === 'Terminating';

/** Whether an operation asks for what we ask: our revision in our slot, or (without one) a Slipway sync to the targets. */
export function asksFor(revision: string | undefined, slot: SourceSlot | undefined) {
  return (op: ArgoOperation | undefined): boolean => {
    if (!op?.sync) return false;
    if (revision === undefined || slot === undefined) {
      return op.initiatedBy?.username === SLIPWAY_USER && !op.sync.revision && !(op.sync.revisions ?? []).some(Boolean);
    }
    return revisionIn(op.sync, slot) === revision;
  };
}

export function decideSync(app: ArgoApplication, ours: (op: ArgoOperation | undefined) => boolean, options: { finishedCounts?: boolean } = {}): SyncDecision {
  const stored = app.operation;
  const state = app.status?.operationState;
  // Argo CD works on an operation only while `operation` is set: an in-progress state without
  // it is left over, and the API server overwrites it when it sets the next one.
  const running = Boolean(stored && state && inProgress(state.phase));
  if (running) {
    if (ours(state!.operation)) return { kind: 'ours', stage: 'running' };
    const terminating = state!.phase === 'Terminating';
    return { kind: 'busy', stage: terminating ? 'terminating' : 'running', operation: state!.operation, since: state!.startedAt, terminable: !terminating };
  }
  if (stored) return ours(stored) ? { kind: 'ours', stage: 'queued' } : { kind: 'busy', stage: 'queued', operation: stored, terminable: false };
  if (options.finishedCounts !== false && state && !inProgress(state.phase) && ours(state.operation)) return { kind: 'ours', stage: 'finished' };
  return { kind: 'request' };
}

/** "the sync of 3f2a9c1e0b7d (Running since …, by automated sync)" style, for messages and heartbeats. */
export function describeOperation(decision: Extract<SyncDecision, { kind: 'busy' }>): string {
  const sync = decision.operation?.sync;
  const revisions = sync?.revision ? [sync.revision] : (sync?.revisions ?? []).filter(Boolean);
  const what = revisions.length > 0 ? revisions.map((r) => (/^[0-9a-f]{40}$/.test(r) ? r.slice(0, 12) : r)).join(', ') : 'the target revision';
  const by = decision.operation?.initiatedBy?.automated ? 'automated sync' : decision.operation?.initiatedBy?.username;
  return `the sync of ${what} (${decision.stage}${decision.since ? ` since ${decision.since}` : ''}${by ? `, by ${by}` : ''})`;
}
