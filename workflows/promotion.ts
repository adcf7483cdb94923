/**
 * One promotion of one build into one environment — the runbook:
 *   1. note the images the overlay holds now (the rollback point);
 *   2. write the new images, commit, push;
 *   3. ask Argo CD to refresh and wait until the environment is Synced and Healthy at that commit;
 *   4. run the environment's checks (soak time, HTTP probes, metric queries against Prometheus);
 * and if any step fails: write the previous images back as a new commit, wait until healthy
 * again, tell people, and fail naming the environment and the reason.
 * Compensations are kept in a list and run in reverse, as in a saga.
 */
import {
  ApplicationFailure,
  CancellationScope,
  getExternalWorkflowHandle,
  isCancellation,
  ChildWorkflowCancellationType,
  patched,
  ParentClosePolicy,
  setCurrentDetails,
  sleep,
  workflowInfo,
  type ChildWorkflowOptions,
} from '@temporalio/workflow';
import type { ApplicationHealth, CommitContext, NotificationKind } from '../activities/types.js';
import { describeImages, sameImages, type ImageSetting } from '../core/images.js';
import { formatDuration } from '../core/duration.js';
import { parseTemplate, renderTemplate, type MetricVariables } from '../core/promql-template.js';
import { buildLabel, environmentWorkflowId, shortSha } from '../core/ids.js';
import { redactUrl } from '../core/redact-url.js';
import { SA_APP, SA_ENVIRONMENT, SA_STAGE, SA_VERSION } from '../core/search-attributes.js';
import {
  gitStepOptions,
  httpCheckOptions,
  metricCheckOptions,
  notifyOptions,
  notifyQuietly,
  shortStepOptions,
  stepActivities,
  waitActivities,
  waitStepOptions,
} from './activities.js';
import { workflowNow } from './clock.js';
import { describeFailure } from './failures.js';
import { promotionProgressSignal } from './messages.js';
import { pullRequestChange, PullRequestWatch, type Merged, type PullRequestRoute } from './pull-request-merge.js';
import type { EnvironmentPhase, PromotionOutcome, PromotionRequest, PromotionWorkflowInput } from './types.js';

export interface PromotionResult {
  gitopsCommit: string;
  previousImages: ImageSetting[];
  changed: boolean;
  /** Pull-request mode: the pull request whose merge deployed it, and the images the merge holds when they differ from the request's. */
  pullRequest?: MergedPullRequest;
}

export interface MergedPullRequest {
  number: number;
  url: string;
  mergedBy?: string;
  /** Set when the merge holds other images than the promotion wrote (a person pushed to the branch): what was deployed. */
  images?: ImageSetting[];
}

/** Failure types of a pull request that did not get merged: nothing reached the base, so there is nothing to roll back or announce. */
const NOT_MERGED = new Set(['PullRequestClosed', 'PromotionSuperseded']);

/** Details attached to a failed promotion, for the environment workflow and the release. */
export interface PromotionFailureDetails {
  reason: string;
  failureType: string;
  rolledBack: boolean;
  rollbackCommit?: string;
  /** When the rollback failed: why, and its failure type (RollbackConflict: someone else changed the overlay; nothing was written). */
  rollbackError?: string;
  rollbackFailureType?: string;
}

export async function promotion({ request, running, sequence, epoch }: PromotionWorkflowInput): Promise<PromotionResult> {
  const env = request.environment;
  const owner = environmentWorkflowId(request.app, env.name);
  if (workflowInfo().parent?.workflowId !== owner) {
    // Only the environment workflow passes the gates and holds the lock; a promotion started any
    // other way (straight through the Temporal API) would skip both.
    throw ApplicationFailure.nonRetryable(`a promotion of ${request.app}/${env.name} runs only as a child of ${owner}`, 'RequestRefused');
  }
  const label = `${request.app}/${env.name}`;
  const steps = stepActivities(request.engine);
  const waits = waitActivities(request.engine, env.argocd.timeout);
  const argoApp = { application: env.argocd.application, namespace: env.argocd.namespace };
  const version = request.version ?? shortSha(request.commit);

  const tell = (phase: EnvironmentPhase, detail: string) => {
    setCurrentDetails(`**${phase}** — ${detail}`);
    void getExternalWorkflowHandle(request.replyTo)
      .signal(promotionProgressSignal, { environment: env.name, phase, detail, since: workflowNow() })
      .catch(() => undefined); // the release may be gone; the promotion goes on
  };
  const announce = (kind: NotificationKind, message: string) =>
    notifyQuietly(env.notify, { kind, app: request.app, environment: env.name, version, commit: request.commit, workflowId: request.replyTo, message }, `notify: ${kind} ${label}`);
  const reportDeployment = async (state: 'in_progress' | 'success' | 'failure', description: string) => {
    if (!request.sourceRepo) return;
    try {
      await steps.reportDeployment.executeWithOptions(
        { ...notifyOptions(), summary: `GitHub deployment ${env.name}: ${state}` },
        [{ source: request.sourceRepo, environment: env.name, commit: request.commit, state, description }],
      );
    } catch {
      /* GitHub's deployment view is informational */
    }
  };
  // Git steps heartbeat, so a worker lost mid-write is replaced within the heartbeat timeout.
  const gitOptions = patched('promotion-git-steps-heartbeat') ? gitStepOptions(request.engine) : shortStepOptions(request.engine);
  // Each write names its step, so a late attempt of it cannot land after a later step (step-fence.ts).
  const step = (phase: 'write' | 'compensation'): Pick<CommitContext, 'step'> => (epoch !== undefined ? { step: { epoch, sequence, phase } } : {});
  const commitContext = (kind: CommitContext['kind']): CommitContext => ({
    app: request.app,
    environment: env.name,
    releaseId: request.replyTo,
    version: request.version,
    sourceCommit: request.commit,
    kind,
  });
  // Health counts for this step only while the overlay still holds what it wrote; a sync goes to the
  // GitOps repository's source (multi-source Applications) and does not overwrite a running one.
  const syncAware = patched('promotion-sync-aware-argocd');
  const waitHealthy = (commit: string, why: string, images: ImageSetting[]): Promise<ApplicationHealth> =>
    waits.waitForHealthy.executeWithOptions(
      { ...waitStepOptions(request.engine, env.argocd.timeout), summary: `wait for ${env.argocd.application} Synced+Healthy at ${shortSha(commit)} (${why})` },
      [{ app: argoApp, commit, git: request.git, timeoutMs: env.argocd.timeout, ...(syncAware ? { images, overlay: env.overlay } : {}) }],
    );
  const refresh = (revision: string, purpose: 'promote' | 'rollback') =>
    steps.refreshApplication.executeWithOptions(
      { ...(syncAware ? gitOptions : shortStepOptions(request.engine)), summary: `ask Argo CD to refresh ${env.argocd.application}` },
      [
        {
          app: argoApp,
          sync: env.argocd.sync,
          revision,
          ...(syncAware ? { git: request.git, runningOperation: env.argocd.runningSync?.[purpose] ?? (purpose === 'rollback' ? 'terminate' : 'wait') } : {}),
        },
      ],
    );

  // The build on the other side of a rollback, for its commit's trailers: the one an undo puts
  // back (only when the overlay held exactly its images), the one an explicit rollback replaces.
  const build = (b: NonNullable<typeof running>) => ({ counterpart: { commit: b.commit, ...(b.version ? { version: b.version } : {}) } });
  const restoring = () => (running && sameImages(running.images, before.images) ? build(running) : {});
  const replacing = () => (request.kind === 'rollback' && running && running.commit !== request.commit ? build(running) : {});

  const before = await steps.readOverlayImages.executeWithOptions(
    { ...gitOptions, summary: `read current images of ${env.overlay} (rollback point)` },
    [{ git: request.git, overlay: env.overlay, imageNames: request.images.map((i) => i.name) }],
  );

  const compensations: Array<() => Promise<void>> = [];
  let rollbackCommit: string | undefined;
  // Whether our write is known to have landed: a rollback finding the overlay already back at the
  // rollback point after that is someone else's revert, not "nothing to undo".
  let writeLanded = false;
  // The rollback writes back whole entries, and only over what this promotion wrote (rollback-guard.ts).
  const guardedRollback = patched('promotion-rollback-exact-guarded');
  // Pull-request mode: the base takes the change only through a merged pull request (pull-request-merge.ts).
  const route = pullRequestRoute(request);
  const watch = route ? new PullRequestWatch(route, steps, shortStepOptions(request.engine), (detail) => tell('awaiting-merge', detail)) : undefined;
  /** The pull request of this promotion, once opened; and its merge, once seen. */
  let opened: { number: number; url: string } | undefined;
  let merged: Merged | undefined;
  /** What the environment runs once the gate passes: the images the overlay holds at the commit Argo CD deploys. */
  let deployedImages = request.images;
  /** Why the promotion ended, for the comment on a pull request it closes. */
  let endedBecause = '';

  /**
   * Writes `images` back through the environment's rollback route: a pull request of its own,
   * awaited like the promotion's (Slipway merges it with autoMerge), or a direct push where the
   * policy says `rollback: push`. Then waits until healthy at the commit that holds it.
   */
  const rollBackThroughPullRequest = async (r: PullRequestRoute, wrote: ImageSetting[]) => {
    tell('rolling-back', `writing back ${describeImages(before.images)}${r.options.rollback === 'push' ? '' : ' through a rollback pull request'}`);
    const input = {
      git: request.git,
      overlay: env.overlay,
      images: before.images,
      context: { ...commitContext('rollback'), undo: true, ...restoring(), ...step('compensation') },
      exact: true,
      guard: { wrote, landed: true },
    };
    if (r.options.rollback === 'push') {
      const restored = await steps.writeOverlayImages.executeWithOptions({ ...gitOptions, summary: `roll back ${env.overlay} to the previous images (rollback: push)` }, [input]);
      rollbackCommit = restored.commit;
      if (!restored.changed) return;
      await refresh(restored.commit, 'rollback');
      await waitHealthy(restored.commit, 'after rollback', before.images);
      return;
    }
    const written = await steps.writeOverlayBranch.executeWithOptions({ ...gitOptions, summary: `write the previous images of ${env.overlay} on a rollback branch` }, [input]);
    let commit = written.commit;
    if (written.on === 'branch') {
      const pr = await watch!.open(written, pullRequestChange({ app: request.app, environment: env.name, releaseId: request.replyTo, overlay: env.overlay }, { commit: request.commit, version: request.version }, 'rollback', before.images, true));
      tell('rolling-back', `rollback pull request ${pr.url} waits for its merge`);
      const outcome = await watch!.awaitMerge(pr, written.commit, false);
      if (outcome.kind !== 'merged') {
        const by = outcome.kind === 'closed' && outcome.state.closedBy ? ` by ${outcome.state.closedBy}` : '';
        throw ApplicationFailure.create({ type: 'RollbackNotMerged', nonRetryable: true, message: `the rollback pull request ${pr.url} was closed without merging${by}; ${env.name} still runs the failed build` });
      }
      commit = outcome.state.mergeCommit;
    } else if (!written.changed) {
      rollbackCommit = written.commit;
      return;
    }
    rollbackCommit = commit;
    await refresh(commit, 'rollback');
    await waitHealthy(commit, 'after rollback', before.images);
  };

  /** The promotion's write in pull-request mode: a branch, its pull request, the wait for the merge, and what the merge holds. */
  const promoteThroughPullRequest = async (r: PullRequestRoute): Promise<{ commit: string; changed: boolean; pullRequest?: MergedPullRequest }> => {
    tell('deploying', `writing ${describeImages(request.images)} to ${env.overlay} on a branch for a pull request`);
    await reportDeployment('in_progress', `deploying ${version}`);
    const written = await steps.writeOverlayBranch.executeWithOptions(
      { ...gitOptions, summary: `write ${version} images to ${env.overlay} on a branch, commit and push it` },
      [{ git: request.git, overlay: env.overlay, images: request.images, context: { ...commitContext(request.kind), ...replacing(), ...step('write') } }],
    );
    if (written.on === 'base') {
      // The base holds the write already (nothing to change, or an earlier attempt's pull request was merged).
      writeLanded = written.changed || written.recovered;
      return { commit: written.commit, changed: written.changed };
    }
    const pr = await watch!.open(written, pullRequestChange({ app: request.app, environment: env.name, releaseId: request.replyTo, overlay: env.overlay }, { commit: request.commit, version: request.version }, request.kind, request.images));
    opened = { number: pr.number, url: pr.url };
    const asked = pr.problems.length ? `; not granted: ${pr.problems.join('; ')}` : '';
    tell('awaiting-merge', `${pr.url} (${written.branch} → ${written.base}) waits for its merge${r.options.autoMerge ? '; Slipway merges it once GitHub lets it' : ''}${asked}`);
    const outcome = await watch!.awaitMerge(pr, written.commit, true);
    if (outcome.kind === 'closed') {
      const by = outcome.state.closedBy;
      throw ApplicationFailure.create({
        type: 'PullRequestClosed',
        nonRetryable: true,
        message: `pull request ${pr.url} was closed without merging${by ? ` by ${by}` : ''}; nothing reached ${written.base}`,
        details: [{ closedBy: by ?? 'someone on GitHub', number: pr.number, url: pr.url }],
      });
    }
    if (outcome.kind === 'superseded') {
      throw ApplicationFailure.create({
        type: 'PromotionSuperseded',
        nonRetryable: true,
        message: `superseded by ${outcome.by} (${outcome.build}) while pull request ${pr.url} waited; it was closed without merging`,
        details: [{ by: outcome.by, number: pr.number, url: pr.url }],
      });
    }
    merged = outcome.state;
    writeLanded = true;
    // A squash or a merge queue makes a commit Slipway did not write, and a person may have pushed
    // to the branch: the gate waits on what the merge holds, and the environment records that.
    const atMerge = await steps.readOverlayAtCommit.executeWithOptions(
      { ...gitOptions, summary: `read ${env.overlay} at the merge commit ${shortSha(merged.mergeCommit)}` },
      [{ git: request.git, overlay: env.overlay, imageNames: request.images.map((i) => i.name), commit: merged.mergeCommit }],
    );
    const changedOnBranch = !sameImages(atMerge.images, request.images);
    if (changedOnBranch) deployedImages = atMerge.images;
    tell('deploying', `merged #${pr.number}${merged.mergedBy ? ` by ${merged.mergedBy}` : ''} at ${shortSha(merged.mergeCommit)}${changedOnBranch ? `, with changes pushed to the branch: ${describeImages(atMerge.images)}` : ''}`);
    return {
      commit: merged.mergeCommit,
      changed: true,
      pullRequest: { number: pr.number, url: pr.url, ...(merged.mergedBy ? { mergedBy: merged.mergedBy } : {}), ...(changedOnBranch ? { images: atMerge.images } : {}) },
    };
  };

  try {
    let deployed: { commit: string; changed: boolean; pullRequest?: MergedPullRequest };
    if (route) {
      // Registered before the branch is written. A pull request not (known to be) merged is closed,
      // saying why; one that was merged after all, or a write the base already held, is rolled back
      // through the environment's rollback route.
      compensations.push(async () => {
        if (opened && !merged) {
          const after = await watch!.withdraw(opened, `The promotion of ${request.app} ${version} to ${env.name} ended: ${endedBecause}`);
          if (after.state !== 'merged') return;
          merged = after;
          writeLanded = true;
        }
        if (!writeLanded) return;
        await rollBackThroughPullRequest(route, deployedImages);
      });
      deployed = await promoteThroughPullRequest(route);
    } else {
      // Registered before the write: if the write lands and the worker dies before recording it,
      // the rollback still restores the previous images (and is a no-op when nothing changed).
      compensations.push(async () => {
        tell('rolling-back', `writing back ${describeImages(before.images)}`);
        const restored = await steps.writeOverlayImages.executeWithOptions(
          { ...gitOptions, summary: `roll back ${env.overlay} to the previous images` },
          [
            {
              git: request.git,
              overlay: env.overlay,
              images: before.images,
              context: { ...commitContext('rollback'), undo: true, ...restoring(), ...step('compensation') },
              ...(guardedRollback ? { exact: true, guard: { wrote: request.images, landed: writeLanded } } : {}),
            },
          ],
        );
        rollbackCommit = restored.commit;
        if (!restored.changed) return;
        await refresh(restored.commit, 'rollback');
        await waitHealthy(restored.commit, 'after rollback', before.images);
      });

      tell('deploying', `writing ${describeImages(request.images)} to ${env.overlay}`);
      await reportDeployment('in_progress', `deploying ${version}`);
      const written = await steps.writeOverlayImages.executeWithOptions(
        { ...gitOptions, summary: `write ${version} images to ${env.overlay}, commit and push` },
        [{ git: request.git, overlay: env.overlay, images: request.images, context: { ...commitContext(request.kind), ...replacing(), ...step('write') } }],
      );
      writeLanded = written.changed;
      deployed = written;
    }
    await refresh(deployed.commit, 'promote');
    tell('waiting-health', `Argo CD ${env.argocd.application} Synced+Healthy at ${shortSha(deployed.commit)}`);
    await waitHealthy(deployed.commit, `${version} in ${env.name}`, deployedImages);

    for (const check of env.checks) {
      if ('soak' in check) {
        tell('checking', `soak for ${formatDuration(check.soak)}`);
        await sleep(check.soak);
      } else if ('metric' in check) {
        // Behind a marker like every change here; no earlier history can reach this branch (slipway.yaml had no metric checks).
        if (patched('promotion-metric-checks')) {
          const metric = check.metric;
          // The release's values for the query's {{variables}}; the previous build is what the environment ran before this one.
          const variables: MetricVariables = {
            app: request.app,
            environment: env.name,
            version,
            commit: request.commit,
            ...(env.namespace ? { namespace: env.namespace } : {}),
            ...(running ? { previousCommit: running.commit, previousVersion: running.version ?? shortSha(running.commit) } : {}),
          };
          const template = parseTemplate(metric.query);
          const rendered = 'parts' in template ? renderTemplate(template.parts, variables) : undefined;
          const shownQuery = (rendered && 'query' in rendered ? rendered.query : metric.query).slice(0, 300);
          const what = `${metric.name ?? 'metric'} ${metric.condition} every ${formatDuration(metric.interval)} for ${formatDuration(metric.for)}`;
          tell('checking', `${what} (${redactUrl(metric.prometheus)})`);
          await waits.metricCheck.executeWithOptions(
            { ...metricCheckOptions(metric, request.engine), summary: `check ${what}: ${shownQuery}` },
            [
              {
                ...(metric.name ? { name: metric.name } : {}),
                prometheus: metric.prometheus,
                ...(metric.tokenFromEnv ? { tokenFromEnv: metric.tokenFromEnv } : {}),
                query: metric.query,
                variables,
                condition: metric.condition,
                intervalMs: metric.interval,
                forMs: metric.for,
                failuresAllowed: metric.failuresAllowed,
                noData: metric.noData,
                timeoutMs: metric.timeout,
                unavailableAllowed: metric.unavailableAllowed,
              },
            ],
          );
        }
      } else {
        // What is shown in the UI and kept in history (progress, summary): credentials in the URL stay out of it.
        const shownUrl = patched('promotion-check-summary-redacted') ? redactUrl(check.http.url) : check.http.url;
        tell('checking', `HTTP ${shownUrl} → ${check.http.expectStatus}`);
        await waits.httpCheck.executeWithOptions(
          { ...httpCheckOptions(check.http), summary: `check ${shownUrl} answers ${check.http.expectStatus}` },
          [{ url: check.http.url, expectStatus: check.http.expectStatus, timeoutMs: check.http.timeout, attempts: check.http.attempts, intervalMs: check.http.interval }],
        );
      }
    }

    tell('promoted', `${version} healthy in ${env.name} at ${shortSha(deployed.commit)}`);
    await reportDeployment('success', `${version} is live`);
    await announce('promoted', `${request.app} ${version} is live in ${env.name}`);
    return { gitopsCommit: deployed.commit, previousImages: before.images, changed: deployed.changed, ...(deployed.pullRequest ? { pullRequest: deployed.pullRequest } : {}) };
  } catch (err) {
    const failure = describeFailure(err);
    let rolledBack = true;
    let rollbackError: string | undefined;
    let rollbackFailureType: string | undefined;
    endedBecause = isCancellation(err) ? 'it was cancelled' : failure.reason;
    if (route && NOT_MERGED.has(failure.type)) {
      // Closed or superseded: the pull request is closed already and nothing reached the base.
      await CancellationScope.nonCancellable(() => reportDeployment('failure', failure.reason.slice(0, 140)));
      throw ApplicationFailure.create({ type: failure.type, nonRetryable: true, message: `${env.name}: ${failure.reason}`, details: failure.details === undefined ? [] : [failure.details] });
    }
    await CancellationScope.nonCancellable(async () => {
      for (const compensate of compensations.reverse()) {
        try {
          await compensate();
        } catch (compensationErr) {
          rolledBack = false;
          ({ reason: rollbackError, type: rollbackFailureType } = describeFailure(compensationErr));
        }
      }
      await reportDeployment('failure', failure.reason.slice(0, 140));
      await announce(
        rolledBack ? 'rolled-back' : 'promotion-failed',
        rolledBack
          ? `${request.app} ${version} failed in ${env.name} and was rolled back: ${failure.reason}`
          : `${request.app} ${version} failed in ${env.name} and the rollback failed too: ${rollbackError}`,
      );
    });
    if (isCancellation(err)) throw err;
    const details: PromotionFailureDetails = {
      reason: failure.reason,
      failureType: failure.type,
      rolledBack,
      rollbackCommit,
      ...(rolledBack ? {} : { rollbackError, rollbackFailureType }),
    };
    throw ApplicationFailure.create({
      type: 'PromotionFailed',
      nonRetryable: true,
      message: `${env.name}: ${failure.reason}${rolledBack ? ' — rolled back' : ` — rollback failed: ${rollbackError}`}`,
      details: [details],
    });
  }
}

/** How the environment workflow starts a promotion: its id, its place in the UI, cancelled with its parent. */
export function promotionChild(
  request: PromotionRequest,
  sequence: number,
  workflowId: string,
  /** Shown in the Temporal UI with the promotion: the policy version and who approved it. */
  memo: { policyVersion?: string; approvedBy?: string },
  running?: PromotionWorkflowInput['running'],
): Omit<ChildWorkflowOptions, 'typeInfo'> & { args: [PromotionWorkflowInput] } {
  // The run chain's first run id orders this promotion's writes among the environment's steps.
  const epoch = patched('environment-fenced-writes') ? { epoch: workflowInfo().firstExecutionRunId } : {};
  return {
    workflowId,
    ...(memo.policyVersion || memo.approvedBy ? { memo } : {}),
    args: [{ request, sequence, ...epoch, ...(running ? { running } : {}) }],
    taskQueue: workflowInfo().taskQueue,
    cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
    parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
    staticSummary: `${request.kind} ${request.app} ${buildLabel(request)} to ${request.environment.name}`,
    typedSearchAttributes: [
      { key: SA_APP, value: request.app },
      { key: SA_ENVIRONMENT, value: request.environment.name },
      { key: SA_VERSION, value: request.version ?? shortSha(request.commit) },
      { key: SA_STAGE, value: request.kind },
    ],
  };
}

/** A failed promotion as the environment records it: the reason and whether it was rolled back. */
export function failedOutcome(err: unknown): PromotionOutcome {
  const failure = describeFailure(err);
  // Pull-request mode: a pull request closed unmerged is a person's no; a newer request replaced it.
  if (failure.type === 'PullRequestClosed') {
    const closed = failure.details as { closedBy?: string } | undefined;
    return { outcome: 'rejected', by: closed?.closedBy ?? 'someone on GitHub', reason: failure.reason };
  }
  if (failure.type === 'PromotionSuperseded') {
    const by = (failure.details as { by?: string } | undefined)?.by;
    if (by) return { outcome: 'superseded', by };
  }
  const details = failure.details as PromotionFailureDetails | undefined;
  return {
    outcome: 'failed',
    reason: details?.reason ?? failure.reason,
    failureType: details?.failureType ?? failure.type,
    rolledBack: details?.rolledBack ?? false,
    rollbackCommit: details?.rollbackCommit,
  };
}

/**
 * The pull-request route of an environment in pull-request mode (its policy's `write:`), or
 * undefined for a direct push. Behind a marker: no earlier history took this path.
 */
function pullRequestRoute(request: PromotionRequest): PullRequestRoute | undefined {
  const write = request.environment.write;
  if (typeof write !== 'object' || !patched('promotion-pull-request-mode')) return undefined;
  const repo = request.git.github;
  const tokenFromEnv = request.git.githubTokenFromEnv ?? request.git.tokenFromEnv;
  if (!repo || !tokenFromEnv) {
    // The policy's own validation refuses this; a request from elsewhere is refused, not pushed.
    throw ApplicationFailure.nonRetryable(`${request.environment.name} is in pull-request mode, but the GitOps repository on GitHub or its token variable is not known`, 'RequestRefused');
  }
  return { repo, tokenFromEnv, git: request.git, options: write.pullRequest };
}
