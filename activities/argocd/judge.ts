/**
 * Reading an Application's status the way a careful person reads Argo CD: is it Synced and
 * Healthy at our commit, Degraded at our commit, or not there yet? Pure; the caller says which
 * revisions count as ours (the commit itself or a later branch head that descends from it).
 *
 * Argo CD's ordering facts this relies on: a sync operation records `operationState.finishedAt`
 * when it ends, and the controller then refreshes the app, stamping `reconciledAt`. Until
 * `reconciledAt` is at or after `finishedAt`, `health` still describes what ran before the sync —
 * possibly the Degraded release we are rolling back from — so it is not trusted either way.
 */
import type { ApplicationHealth } from '../types.js';
import type { ArgoApplicationStatus } from './application.js';

export type Verdict =
  | { kind: 'healthy'; seen: ApplicationHealth }
  | { kind: 'degraded'; seen: ApplicationHealth; message: string }
  | { kind: 'waiting'; seen: ApplicationHealth; reason: string };

export function summarize(status: ArgoApplicationStatus | undefined): ApplicationHealth {
  const message = healthMessage(status);
  return {
    revision: status?.sync?.revision ?? '',
    sync: status?.sync?.status ?? 'Unknown',
    health: status?.health?.status ?? 'Unknown',
    ...(message ? { message } : {}),
  };
}

/** Why the app is unhealthy: the app-level message (Argo CD 2), else the unhealthy resources' messages (Argo CD 3). */
function healthMessage(status: ArgoApplicationStatus | undefined): string | undefined {
  if (status?.health?.message) return status.health.message;
  const wanted = status?.health?.status;
  const resources = (status?.resources ?? []).filter((r) => r.health?.message && (!wanted || r.health.status === wanted));
  if (resources.length > 0) return resources.map((r) => `${r.kind}/${r.name}: ${r.health!.message}`).join('; ');
  return undefined;
}

/** The revisions a status mentions that the caller must classify before calling judge(). */
export function revisionsOf(status: ArgoApplicationStatus | undefined): string[] {
  const op = status?.operationState;
  return [status?.sync?.revision, op?.syncResult?.revision, op?.operation?.sync?.revision].filter(
    (r): r is string => typeof r === 'string' && r.length > 0,
  );
}

export function judge(status: ArgoApplicationStatus | undefined, ours: (revision: string) => boolean): Verdict {
  const seen = summarize(status);
  const op = status?.operationState;
  const opRevision = op?.syncResult?.revision || op?.operation?.sync?.revision;

  // A sync of our commit that failed is final: Argo CD will not retry it by itself.
  if (op && (op.phase === 'Failed' || op.phase === 'Error') && opRevision && ours(opRevision)) {
    return { kind: 'degraded', seen, message: `sync ${op.phase.toLowerCase()}: ${op.message ?? 'no message'}` };
  }
  if (!seen.revision || !ours(seen.revision)) {
    return { kind: 'waiting', seen, reason: seen.revision ? `at revision ${short(seen.revision)}, not yet at our commit` : 'no synced revision yet' };
  }
  if (op && (op.phase === 'Running' || op.phase === 'Terminating' || !op.finishedAt)) {
    return { kind: 'waiting', seen, reason: `sync operation ${op.phase ?? 'pending'}` };
  }
  if (op?.finishedAt && !(status?.reconciledAt && Date.parse(status.reconciledAt) >= Date.parse(op.finishedAt))) {
    return { kind: 'waiting', seen, reason: `health not reconciled since the sync finished at ${op.finishedAt}` };
  }
  // sync.revision is what Argo compared with, not what runs: until it is Synced, health describes
  // the previous release (during a rollback, the Degraded one we are replacing).
  if (seen.sync !== 'Synced') return { kind: 'waiting', seen, reason: `sync status ${seen.sync}` };
  if (seen.health === 'Degraded') {
    return { kind: 'degraded', seen, message: seen.message ?? op?.message ?? 'Argo CD reports the application Degraded' };
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
