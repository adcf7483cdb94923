/**
 * An Application's sources the way Argo CD's controller treats them: `spec.sources` (when
 * present) makes it a multi-source Application, whose revisions are lists in the order of
 * `spec.sources` — `status.sync.revisions`, `operationState.syncResult.revisions`,
 * `history[].revisions`, `operation.sync.revisions` — where a single-source one has the one
 * `revision` field. Pure.
 */
import type { ArgoApplication, ArgoApplicationStatus, ArgoOperation, ArgoSource } from '../../activities/argocd/application.js';

export interface AppSources {
  multi: boolean;
  sources: ArgoSource[];
}

export function sourcesOf(app: ArgoApplication): AppSources {
  const multi = (app.spec.sources?.length ?? 0) > 0;
  if (multi) return { multi, sources: app.spec.sources! };
  return { multi, sources: app.spec.source ? [app.spec.source] : [] };
}

/**
 * What an operation asks each source to sync to: its revision (or revisions[i]), else the
 * source's targetRevision — an empty entry of `revisions` means "the target", as in Argo CD.
 */
export function requestedRevisions(app: AppSources, operation: ArgoOperation): Array<string | undefined> {
  return app.sources.map((source, i) => {
    const asked = app.multi ? operation.sync?.revisions?.[i] : operation.sync?.revision;
    return asked || source.targetRevision;
  });
}

/** The revisions that were last deployed (the last successful sync, else the last history entry). */
export function deployedRevisions(app: AppSources, status: ArgoApplicationStatus): string[] | undefined {
  const state = status.operationState;
  const fromResult = state?.phase === 'Succeeded' ? listOf(app, state.syncResult) : undefined;
  return fromResult ?? listOf(app, status.history?.at(-1));
}

function listOf(app: AppSources, holder: { revision?: string; revisions?: string[] } | undefined): string[] | undefined {
  if (!holder) return undefined;
  const list = app.multi ? holder.revisions : holder.revision ? [holder.revision] : undefined;
  return list && list.length === app.sources.length && list.every(Boolean) ? list : undefined;
}

/** `{ revision }` or `{ revisions }`, as the fields of sync status, sync results and history entries are spelled. */
export function revisionFields(app: AppSources, revisions: string[]): { revision: string } | { revisions: string[] } {
  return app.multi ? { revisions } : { revision: revisions[0]! };
}

/** `comparedTo`/`syncResult` name the source(s) the same way. */
export function sourceFields(app: AppSources): { source: ArgoSource } | { sources: ArgoSource[] } {
  return app.multi ? { sources: app.sources } : { source: app.sources[0]! };
}

export function sameRevisions(a: string[] | undefined, b: string[] | undefined): boolean {
  return Boolean(a && b && a.length === b.length && a.every((r, i) => r === b[i]));
}
