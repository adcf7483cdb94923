/**
 * Reading an Application's status the way a careful person reads Argo CD: is it Synced and
 * Healthy at our commit, Degraded at our commit, superseded by a later commit that changed our
 * images, or not there yet? Pure; the caller says what each revision is to us (the commit itself,
 * or a later branch head that descends from it and still holds our images, counts as ours), and
 * for a multi-source Application which of its revisions is the GitOps repository's.
 *
 * Argo CD's ordering facts this relies on: a sync operation records `operationState.finishedAt`
 * when it ends, and the controller then refreshes the app, stamping `reconciledAt`. Until
 * `reconciledAt` is at or after `finishedAt`, `health` still describes what ran before the sync —
 * possibly the Degraded release we are rolling back from — so it is not trusted either way.
 */
import type { ApplicationHealth } from '../types.js';
import type { ArgoApplicationStatus, ArgoOperation } from './application.js';
import { revisionIn, type SourceSlot } from './sources.js';

export type Verdict =
  | { kind: 'healthy'; seen: ApplicationHealth }
  /** `by`: a failed sync operation (final at once), or Argo CD's health assessment. */
  | { kind: 'degraded'; seen: ApplicationHealth; message: string; by: 'sync' | 'health' }
  /** Argo CD reports a later commit that changed our images: its health is not ours, and ours will not come back. */
  | { kind: 'superseded'; seen: ApplicationHealth; message: string }
  | { kind: 'waiting'; seen: ApplicationHealth; reason: string };

/**
 * What a revision Argo CD reports is to us: our commit (or a later one that still holds what we
 * wrote), someone else's, or a later commit that changed our images (`superseded`, saying how).
 * `true`/`false` stand for ours/other.
 */
export type Ownership = 'ours' | 'other' | { superseded: string };
export type Classify = (revision: string) => Ownership | boolean;

export interface JudgeOptions {
  /** Where the GitOps repository's revision is (multi-source Applications); default: the one `revision`. */
  slot?: SourceSlot;
  /** The Application's `operation`: one requested and not yet finished means health is not final. */
  operation?: ArgoOperation;
  /**
   * The `health.lastTransitionTime` of a Degraded the caller saw before our sync's result was in
   * (judged waiting): while health still shows that same Degraded, it is not a verdict on ours.
   */
  degradedBeforeOurs?: string;
}

const SINGLE: SourceSlot = { multi: false };

export function summarize(status: ArgoApplicationStatus | undefined, slot: SourceSlot = SINGLE): ApplicationHealth {
  const message = healthMessage(status);
  return {
    revision: revisionIn(status?.sync, slot) ?? '',
    sync: status?.sync?.status ?? 'Unknown',
    health: status?.health?.status ?? 'Unknown',
    ...(message ? { message } : {}),
  };
}

/**
 * Why the app is unhealthy, in Argo CD's own words. Argo CD 3 by default keeps resource health out
 * of the Application (`controller.resource.health.persist: false`): the app-level message then
 * names the resource ("Caused by apps/Deployment:staging/frontend"). Where resource health is
 * persisted (Argo CD 2, or that setting on), the unhealthy resources' own messages ("Deployment
 * "frontend" exceeded its progress deadline") say more, and are preferred.
 */
function healthMessage(status: ArgoApplicationStatus | undefined): string | undefined {
  const wanted = status?.health?.status;
  const resources = (status?.resources ?? []).filter((r) => r.health?.message && (!wanted || r.health.status === wanted));
  if (resources.length > 0) return resources.map((r) => `${r.kind}/${r.name}: ${r.health!.message}`).join('; ');
  return status?.health?.message || undefined;
}

/** The revision the last (or running) operation synced or is syncing, in our slot. */
function operationRevision(status: ArgoApplicationStatus | undefined, slot: SourceSlot): string | undefined {
  const op = status?.operationState;
  return revisionIn(op?.syncResult, slot) ?? revisionIn(op?.operation?.sync, slot);
}

/** The revisions a status mentions that the caller must classify before calling judge(). */
export function revisionsOf(status: ArgoApplicationStatus | undefined, slot: SourceSlot = SINGLE): string[] {
  const op = status?.operationState;
  return [revisionIn(status?.sync, slot), revisionIn(op?.syncResult, slot), revisionIn(op?.operation?.sync, slot)].filter(
    (r): r is string => typeof r === 'string' && r.length > 0,
  );
}

function ownership(classify: Classify, revision: string): Ownership {
  const answer = classify(revision);
  return answer === true ? 'ours' : answer === false ? 'other' : answer;
}

export function judge(status: ArgoApplicationStatus | undefined, classify: Classify, options: JudgeOptions = {}): Verdict {
  const slot = options.slot ?? SINGLE;
  const seen = summarize(status, slot);
  const op = status?.operationState;
  const opRevision = operationRevision(status, slot);

  // A sync of our commit that failed is final: Argo CD will not retry it by itself.
  if (op && (op.phase === 'Failed' || op.phase === 'Error') && opRevision && ownership(classify, opRevision) === 'ours') {
    return { kind: 'degraded', seen, message: `sync ${op.phase.toLowerCase()}: ${op.message ?? 'no message'}`, by: 'sync' };
  }
  if (!seen.revision) return { kind: 'waiting', seen, reason: 'no synced revision yet' };
  const owner = ownership(classify, seen.revision);
  // Whatever its health, it is not ours: the branch moved on to other images, and Argo CD with it.
  if (typeof owner === 'object') return { kind: 'superseded', seen, message: owner.superseded };
  if (owner !== 'ours') return { kind: 'waiting', seen, reason: `at revision ${short(seen.revision)}, not yet at our commit` };
  if (op && (op.phase === 'Running' || op.phase === 'Terminating' || !op.finishedAt)) {
    return { kind: 'waiting', seen, reason: `sync operation ${op.phase ?? 'pending'}` };
  }
  // Requested and not picked up yet (Argo CD clears operationState when it takes a request): what
  // the status says now is from before it.
  if (options.operation) return { kind: 'waiting', seen, reason: 'a sync operation is requested and has not started yet' };
  if (op?.finishedAt && !(status?.reconciledAt && Date.parse(status.reconciledAt) >= Date.parse(op.finishedAt))) {
    return { kind: 'waiting', seen, reason: `health not reconciled since the sync finished at ${op.finishedAt}` };
  }
  // sync.revision is what Argo compared with, not what runs: until it is Synced, health describes
  // the previous release (during a rollback, the Degraded one we are replacing).
  if (seen.sync !== 'Synced') return { kind: 'waiting', seen, reason: `sync status ${seen.sync}` };
  // Degraded since before our sync finished is the previous rollout's verdict carried over, not
  // one on ours: rolling a Deployment back from ProgressDeadlineExceeded, the controller first
  // records the new generation with the old condition still set, and Argo CD, refreshing right
  // after the sync, reports that as Degraded at our commit. Ours counts once health has moved.
  // Both times have whole seconds: an earlier second, or the very Degraded seen before, is old.
  const degradedSince = status?.health?.lastTransitionTime;
  if (
    seen.health === 'Degraded' &&
    degradedSince &&
    (degradedSince === options.degradedBeforeOurs || (op?.finishedAt && Date.parse(degradedSince) < Date.parse(op.finishedAt)))
  ) {
    return { kind: 'waiting', seen, reason: `Degraded since ${degradedSince}, from before our sync${op?.finishedAt ? ` finished at ${op.finishedAt}` : ''}: waiting for Argo CD's assessment of the new rollout` };
  }
  if (seen.health === 'Degraded') {
    return { kind: 'degraded', seen, message: seen.message ?? op?.message ?? 'Argo CD reports the application Degraded', by: 'health' };
  }
  if (seen.health !== 'Healthy') return { kind: 'waiting', seen, reason: `health ${seen.health}` };
  return { kind: 'healthy', seen };
}

export function short(revision: string): string {
  return /^[0-9a-f]{40}$/.test(revision) ? revision.slice(0, 12) : revision;
}

export function describeSeen(seen: ApplicationHealth | undefined): string {
  if (!seen) return 'nothing (the Application was never read)';
  const revision = seen.revision ? short(seen.revision) : 'none';
  return `revision ${revision}, sync ${seen.sync}, health ${seen.health}${seen.message ? ` (${seen.message})` : ''}`;
}
