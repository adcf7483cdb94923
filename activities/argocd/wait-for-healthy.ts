/**
 * Waiting until Argo CD reports the Application Synced and Healthy at our commit, on a watch of
 * the Application (no polling). Degraded at our commit fails at once; the deadline (counted from
 * when the activity was first scheduled, so a retry does not restart the clock) fails with what
 * was last seen. Heartbeats carry the last-seen status, so a dead worker is noticed and the
 * Temporal UI shows what the wait is waiting for.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import { waitContext } from '../activity-context.js';
import { FailureType, type ApplicationHealth, type GitTarget, type WaitHealthyInput } from '../types.js';
import type { ArgoApplication } from './application.js';
import { describeRef, permanentFailure, toActivityError } from './kube-errors.js';
import { describeSeen, judge, revisionsOf, short, type Verdict } from './judge.js';
import { watchApplication } from './watch-application.js';

export type IsAncestor = (git: GitTarget, ancestor: string, descendant: string) => Promise<boolean>;

export interface WaitDeps {
  kubeConfig: KubeConfig;
  /** Whether `descendant` contains `ancestor`; without it only the exact commit counts. */
  isAncestor?: IsAncestor;
  heartbeatIntervalMs?: number;
}

export async function waitForHealthy(deps: WaitDeps, input: WaitHealthyInput): Promise<ApplicationHealth> {
  const ctx = waitContext();
  const deadlineAt = ctx.startedAtMs + input.timeoutMs;
  const ref = describeRef(input.app);
  const abort = new AbortController();
  const ours = oursClassifier(input, deps.isAncestor);

  let lastSeen: ApplicationHealth | undefined;
  let lastReason = 'the Application was not read yet';
  let connection = 'connecting';

  return new Promise<ApplicationHealth>((resolve, reject) => {
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      abort.abort();
      clearInterval(heartbeat);
      clearTimeout(deadline);
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
          await ours.classify(revisionsOf(app.status));
          const verdict: Verdict = judge(app.status, ours.known);
          lastSeen = verdict.seen;
          if (verdict.kind === 'healthy') finish(() => resolve(verdict.seen));
          else if (verdict.kind === 'degraded') {
            finish(() =>
              reject(
                ApplicationFailure.nonRetryable(
                  `${ref} is Degraded at ${short(verdict.seen.revision)}: ${verdict.message}`,
                  FailureType.ApplicationDegraded,
                  verdict.seen,
                ),
              ),
            );
          } else {
            lastReason = verdict.reason;
          }
        }
      } catch (err) {
        finish(() => reject(err));
      } finally {
        judging = false;
      }
    };

    void watchApplication({
      kubeConfig: deps.kubeConfig,
      app: input.app,
      signal: abort.signal,
      onObject(app) {
        connection = 'watching';
        latest = app;
        void judgeLatest();
      },
      onFatal(err) {
        finish(() => reject(permanentFailure(err, input.app) ?? toActivityError(err, input.app, 'watching')));
      },
      onDisconnect(err) {
        connection = `reconnecting after: ${(err as Error)?.message ?? String(err)}`;
      },
    }).catch((err) => finish(() => reject(toActivityError(err, input.app, 'watching'))));
  });
}

/** Remembers which revisions are our commit or descend from it; asks git at most once per revision. */
function oursClassifier(input: WaitHealthyInput, isAncestor: IsAncestor | undefined) {
  const answers = new Map<string, boolean>([[input.commit, true]]);
  return {
    known: (revision: string) => answers.get(revision) === true,
    async classify(revisions: string[]) {
      for (const revision of revisions) {
        if (answers.has(revision)) continue;
        if (!isAncestor || !/^[0-9a-f]{7,64}$/i.test(revision)) {
          answers.set(revision, false);
          continue;
        }
        try {
          answers.set(revision, await isAncestor(input.git, input.commit, revision));
        } catch {
          // Git could not say (yet): not ours for now, ask again with the next status.
        }
      }
    },
  };
}
