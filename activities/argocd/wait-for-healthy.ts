/**
 * Waiting until Argo CD reports the Application Synced and Healthy at our commit, on a watch of
 * the Application (no polling). Degraded at our commit fails at once; so does a later commit
 * whose overlay no longer holds the images we wrote (Superseded); the deadline (counted from
 * when the activity was first scheduled, so a retry does not restart the clock) fails with what
 * was last seen. Heartbeats carry the last-seen status, so a dead worker is noticed and the
 * Temporal UI shows what the wait is waiting for. For a multi-source Application, the revision
 * looked at is the GitOps repository's source's.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import { currentActivity, waitContext } from '../activity-context.js';
import { DEGRADED_DETECTION, record } from '../../core/metrics.js';
import { FailureType, type ApplicationHealth, type GitTarget, type WaitHealthyInput } from '../types.js';
import type { ArgoApplication, ArgoApplicationStatus } from './application.js';
import { deletionFailure, describeRef } from './kube-errors.js';
import type { ReadOverlayAt } from '../gitops/read-at-revision.js';
import { describeSeen, judge, revisionsOf, short, type Ownership, type Verdict } from './judge.js';
import { ownershipAt } from './ownership.js';
import { gitopsSlot } from './sources.js';
import { followApplication } from './watch-application.js';

/** How long a Degraded right after a Degraded rollout must hold before it counts (see the wait). */
export const DEGRADED_CONFIRM_MS = 5_000;

export type IsAncestor = (git: GitTarget, ancestor: string, descendant: string) => Promise<boolean>;

export interface WaitDeps {
  kubeConfig: KubeConfig;
  /** Whether `descendant` contains `ancestor`; without it only the exact commit counts. */
  isAncestor?: IsAncestor;
  /** Reads the overlay at a later commit, to see whether it still holds the images the input names. */
  readOverlayAt?: ReadOverlayAt;
  heartbeatIntervalMs?: number;
}

export async function waitForHealthy(deps: WaitDeps, input: WaitHealthyInput): Promise<ApplicationHealth> {
  const ctx = waitContext();
  const deadlineAt = ctx.startedAtMs + input.timeoutMs;
  const ref = describeRef(input.app);
  if (input.images?.length && !input.overlay) {
    throw ApplicationFailure.nonRetryable(`waiting for ${ref}: the images written are given without the overlay they were written to`, FailureType.InvalidConfig);
  }
  const abort = new AbortController();
  const ours = oursClassifier(input, deps);

  let lastSeen: ApplicationHealth | undefined;
  let lastReason = 'the Application was not read yet';
  let degradedBeforeOurs: string | undefined;
  let confirming: NodeJS.Timeout | undefined;
  let latestDegraded: Extract<Verdict, { kind: 'degraded' }> | undefined;
  let connection = 'connecting';

  return new Promise<ApplicationHealth>((resolve, reject) => {
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      abort.abort();
      clearInterval(heartbeat);
      clearTimeout(deadline);
      clearTimeout(confirming);
      outcome();
    };

    const deadline = setTimeout(
      () =>
        finish(() =>
          reject(
            ApplicationFailure.nonRetryable(
              `${ref} was not Synced and Healthy at ${short(input.commit)} within ${input.timeoutMs} ms; last seen: ${describeSeen(lastSeen)} — ${lastReason}`,
              FailureType.HealthDeadlineExceeded,
              lastSeen,
            ),
          ),
        ),
      Math.max(0, deadlineAt - Date.now()),
    );
    const beat = () => ctx.heartbeat({ waitingFor: short(input.commit), seen: lastSeen, reason: lastReason, connection });
    const heartbeat = setInterval(beat, deps.heartbeatIntervalMs ?? 2000);
    beat();
    ctx.cancelled.catch((err) => finish(() => reject(err)));

    // Objects arrive faster than ancestry checks may answer: judge them one at a time, newest last.
    let latest: ArgoApplication | undefined;
    let judging = false;
    const judgeLatest = async () => {
      if (judging) return;
      judging = true;
      try {
        while (latest && !settled) {
          const app = latest;
          latest = undefined;
          const deleting = deletionFailure(app, input.app);
          if (deleting) {
            finish(() => reject(deleting));
            break;
          }
          const lookup = gitopsSlot(app.spec, input.git.url, input.overlay);
          if (!lookup.ok) {
            finish(() => reject(ApplicationFailure.nonRetryable(`${ref} cannot be judged at ${short(input.commit)}: ${lookup.problem}`, FailureType.InvalidConfig)));
            break;
          }
          await ours.classify(revisionsOf(app.status, lookup.slot));
          const verdict: Verdict = judge(app.status, ours.known, { slot: lookup.slot, operation: app.operation, degradedBeforeOurs });
          // A Degraded seen before our sync's result is in belongs to what ran before (see judge).
          if (verdict.kind === 'waiting' && verdict.seen.health === 'Degraded') degradedBeforeOurs = app.status?.health?.lastTransitionTime ?? degradedBeforeOurs;
          lastSeen = verdict.seen;
          if (verdict.kind !== 'degraded') latestDegraded = undefined;
          if (verdict.kind === 'healthy') finish(() => resolve(verdict.seen));
          else if (verdict.kind === 'superseded') {
            finish(() => reject(ApplicationFailure.nonRetryable(`${ref}: ${verdict.message}`, FailureType.Superseded, verdict.seen)));
          } else if (verdict.kind === 'degraded') {
            const fail = (v: Extract<Verdict, { kind: 'degraded' }>) =>
              finish(() => {
                const seconds = degradedDetectionSeconds(app.status?.operationState, Date.now(), ctx.startedAtMs);
                record(currentActivity()?.metricMeter, DEGRADED_DETECTION, seconds, { argocd_namespace: input.app.namespace, argocd_application: input.app.application, by: v.by });
                reject(ApplicationFailure.nonRetryable(`${ref} is Degraded at ${short(v.seen.revision)}: ${v.message}`, FailureType.ApplicationDegraded, v.seen));
              });
            // Coming from a Degraded rollout (a rollback), Argo CD can show Degraded once more at
            // our commit before the rollout settles: a Deployment rolled back from
            // ProgressDeadlineExceeded keeps that condition for a moment after the controller
            // records the new generation. Degraded must then hold a few seconds to count.
            if (verdict.by === 'sync' || degradedBeforeOurs === undefined) fail(verdict);
            else {
              lastReason = `Degraded at our commit right after a Degraded rollout: confirming for ${DEGRADED_CONFIRM_MS} ms`;
              latestDegraded = verdict;
              confirming ??= setTimeout(() => fail(latestDegraded!), DEGRADED_CONFIRM_MS);
            }
          } else {
            clearTimeout(confirming);
            confirming = undefined;
            lastReason = verdict.reason;
          }
        }
      } catch (err) {
        finish(() => reject(err));
      } finally {
        judging = false;
      }
    };

    followApplication({
      kubeConfig: deps.kubeConfig,
      app: input.app,
      signal: abort.signal,
      doing: 'watching',
      onObject(app) {
        latest = app;
        void judgeLatest();
      },
      onConnection: (state) => (connection = state),
      fail: (err) => finish(() => reject(err)),
    });
  });
}

/**
 * Seconds from the sync of our commit to the Degraded verdict, for slipway_degraded_detection_seconds:
 * from Argo CD's operation end (its start while it has none), and never from before the wait
 * began (an operation that old is not the sync this wait is about); from the wait's start when
 * the status has no operation.
 */
export function degradedDetectionSeconds(operation: ArgoApplicationStatus['operationState'], verdictAt: number, waitStartedAt: number): number {
  const synced = Date.parse(operation?.finishedAt ?? operation?.startedAt ?? '');
  const from = Number.isFinite(synced) ? Math.max(synced, waitStartedAt) : waitStartedAt;
  return Math.max(0, verdictAt - from) / 1000;
}

/**
 * Remembers what each revision is to us; asks git at most once per revision. A later commit is
 * ours when it descends from our commit and — when the input names the images we wrote — its
 * overlay still holds them.
 */
function oursClassifier(input: WaitHealthyInput, deps: WaitDeps) {
  const answers = new Map<string, Ownership>([[input.commit, 'ours']]);
  const wrote = input.images?.length ? input.images : undefined;
  return {
    known: (revision: string): Ownership => answers.get(revision) ?? 'other',
    async classify(revisions: string[]) {
      for (const revision of revisions) {
        if (answers.has(revision)) continue;
        if (!deps.isAncestor || !/^[0-9a-f]{7,64}$/i.test(revision)) {
          answers.set(revision, 'other');
          continue;
        }
        try {
          if (!(await deps.isAncestor(input.git, input.commit, revision))) {
            answers.set(revision, 'other');
            continue;
          }
          if (!wrote) {
            answers.set(revision, 'ours');
            continue;
          }
          // Without a way to read it, a later commit cannot be shown to hold our images.
          if (!deps.readOverlayAt) {
            answers.set(revision, 'other');
            continue;
          }
          const read = await deps.readOverlayAt(input.git, revision, input.overlay!);
          answers.set(revision, ownershipAt(read, wrote, revision, input.commit));
        } catch (err) {
          // A question git can never answer (a bad overlay path) ends the wait; anything else:
          // git could not say (yet), so not ours for now, and asked again with the next status.
          if (err instanceof ApplicationFailure && err.nonRetryable) throw err;
        }
      }
    },
  };
}
