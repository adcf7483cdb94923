/**
 * Asking Argo CD to look again: the `argocd.argoproj.io/refresh: normal` annotation (what
 * `argocd app get --refresh` sets), and with `sync`, an `operation` like the one the Argo CD API
 * server writes for `argocd app sync --revision`.
 *
 * A sync request is never written over another operation: Argo CD clears `operation` when the
 * running one ends, which would drop ours (a rollback's sync lost, its wait timing out). So, on a
 * watch of the Application: while another operation is set, wait for it to end (or, with
 * `runningOperation: 'terminate'`, end it as `argocd app terminate-op` does); then set ours with
 * the resourceVersion we read as a precondition, so nothing that lands meanwhile is overwritten;
 * then follow it until the controller has taken it. One that disappears before it was taken is
 * requested again. Waiting is bounded by the attempt's own deadline, heartbeats, and ends when the
 * activity is cancelled. A retry finding our operation queued, running or done asks nothing more.
 */
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import { attemptEndsAtMs, currentActivity, sleep } from '../activity-context.js';
import { FailureType, type RefreshInput } from '../types.js';
import { applicationApi, REFRESH_ANNOTATION, type ArgoApplication, type ArgoOperation } from './application.js';
import { short } from './judge.js';
import { deletionFailure, describeRef, permanentFailure, statusCode, toActivityError } from './kube-errors.js';
import { gitopsSlot, syncRequest, type SourceSlot } from './sources.js';
import { SLIPWAY_USER, asksFor, decideSync, describeOperation, type SyncDecision } from './sync-request.js';
import { customObjectsApi } from './kube-api.js';
import { followApplication } from './watch-application.js';

export interface RefreshDeps {
  kubeConfig: KubeConfig;
  /** Outside an activity (no deadline of its own), how long to wait for another operation to end (default 5 min). */
  operationWaitMs?: number;
  /** How long to follow our queued request for the controller to take it (default 10 s); queued and nothing running, it will be. */
  acceptWaitMs?: number;
  heartbeatIntervalMs?: number;
}

/** A request that vanished before the controller took it is asked again at most this often. */
const MAX_REQUESTS = 5;

export function refreshPatch(): Record<string, unknown> {
  return { metadata: { annotations: { [REFRESH_ANNOTATION]: 'normal' } } };
}

/**
 * The operation Slipway writes: the revision in the GitOps repository's slot, with the
 * Application's own sync options and retry, as Argo CD's API server copies them from the spec for
 * `argocd app sync` (the controller reads them from the operation only: without them a manual
 * sync ignores `CreateNamespace=true` and fails "namespaces … not found").
 */
export function syncOperation(app: ArgoApplication, slot: SourceSlot | undefined, revision: string | undefined): ArgoOperation {
  const policy = app.spec.syncPolicy;
  return {
    sync: { ...(slot ? syncRequest(app.spec, slot, revision) : {}), ...(policy?.syncOptions?.length ? { syncOptions: policy.syncOptions } : {}) },
    initiatedBy: { username: SLIPWAY_USER },
    ...(policy?.retry ? { retry: policy.retry } : {}),
  };
}

export async function refreshApplication(deps: RefreshDeps | KubeConfig, input: RefreshInput): Promise<void> {
  const d: RefreshDeps = 'kubeConfig' in deps ? deps : { kubeConfig: deps };
  const api = customObjectsApi(d.kubeConfig);
  if (!input.sync) {
    try {
      await mergePatch(api, input, refreshPatch());
    } catch (err) {
      throw toActivityError(err, input.app, 'refreshing');
    }
    return;
  }
  await requestSync(d, api, input);
}

function mergePatch(api: CustomObjectsApi, input: RefreshInput, body: Record<string, unknown>): Promise<unknown> {
  return api.patchNamespacedCustomObject(
    { ...applicationApi, namespace: input.app.namespace, name: input.app.application, body },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

/** When this attempt must have answered: its start-to-close and schedule-to-close, less a margin to say why. */
function attemptDeadline(fallbackMs: number): number {
  const now = Date.now();
  const end = attemptEndsAtMs();
  if (end === undefined) return now + fallbackMs;
  return end - Math.min(2_000, Math.max(0, end - now) / 10);
}

function requestSync(deps: RefreshDeps, api: CustomObjectsApi, input: RefreshInput): Promise<void> {
  const ctx = currentActivity();
  const ref = describeRef(input.app);
  const policy = input.runningOperation ?? 'wait';
  const wanted = input.revision ? short(input.revision) : 'the target revision';
  const deadlineAt = attemptDeadline(deps.operationWaitMs ?? 5 * 60_000);
  const abort = new AbortController();

  let lastBusy: Extract<SyncDecision, { kind: 'busy' }> | undefined;
  let state = 'reading the Application';
  let connection = 'connecting';
  let requests = 0;
  let acceptTimer: NodeJS.Timeout | undefined;
  /** The in-progress operation we asked to terminate (its startedAt), so it is asked once. */
  let terminated: string | undefined;

  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      abort.abort();
      clearTimeout(deadline);
      clearTimeout(acceptTimer);
      clearInterval(heartbeat);
      ctx?.cancellationSignal.removeEventListener('abort', onCancel);
      outcome();
    };
    const deadline = setTimeout(
      () =>
        finish(() =>
          reject(
            ApplicationFailure.retryable(
              lastBusy && !requests
                ? `${ref}: ${describeOperation(lastBusy)} had not ended when this attempt ran out of time; the sync of ${wanted} was not requested (it would have been dropped when that one ends)`
                : `${ref}: the sync of ${wanted} was not confirmed before this attempt ran out of time (${state}; ${connection})`,
              'ArgoOperationInProgress',
            ),
          ),
        ),
      Math.max(0, deadlineAt - Date.now()),
    );
    const beat = () => ctx?.heartbeat({ syncing: wanted, state, connection });
    const heartbeat = setInterval(beat, deps.heartbeatIntervalMs ?? 2_000);
    const onCancel = () => finish(() => reject(ctx!.cancellationSignal.reason));
    ctx?.cancellationSignal.addEventListener('abort', onCancel, { once: true });
    if (ctx?.cancellationSignal.aborted) onCancel();

    // Versions arrive faster than patches answer: decide on them one at a time, newest last.
    let latest: ArgoApplication | undefined;
    let deciding = false;
    const decideLatest = async () => {
      if (deciding) return;
      deciding = true;
      try {
        while (latest && !settled) {
          const app = latest;
          latest = undefined;
          await step(app);
        }
      } catch (err) {
        finish(() => reject(err));
      } finally {
        deciding = false;
      }
    };

    const step = async (app: ArgoApplication) => {
      const deleting = deletionFailure(app, input.app);
      if (deleting) throw deleting;
      const lookup = gitopsSlot(app.spec, input.git?.url);
      // Several sources and no way to tell ours: sync them all to their targets (the branch head
      // holds our commit), which the wait then judges.
      const slot = lookup.ok ? lookup.slot : undefined;
      if (!lookup.ok && input.git) {
        throw ApplicationFailure.nonRetryable(`${ref} cannot be synced to ${wanted}: ${lookup.problem}`, FailureType.InvalidConfig);
      }
      const decision = decideSync(app, asksFor(slot ? input.revision : undefined, slot), { finishedCounts: input.revision !== undefined });
      switch (decision.kind) {
        case 'ours':
          if (decision.stage !== 'queued') return finish(resolve);
          state = 'requested; waiting for Argo CD to take it';
          // Queued with nothing running: the controller takes it when it can, and nothing clears it before.
          acceptTimer ??= setTimeout(() => finish(resolve), Math.max(0, Math.min(deps.acceptWaitMs ?? 10_000, deadlineAt - Date.now())));
          return;
        case 'busy':
          lastBusy = decision;
          state = `waiting for ${describeOperation(decision)} to end`;
          if (policy === 'terminate' && decision.terminable && terminated !== (decision.since ?? '')) {
            if (await conditionalPatch(app, { status: { operationState: { phase: 'Terminating' } } })) {
              terminated = decision.since ?? '';
              state = `terminating ${describeOperation(decision)}`;
              ctx?.log.info(`asked Argo CD to terminate ${describeOperation(decision)} of ${ref} before syncing ${wanted}`);
            }
          }
          beat();
          return;
        case 'request': {
          if (requests >= MAX_REQUESTS) {
            throw ApplicationFailure.retryable(`${ref}: the sync of ${wanted} was requested ${requests} times and each request disappeared before Argo CD took it`, 'ArgoSyncDropped');
          }
          if (requests > 0) ctx?.log.warn(`the sync request of ${wanted} for ${ref} disappeared before Argo CD took it; requesting it again`);
          clearTimeout(acceptTimer);
          acceptTimer = undefined;
          const body = { ...refreshPatch(), operation: syncOperation(app, slot, input.revision), status: { operationState: null } };
          if (await conditionalPatch(app, body)) {
            requests++;
            state = 'requested; waiting for Argo CD to take it';
          }
          return;
        }
      }
    };

    /**
     * A merge patch with the resourceVersion read as its precondition: false when the Application
     * changed meanwhile (409) — the watch brings the newer version, and it is decided on again.
     */
    const conditionalPatch = async (app: ArgoApplication, body: Record<string, unknown>): Promise<boolean> => {
      const metadata = { ...((body.metadata as Record<string, unknown>) ?? {}), resourceVersion: app.metadata.resourceVersion };
      for (let attempt = 1; ; attempt++) {
        try {
          await mergePatch(api, input, { ...body, metadata });
          return true;
        } catch (err) {
          if (statusCode(err) === 409) return false;
          const permanent = permanentFailure(err, input.app);
          if (permanent || attempt >= 5) throw permanent ?? toActivityError(err, input.app, 'syncing');
          await sleep(200 * attempt, abort.signal);
          if (settled) return false;
        }
      }
    };

    followApplication({
      kubeConfig: deps.kubeConfig,
      app: input.app,
      signal: abort.signal,
      doing: 'syncing',
      onObject(app) {
        latest = app;
        void decideLatest();
      },
      onConnection: (state) => (connection = state),
      fail: (err) => finish(() => reject(err)),
    });
  });
}
