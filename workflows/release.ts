/**
 * A release carries one build of an app through its environments — the runbook:
 *   build → promote each environment in order (staging runs its checks: that is validation)
 *   → tag the release → promote production (after approval, outside freeze windows).
 * Each environment is owned by its environment workflow; the release asks it to promote and waits
 * for the answer, so two releases never deploy to one environment at once. The first environment
 * that fails (and is rolled back there) ends the release as failed, naming it and the reason.
 */
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ControlActivities, NotificationKind, PromotionDelivered } from '../activities/types.js';
import { environmentWorkflowId, shortSha } from '../core/ids.js';
import { imagesForCommit } from '../core/images.js';
import { SA_APP, SA_ENVIRONMENT, SA_STAGE, SA_VERSION } from '../core/search-attributes.js';
import { tagName } from '../core/version.js';
import { controlStepOptions, notifyQuietly, shortStepOptions, stepActivities, waitActivities, waitStepOptions } from './activities.js';
import { workflowNow } from './clock.js';
import { describeFailure } from './failures.js';
import { firstEnvironmentToRun, releasePolicy } from './policy.js';
import { promotionFinishedSignal, promotionProgressSignal, releaseStatusQuery, withdrawRequestSignal } from './messages.js';
import type { EnvironmentProgress, PromotionReply, ReleaseInput, ReleaseResult, ReleaseStage, ReleaseStatus } from './types.js';

/** Versioning: from here on the release reads its pipeline from the worker's policy. */
const PATCH_POLICY_FROM_WORKER = 'release-policy-from-worker';
/** Versioning: a release that starts at a later environment first runs those its build has not passed. */
const PATCH_RUN_EARLIER_FIRST = 'release-run-earlier-environments-first';
/** Versioning: the release names its tag in its memo before creating it. */
const PATCH_TAG_IN_MEMO = 'release-tag-in-memo';
/** Versioning: requests carry the release's start time, by which environments tell the newer release. */
const PATCH_REQUEST_CARRIES_START = 'release-request-carries-start-time';
/** Versioning: an answer counts only for the request it answers (its request id), not for its environment alone. */
const PATCH_REPLIES_MATCHED = 'release-replies-matched-to-request';
/**
 * Versioning: a cancelled release withdraws its request through signal-with-start, so the
 * withdrawal reaches an environment workflow that its request (still on its way) has not started yet.
 */
const PATCH_WITHDRAW_WITH_START = 'release-withdraw-with-start';
/**
 * Versioning: a release waiting for an environment's answer checks now and then that the
 * environment workflow that took its request still runs, and fails naming it when it is gone.
 */
const PATCH_NOTICE_ENVIRONMENT_GONE = 'release-notices-environment-gone';
/** How often, unless the worker's policy says otherwise (engine.livenessCheck). */
const LIVENESS_CHECK_DEFAULT_MS = 5 * 60_000;
const LIVENESS_CHECK_MIN_MS = 1_000;
/**
 * The checks space out (doubling) up to this, so a release waiting a day on an approval adds a
 * few dozen events to its history, not a few hundred.
 */
const LIVENESS_CHECK_MAX_MS = 60 * 60_000;
/** Versioning: a release started by a pushed tag names the tag in its requests (environments never take those to a lower version). */
const PATCH_REQUEST_NAMES_PUSHED_TAG = 'release-request-names-pushed-tag';
/** Versioning: a command build is given the variables the policy names for it (it sees no other of the worker's). */
const PATCH_BUILD_ENV_FROM_POLICY = 'release-build-env-from-policy';

export async function release(input: ReleaseInput): Promise<ReleaseResult> {
  const { commit } = input;
  const { pipeline, policy } = patched(PATCH_POLICY_FROM_WORKER) ? await releasePolicy(input.app) : { pipeline: input.pipeline!, policy: undefined };
  if (policy) upsertMemo({ policy });
  if (policy && input.kind !== undefined && input.kind !== 'promote' && input.kind !== 'rollback') {
    throw ApplicationFailure.nonRetryable(`a release is a promote or a rollback, not "${String(input.kind)}"`, 'RequestRefused');
  }
  const appConfig = pipeline.appConfig;
  const releaseId = workflowInfo().workflowId;
  const steps = stepActivities(pipeline.engine);
  const source = appConfig.source ? { repo: appConfig.source.github, tokenFromEnv: appConfig.source.tokenFromEnv } : undefined;
  let version = input.version;

  let startIndex = input.startAt ? appConfig.environments.findIndex((e) => e.name === input.startAt) : 0;
  if (startIndex > 0 && policy && (input.kind ?? 'promote') === 'promote' && !input.only && !input.override && patched(PATCH_RUN_EARLIER_FIRST)) {
    // A build asked straight into a later environment (a pushed tag) must have passed the one before.
    startIndex = await firstEnvironmentToRun(pipeline, commit, startIndex);
  }
  if (startIndex < 0) {
    throw ApplicationFailure.nonRetryable(`${pipeline.app} has no environment "${input.startAt}"${policy ? ` in the policy (${policy.source})` : ''}`, policy ? 'RequestRefused' : 'InvalidConfig');
  }
  const environments = appConfig.environments.slice(startIndex, input.only ? startIndex + 1 : undefined);
  const tagBefore = input.skipTag || !source
    ? undefined
    : appConfig.tag.before ?? (environments.length >= 2 ? environments[environments.length - 1]!.name : undefined);
  const buildKind = input.skipBuild || appConfig.build === 'none' ? undefined : 'githubActions' in appConfig.build ? 'githubActions' : 'command';

  const status: ReleaseStatus = {
    releaseId,
    app: pipeline.app,
    commit,
    version,
    stage: 'starting',
    since: workflowNow(),
    ...(policy ? { policy } : {}),
    environments: appConfig.environments.map((e): EnvironmentProgress => ({
      environment: e.name,
      phase: environments.includes(e) ? 'pending' : 'skipped',
      since: workflowNow(),
    })),
    steps: [
      { name: 'build', state: buildKind ? 'pending' : 'skipped' },
      ...environments.flatMap((e) => [
        ...(e.name === tagBefore ? [{ name: 'tag', state: 'pending' as const }] : []),
        { name: e.name, state: 'pending' as const },
      ]),
    ],
  };
  const replies = new Map<string, PromotionReply>();

  let awaiting: { environment: string; requestId: string } | undefined;
  /**
   * Whether a message is about the request this release waits on. Anyone who reaches the Temporal
   * API can signal a release, and an environment may answer late: an answer (or progress) naming
   * another request, or an environment not asked now, must not end or skip an environment.
   */
  const answersOurs = (m: { environment: string; requestId?: string }) =>
    awaiting !== undefined && m.environment === awaiting.environment && m.requestId === awaiting.requestId;
  // Decided once per run, before any message can arrive, so both handlers agree.
  const matchReplies = patched(PATCH_REPLIES_MATCHED);

  setHandler(releaseStatusQuery, () => status);
  setHandler(promotionProgressSignal, (p) => {
    const env = status.environments.find((e) => e.environment === p.environment);
    if (!env || replies.has(p.environment)) return; // late progress after the answer changes nothing
    // Progress from the promotion itself names no request; what names one must name ours.
    if (p.requestId !== undefined && !answersOurs(p) && matchReplies) return;
    Object.assign(env, p);
    if (status.stage === `promoting:${p.environment}`) waitFor(`${p.environment}: ${p.phase}${p.detail ? ` — ${p.detail}` : ''}`, p.since);
  });
  setHandler(promotionFinishedSignal, (r) => {
    if (!answersOurs(r) && matchReplies) return;
    replies.set(r.environment, r);
  });

  upsertSearchAttributes([
    { key: SA_APP, value: pipeline.app },
    { key: SA_VERSION, value: version ?? shortSha(commit) },
    { key: SA_STAGE, value: 'starting' },
  ]);

  try {
    if (buildKind) {
      enter('building', 'build', `build of ${shortSha(commit)}`);
      const build = appConfig.build as Exclude<typeof appConfig.build, 'none'>;
      const timeout = 'githubActions' in build ? build.githubActions.timeout : build.timeout;
      const waits = waitActivities(pipeline.engine, timeout);
      const result =
        'githubActions' in build
          ? await waits.triggerBuild.executeWithOptions(
              { ...waitStepOptions(pipeline.engine, timeout), summary: `build ${shortSha(commit)} with GitHub Actions ${build.githubActions.workflow}` },
              [{ source: source!, workflow: build.githubActions.workflow, ref: build.githubActions.ref, commit, timeoutMs: timeout }],
            )
          : await waits.runBuildCommand.executeWithOptions(
              { ...waitStepOptions(pipeline.engine, timeout), summary: `build ${shortSha(commit)}: ${build.command}` },
              [{ command: build.command, commit, app: pipeline.app, timeoutMs: timeout, ...(patched(PATCH_BUILD_ENV_FROM_POLICY) ? { env: build.env ?? [] } : {}) }],
            );
      done('build', result.url);
    }

    const images = imagesForCommit(appConfig.images, commit);
    for (const env of environments) {
      if (env.name === tagBefore) {
        enter('tagging', 'tag', 'release tag');
        version ??= await steps.nextVersion.executeWithOptions(
          { ...shortStepOptions(pipeline.engine), summary: `find the next version of ${pipeline.app}` },
          [{ source: source!, format: appConfig.tag.format }],
        );
        const tag = tagName(appConfig.tag.format, version);
        // Said before the tag exists, so the webhook can tell the push of our own tag from a person's.
        if (policy && patched(PATCH_TAG_IN_MEMO)) upsertMemo({ tag });
        await steps.createReleaseTag.executeWithOptions(
          { ...shortStepOptions(pipeline.engine), summary: `tag ${shortSha(commit)} as ${tag}` },
          [{ source: source!, tag, commit, message: `${pipeline.app} ${version}: validated in ${passedEnvironments().join(', ') || 'no environment'} by ${releaseId}` }],
        );
        status.version = version;
        upsertSearchAttributes([{ key: SA_VERSION, value: version }]);
        done('tag', tag);
      }

      const requestId = `${releaseId}#${env.name}`;
      enter(`promoting:${env.name}`, env.name, `${env.name}: queued`);
      Object.assign(status.environments.find((e) => e.environment === env.name)!, { phase: 'queued', since: workflowNow() });
      upsertSearchAttributes([{ key: SA_ENVIRONMENT, value: env.name }]);
      awaiting = { environment: env.name, requestId };
      const delivered = await steps.requestPromotion.executeWithOptions(
        { ...controlStepOptions(), summary: `ask ${environmentWorkflowId(pipeline.app, env.name)} to promote ${version ?? shortSha(commit)}` },
        [{
          requestId,
          replyTo: releaseId,
          app: pipeline.app,
          environment: env,
          git: pipeline.git,
          engine: pipeline.engine,
          sourceRepo: source,
          images,
          commit,
          version,
          requestedAt: workflowNow(),
          ...(patched(PATCH_REQUEST_CARRIES_START) ? { releaseStartedAt: workflowInfo().startTime.getTime() } : {}),
          kind: input.kind ?? 'promote',
          ...(policy ? { policyVersion: policy.version } : {}),
          ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
          ...(input.override ? { override: input.override } : {}),
          ...(typeof input.pushedTag === 'string' && patched(PATCH_REQUEST_NAMES_PUSHED_TAG) ? { pushedTag: input.pushedTag } : {}),
        }],
      );
      if (patched(PATCH_NOTICE_ENVIRONMENT_GONE)) await replyOrEnvironmentGone(env.name, delivered || undefined);
      else await condition(() => replies.has(env.name));
      awaiting = undefined;
      const reply = replies.get(env.name)!;
      const progress = status.environments.find((e) => e.environment === env.name)!;

      switch (reply.outcome) {
        case 'promoted':
          Object.assign(progress, {
            phase: 'promoted',
            detail: reply.alreadyDeployed
              ? 'already running this build'
              : `at ${shortSha(reply.gitopsCommit)}${reply.pullRequest ? ` (merged #${reply.pullRequest.number}${reply.pullRequest.mergedBy ? ` by ${reply.pullRequest.mergedBy}` : ''}${reply.images ? ', with changes pushed to its branch' : ''})` : ''}`,
            since: workflowNow(),
          });
          done(env.name, reply.gitopsCommit);
          break;
        case 'superseded': {
          Object.assign(progress, { phase: 'superseded', detail: `by ${reply.by}`, since: workflowNow() });
          fail(env.name, `superseded by ${reply.by}`);
          setStage('superseded', `superseded in ${env.name} by ${reply.by}`);
          const result = resultOf('superseded', reply.by);
          status.outcome = result;
          return result;
        }
        case 'failed':
          Object.assign(progress, { phase: 'failed', detail: reply.reason, since: workflowNow() });
          fail(env.name, reply.reason);
          throw ApplicationFailure.create({
            type: 'ReleaseFailed',
            nonRetryable: true,
            message: `${env.name}: ${reply.reason}${reply.rolledBack ? ` (rolled back${reply.rollbackCommit ? ` at ${shortSha(reply.rollbackCommit)}` : ''})` : ' (ROLLBACK FAILED: the environment needs attention)'}`,
            details: [reply],
          });
        case 'rejected':
          Object.assign(progress, { phase: 'rejected', detail: `by ${reply.by}`, since: workflowNow() });
          fail(env.name, `rejected by ${reply.by}`);
          throw ApplicationFailure.create({
            type: 'ApprovalRejected',
            nonRetryable: true,
            message: `${env.name}: promotion rejected by ${reply.by}${reply.reason ? `: ${reply.reason}` : ''}`,
          });
        case 'approval-timed-out':
          Object.assign(progress, { phase: 'approval-timed-out', since: workflowNow() });
          fail(env.name, 'no approval before the deadline');
          throw ApplicationFailure.create({
            type: 'ApprovalTimedOut',
            nonRetryable: true,
            message: `${env.name}: no approval within ${Math.round(reply.after / 1000)}s; nothing was promoted there`,
          });
        case 'cancelled':
          Object.assign(progress, { phase: 'cancelled', since: workflowNow() });
          throw ApplicationFailure.create({ type: 'PromotionCancelled', nonRetryable: true, message: `${env.name}: the promotion was cancelled` });
        case 'refused':
          Object.assign(progress, { phase: 'refused', detail: reply.reason, since: workflowNow() });
          fail(env.name, reply.reason);
          throw ApplicationFailure.create({ type: 'RequestRefused', nonRetryable: true, message: `${env.name}: ${reply.reason}; nothing was promoted there` });
      }
    }

    setStage('released', `${version ?? shortSha(commit)} released to ${environments.map((e) => e.name).join(', ')}`);
    const result = resultOf('released');
    status.outcome = result;
    await announce('release-succeeded', `${pipeline.app} ${version ?? shortSha(commit)} released to ${environments.map((e) => e.name).join(', ')}`);
    return result;
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(async () => {
        if (awaiting && patched(PATCH_WITHDRAW_WITH_START)) {
          // Withdraw our request: a queued one is dropped, one in flight is cancelled and rolled back,
          // one still on its way (the cancelled activity may yet deliver it) finds the withdrawal first.
          await proxyActivities<ControlActivities>(controlStepOptions())
            .withdrawPromotion.executeWithOptions(
              { ...controlStepOptions(), summary: `withdraw the request to promote ${version ?? shortSha(commit)} from ${environmentWorkflowId(pipeline.app, awaiting.environment)}` },
              [{ app: pipeline.app, environment: awaiting.environment, requestId: awaiting.requestId }],
            )
            .catch(() => undefined);
        } else if (awaiting) {
          await getExternalWorkflowHandle(environmentWorkflowId(pipeline.app, awaiting.environment))
            .signal(withdrawRequestSignal, { requestId: awaiting.requestId })
            .catch(() => undefined);
        }
        setStage('cancelled', 'cancelled by request');
      });
      throw err;
    }
    const failure = describeFailure(err);
    const current = status.steps.find((s) => s.state === 'running');
    if (current) fail(current.name, failure.reason);
    setStage('failed', failure.reason);
    await announce('release-failed', `${pipeline.app} ${version ?? shortSha(commit)} failed — ${failure.reason}`);
    throw err;
  }

  // ------------------------------------------------------------------ helpers

  /**
   * Waits for the environment's answer, however long its gates take, while checking (first after
   * `engine.livenessCheck`, then at doubling intervals up to an hour) that the environment workflow which took the request still runs: one
   * that was terminated, cancelled or failed will never answer. The interval is the worker's
   * policy's, never the request's (a release without a policy from the worker uses the default).
   */
  async function replyOrEnvironmentGone(environment: string, delivered: PromotionDelivered | undefined): Promise<void> {
    const every = Math.max(LIVENESS_CHECK_MIN_MS, (policy ? pipeline.engine.livenessCheck : undefined) ?? LIVENESS_CHECK_DEFAULT_MS);
    const workflowId = environmentWorkflowId(pipeline.app, environment);
    let wait = every;
    while (!(await condition(() => replies.has(environment), wait))) {
      wait = Math.min(wait * 2, Math.max(every, LIVENESS_CHECK_MAX_MS));
      let liveness;
      try {
        liveness = await steps.environmentAlive.executeWithOptions(
          { ...controlStepOptions(), summary: `check that ${workflowId} still runs and can answer` },
          [{ app: pipeline.app, environment, ...(delivered?.runId ? { runId: delivered.runId } : {}) }],
        );
      } catch (err) {
        if (isCancellation(err)) throw err;
        continue; // not knowing is no reason to give up a wait: ask again next time
      }
      // An answer that came in while asking counts; the environment may end right after sending it.
      if (liveness.alive || replies.has(environment)) continue;
      Object.assign(status.environments.find((e) => e.environment === environment)!, { phase: 'failed', detail: liveness.reason, since: workflowNow() });
      fail(environment, liveness.reason);
      throw ApplicationFailure.create({
        type: 'EnvironmentGone',
        nonRetryable: true,
        message: `${environment}: ${liveness.reason} while this release waited for its answer, so no answer will come; see ${environment}'s overlay for what runs there`,
      });
    }
  }

  function enter(stage: ReleaseStage, step: string, waitingFor: string): void {
    const s = status.steps.find((x) => x.name === step);
    if (s) s.state = 'running';
    setStage(stage, waitingFor);
  }

  function done(step: string, detail?: string): void {
    const s = status.steps.find((x) => x.name === step);
    if (s) Object.assign(s, { state: 'done', detail });
  }

  function fail(step: string, detail: string): void {
    const s = status.steps.find((x) => x.name === step);
    if (s) Object.assign(s, { state: 'failed', detail });
  }

  function setStage(stage: ReleaseStage, waitingFor: string): void {
    status.stage = stage;
    upsertSearchAttributes([{ key: SA_STAGE, value: stage }]);
    waitFor(waitingFor, workflowNow());
  }

  function waitFor(what: string, since: number): void {
    status.waitingFor = what;
    status.since = since;
    setCurrentDetails(`**${status.stage}** — ${what}`);
  }

  function passedEnvironments(): string[] {
    return status.environments.filter((e) => e.phase === 'promoted').map((e) => e.environment);
  }

  function resultOf(outcome: ReleaseResult['outcome'], supersededBy?: string): ReleaseResult {
    return {
      outcome,
      releaseId,
      version,
      tag: version && tagBefore ? tagName(appConfig.tag.format, version) : undefined,
      supersededBy,
      ...(policy ? { policy } : {}),
      environments: Object.fromEntries(
        status.environments.map((e) => {
          const r = replies.get(e.environment);
          const merged = r?.outcome === 'promoted' && r.pullRequest ? { pullRequest: r.pullRequest, ...(r.images ? { images: r.images } : {}) } : {};
          return [e.environment, { phase: e.phase, gitopsCommit: r?.outcome === 'promoted' ? r.gitopsCommit : undefined, ...merged }];
        }),
      ),
    };
  }

  async function announce(kind: NotificationKind, message: string): Promise<void> {
    const last = [...appConfig.environments].reverse().find((e) => replies.has(e.name)) ?? appConfig.environments.at(-1)!;
    await notifyQuietly(last.notify, { kind, app: pipeline.app, environment: last.name, version, commit, workflowId: releaseId, message }, `notify: ${kind}`);
  }
}

