/**
 * The owner of one environment of one app (`env/todoapp/production`), long-lived.
 * It is the lock — at most one promotion in flight, because there is one workflow per environment —
 * and the queue: one request may wait behind the one in flight, and a newer request replaces it
 * (the older one ends visibly as superseded). Before deploying it waits out freeze windows and
 * asks for approval where the environment requires it, then runs the promotion as a child
 * workflow. It remembers what runs there and the last deployments, and continues as new to keep
 * its history short.
 */
import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { activeFreeze } from '../core/freeze.js';
import { formatDuration } from '../core/duration.js';
import { promotionWorkflowId, shortSha } from '../core/ids.js';
import { SA_APP, SA_ENVIRONMENT, SA_STAGE, SA_VERSION } from '../core/search-attributes.js';
import { notifyQuietly } from './activities.js';
import { workflowNow } from './clock.js';
import { describeFailure } from './failures.js';
import {
  approveSignal,
  approveUpdate,
  environmentStateQuery,
  promotionFinishedSignal,
  promotionProgressSignal,
  rejectSignal,
  rejectUpdate,
  requestPromotionSignal,
  withdrawRequestSignal,
} from './messages.js';
import { promotion, type PromotionFailureDetails } from './promotion.js';
import type {
  ApprovalDecision,
  Deployment,
  DeploymentRecord,
  EnvironmentPhase,
  EnvironmentState,
  EnvironmentWorkflowInput,
  PromotionOutcome,
  PromotionReply,
  PromotionRequest,
  QueuedRequestView,
} from './types.js';

const RECENT_KEPT = 20;

interface Gate {
  phase: EnvironmentPhase;
  detail?: string;
  since: number;
}

export async function environment(input: EnvironmentWorkflowInput): Promise<void> {
  const { app, environment: envName } = input;
  let current: Deployment | undefined = input.carried?.current;
  const recent: DeploymentRecord[] = [...(input.carried?.recent ?? [])];
  /** pending[0] is in flight (gates or promotion); pending[1], if any, waits behind it. */
  const pending: PromotionRequest[] = [...(input.carried?.pending ?? [])];
  /** Requests for the same build as one already pending: they get the same answer. */
  const followers = new Map<string, PromotionRequest[]>(Object.entries(input.carried?.followers ?? {}));
  const withdrawn = new Set<string>();
  let sequence = input.carried?.sequence ?? 0;
  let promotionsThisRun = 0;
  let gate: Gate | undefined;
  let decision: (ApprovalDecision & { approved: boolean }) | undefined;
  let inFlightScope: CancellationScope | undefined;
  let lastRequest: PromotionRequest | undefined;
  /**
   * Signals sent and not yet acknowledged. The server drops a signal whose sender has closed, so
   * continue-as-new waits for these: a reply sent in the same task would otherwise be lost and
   * its release would wait for ever.
   */
  let unsentSignals = 0;

  upsertSearchAttributes([
    { key: SA_APP, value: app },
    { key: SA_ENVIRONMENT, value: envName },
    { key: SA_STAGE, value: 'idle' },
    ...(current?.version ? [{ key: SA_VERSION, value: current.version }] : []),
  ]);
  describeIdle();

  const view = (request: PromotionRequest, g?: Gate): QueuedRequestView => ({
    requestId: request.requestId,
    releaseId: request.replyTo,
    commit: request.commit,
    version: request.version,
    phase: g?.phase ?? 'queued',
    detail: g?.detail,
    since: g?.since ?? request.requestedAt,
  });

  setHandler(environmentStateQuery, (): EnvironmentState => ({
    app,
    environment: envName,
    current,
    inFlight: pending[0] ? view(pending[0], gate) : undefined,
    waiting: pending[1] ? view(pending[1]) : undefined,
    recent: [...recent],
  }));

  setHandler(requestPromotionSignal, (request) => {
    if (isKnown(request.requestId)) {
      const done = recent.find((r) => r.requestId === request.requestId);
      if (done) reply(request, outcomeOf(done)); // the asker may have missed the first answer
      return;
    }
    const sameBuild = pending.find((p) => p.commit === request.commit && p.kind === request.kind && !withdrawn.has(p.requestId));
    if (sameBuild) {
      followers.set(sameBuild.requestId, [...(followers.get(sameBuild.requestId) ?? []), request]);
      return;
    }
    if (pending.length === 0 && current && current.commit === request.commit && request.kind === 'promote') {
      const outcome: PromotionOutcome = { outcome: 'promoted', gitopsCommit: current.gitopsCommit, previousImages: current.images, alreadyDeployed: true };
      record(request, outcome, workflowNow());
      reply(request, outcome);
      return;
    }
    if (pending.length >= 2) {
      const replaced = pending.pop()!;
      const outcome: PromotionOutcome = { outcome: 'superseded', by: request.replyTo };
      for (const loser of [replaced, ...(followers.get(replaced.requestId) ?? [])]) {
        record(loser, outcome, workflowNow());
        reply(loser, outcome);
      }
      followers.delete(replaced.requestId);
    }
    pending.push(request);
    if (pending.length === 2) {
      progress(request, 'queued', `behind ${pending[0]!.version ?? shortSha(pending[0]!.commit)} (${pending[0]!.replyTo})`);
    }
  });

  setHandler(withdrawRequestSignal, ({ requestId }) => {
    const index = pending.findIndex((p) => p.requestId === requestId);
    if (index < 0) return;
    withdrawn.add(requestId);
    if (index === 0) inFlightScope?.cancel();
    else {
      const [removed] = pending.splice(index, 1);
      record(removed!, { outcome: 'cancelled' }, workflowNow());
    }
  });

  const decide = (approved: boolean) => (d: ApprovalDecision) => {
    const head = pending[0]!;
    decision = { ...d, approved };
    return { requestId: head.requestId, version: head.version };
  };
  setHandler(approveUpdate, decide(true), { validator: (d) => assertAwaitingApproval(d) });
  setHandler(rejectUpdate, decide(false), { validator: (d) => assertAwaitingApproval(d) });
  // The Temporal UI sends signals; invalid ones are ignored rather than failing the workflow.
  setHandler(approveSignal, (d) => {
    if (awaitingApprovalProblem(d) === undefined) decide(true)(d);
  });
  setHandler(rejectSignal, (d) => {
    if (awaitingApprovalProblem(d) === undefined) decide(false)(d);
  });

  for (;;) {
    await condition(() => pending.length > 0 || shouldContinueAsNew());
    if (pending.length === 0 || (shouldContinueAsNew() && !gate)) {
      if (shouldContinueAsNew()) {
        await condition(() => allHandlersFinished() && unsentSignals === 0);
        await continueAsNew<typeof environment>({
          app,
          environment: envName,
          carried: { current, recent, pending, sequence, followers: Object.fromEntries(followers) },
        });
      }
      continue;
    }
    const head = pending[0]!;
    lastRequest = head;
    const outcome = await runRequest(head);
    gate = undefined;
    decision = undefined;
    pending.shift();
    record(head, outcome, workflowNow());
    reply(head, outcome);
    for (const follower of followers.get(head.requestId) ?? []) {
      record(follower, outcome, workflowNow());
      reply(follower, outcome);
    }
    followers.delete(head.requestId);
    promotionsThisRun++;
    upsertSearchAttributes([
      { key: SA_STAGE, value: 'idle' },
      ...(current?.version ? [{ key: SA_VERSION, value: current.version }] : []),
    ]);
    describeIdle();
  }

  // ------------------------------------------------------------------ steps

  async function runRequest(head: PromotionRequest): Promise<PromotionOutcome> {
    const env = head.environment;
    const isWithdrawn = () => withdrawn.has(head.requestId);

    if (!(await waitOutFreeze(head))) return { outcome: 'cancelled' };

    if (env.approval?.required && head.kind === 'promote') {
      const waitStarted = workflowNow();
      decision = undefined;
      setGate(head, 'awaiting-approval', `approval to deploy ${label(head)} (slipway approve ${app} ${envName}), times out after ${formatDuration(env.approval.timeout)}`);
      await notifyApproval(head);
      const answered = await condition(() => decision !== undefined || isWithdrawn(), env.approval.timeout);
      if (isWithdrawn()) return { outcome: 'cancelled' };
      if (!answered) return { outcome: 'approval-timed-out', after: workflowNow() - waitStarted };
      if (!decision!.approved) return { outcome: 'rejected', by: decision!.by, reason: decision!.comment };
      // An approval given late may land in a freeze window: wait it out too.
      if (!(await waitOutFreeze(head))) return { outcome: 'cancelled' };
    }

    sequence++;
    setGate(head, 'deploying', `promotion ${promotionWorkflowId(app, envName, head.commit, sequence)}`);
    inFlightScope = new CancellationScope();
    try {
      const result = await inFlightScope.run(() =>
        executeChild(promotion, {
          workflowId: promotionWorkflowId(app, envName, head.commit, sequence),
          args: [{ request: head, sequence }],
          taskQueue: workflowInfo().taskQueue,
          cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
          parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
          staticSummary: `${head.kind} ${app} ${label(head)} to ${envName}`,
          typedSearchAttributes: [
            { key: SA_APP, value: app },
            { key: SA_ENVIRONMENT, value: envName },
            { key: SA_VERSION, value: head.version ?? shortSha(head.commit) },
            { key: SA_STAGE, value: head.kind },
          ],
        }),
      );
      current = {
        requestId: head.requestId,
        releaseId: head.replyTo,
        commit: head.commit,
        version: head.version,
        images: head.images,
        gitopsCommit: result.gitopsCommit,
        at: workflowNow(),
      };
      return { outcome: 'promoted', gitopsCommit: result.gitopsCommit, previousImages: result.previousImages, alreadyDeployed: false };
    } catch (err) {
      if (isCancellation(err) || isWithdrawn()) return { outcome: 'cancelled' };
      const failure = describeFailure(err);
      const details = failure.details as PromotionFailureDetails | undefined;
      return {
        outcome: 'failed',
        reason: details?.reason ?? failure.reason,
        failureType: details?.failureType ?? failure.type,
        rolledBack: details?.rolledBack ?? false,
        rollbackCommit: details?.rollbackCommit,
      };
    } finally {
      inFlightScope = undefined;
    }
  }

  /** Sleeps (a durable timer) while a freeze window is in force; false if the request was withdrawn. */
  async function waitOutFreeze(head: PromotionRequest): Promise<boolean> {
    for (;;) {
      const freeze = activeFreeze(head.environment.freeze.map((f) => ({ cron: f.cron, durationMs: f.duration, reason: f.reason })), workflowNow());
      if (!freeze) return true;
      const until = new Date(freeze.until).toISOString();
      setGate(head, 'frozen', `freeze window (${freeze.window.reason ?? freeze.window.cron}) until ${until}`);
      const withdrawnNow = await condition(() => withdrawn.has(head.requestId), Math.max(1000, freeze.until - workflowNow()));
      if (withdrawnNow) return false;
    }
  }

  // ------------------------------------------------------------------ messages

  function assertAwaitingApproval(d: ApprovalDecision): void {
    const problem = awaitingApprovalProblem(d);
    if (problem) throw ApplicationFailure.nonRetryable(problem, 'NotAwaitingApproval');
  }

  function awaitingApprovalProblem(d: ApprovalDecision): string | undefined {
    if (!d || typeof d.by !== 'string' || d.by.trim() === '') return 'an approval must say who gives it (by)';
    const head = pending[0];
    if (!head || gate?.phase !== 'awaiting-approval' || decision !== undefined) {
      return `${app}/${envName} is not waiting for approval${head ? ` (it is ${gate?.phase ?? 'queued'}: ${label(head)})` : ' (nothing is pending)'}`;
    }
    if (d.version && d.version !== head.version && !head.commit.startsWith(d.version)) {
      return `${app}/${envName} is waiting for approval of ${label(head)}, not ${d.version}`;
    }
    return undefined;
  }

  function setGate(head: PromotionRequest, phase: EnvironmentPhase, detail: string): void {
    gate = { phase, detail, since: workflowNow() };
    setCurrentDetails(`**${phase}**: ${detail}\n\nrelease: ${head.replyTo}`);
    upsertSearchAttributes([{ key: SA_STAGE, value: phase }]);
    progress(head, phase, detail);
  }

  function progress(request: PromotionRequest, phase: EnvironmentPhase, detail: string): void {
    track(
      getExternalWorkflowHandle(request.replyTo).signal(promotionProgressSignal, { environment: envName, phase, detail, since: workflowNow() }),
    );
  }

  function reply(request: PromotionRequest, outcome: PromotionOutcome): void {
    const message: PromotionReply = { ...outcome, requestId: request.requestId, environment: envName };
    track(getExternalWorkflowHandle(request.replyTo).signal(promotionFinishedSignal, message)); // a terminated release: nobody left to tell
  }

  function track(signal: Promise<void>): void {
    unsentSignals++;
    void signal.catch(() => undefined).finally(() => unsentSignals--);
  }

  function notifyApproval(head: PromotionRequest): Promise<void> {
    return notifyQuietly(
      head.environment.notify,
      {
        kind: 'awaiting-approval',
        app,
        environment: envName,
        version: head.version,
        commit: head.commit,
        workflowId: workflowInfo().workflowId,
        message: `${app} ${label(head)} is waiting for approval to enter ${envName}: slipway approve ${app} ${envName}`,
      },
      `notify: ${label(head)} awaits approval in ${envName}`,
    );
  }

  // ------------------------------------------------------------------ bookkeeping

  function record(request: PromotionRequest, outcome: PromotionOutcome, finishedAt: number): void {
    recent.unshift({
      requestId: request.requestId,
      releaseId: request.replyTo,
      commit: request.commit,
      version: request.version,
      kind: request.kind,
      outcome: outcome.outcome,
      reason: reasonOf(outcome),
      gitopsCommit: outcome.outcome === 'promoted' ? outcome.gitopsCommit : outcome.outcome === 'failed' ? outcome.rollbackCommit : undefined,
      requestedAt: request.requestedAt,
      finishedAt,
    });
    recent.splice(RECENT_KEPT);
  }

  function isKnown(requestId: string): boolean {
    return (
      pending.some((p) => p.requestId === requestId) ||
      [...followers.values()].some((list) => list.some((f) => f.requestId === requestId)) ||
      recent.some((r) => r.requestId === requestId)
    );
  }

  function shouldContinueAsNew(): boolean {
    // The limit comes with the requests (from slipway.yaml); when idle, the last one seen counts.
    const limit = (pending[0] ?? lastRequest)?.engine.historyPerEnvironment ?? 20;
    return pending.length < 2 && gate === undefined && (promotionsThisRun >= limit || workflowInfo().continueAsNewSuggested);
  }

  function describeIdle(): void {
    setCurrentDetails(current ? `running ${current.version ?? shortSha(current.commit)} (gitops ${shortSha(current.gitopsCommit)}); idle` : 'nothing deployed by Slipway yet; idle');
  }
}

function label(request: PromotionRequest): string {
  return request.version ? `${request.version} (${shortSha(request.commit)})` : shortSha(request.commit);
}

function reasonOf(outcome: PromotionOutcome): string | undefined {
  switch (outcome.outcome) {
    case 'failed':
      return outcome.reason;
    case 'superseded':
      return `superseded by ${outcome.by}`;
    case 'rejected':
      return `rejected by ${outcome.by}${outcome.reason ? `: ${outcome.reason}` : ''}`;
    case 'approval-timed-out':
      return `no approval within ${formatDuration(outcome.after)}`;
    default:
      return undefined;
  }
}

/** Rebuilds the answer for a request already finished (a retried request after a lost reply). */
function outcomeOf(record: DeploymentRecord): PromotionOutcome {
  switch (record.outcome) {
    case 'promoted':
      return { outcome: 'promoted', gitopsCommit: record.gitopsCommit ?? '', previousImages: [], alreadyDeployed: true };
    case 'failed':
      return { outcome: 'failed', reason: record.reason ?? 'failed', failureType: 'PromotionFailed', rolledBack: Boolean(record.gitopsCommit), rollbackCommit: record.gitopsCommit };
    case 'superseded':
      return { outcome: 'superseded', by: (record.reason ?? '').replace('superseded by ', '') };
    case 'rejected':
      return { outcome: 'rejected', by: record.reason ?? '' };
    case 'approval-timed-out':
      return { outcome: 'approval-timed-out', after: record.finishedAt - record.requestedAt };
    default:
      return { outcome: 'cancelled' };
  }
}
