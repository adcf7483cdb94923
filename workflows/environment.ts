/**
 * The owner of one environment of one app (`env/todoapp/production`), long-lived. It is the lock —
 * at most one promotion in flight, because there is one workflow per environment — and the queue
 * (kept in `EnvironmentLedger`): one request may wait behind the one in flight, and a newer one
 * replaces it. The loop: take the head → wait out freeze windows → ask for approval where required
 * → run the promotion as a child workflow → answer the releases → record → continue as new when
 * the history grows long.
 */
import {
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { formatDuration } from '../core/duration.js';
import { buildLabel, promotionWorkflowId, shortSha } from '../core/ids.js';
import { SA_APP, SA_ENVIRONMENT, SA_STAGE, SA_VERSION } from '../core/search-attributes.js';
import { workflowNow } from './clock.js';
import { attentionAfter, attentionRefusal, clearedNote } from './environment-attention.js';
import { activeFreezeOf, handleApprovalDecisions, handleResolutions, notifyAwaitingApproval, underPolicyAndAdmitted, waitOutFreeze } from './environment-gates.js';
import { ApprovalWait, approvalRules } from './approvals.js';
import { EnvironmentLedger, goesBackPast, isExplicit, isPromotionRequest, lowerVersionThan, olderThan, type RecordFacts } from './environment-ledger.js';
import * as messages from './messages.js';
import { environmentPolicy } from './policy.js';
import { describeFailure } from './failures.js';
import { failedOutcome, promotion, promotionChild } from './promotion.js';
import { supersedesInFlight } from './pull-request-merge.js';
import { ReleaseMessenger } from './release-messenger.js';
import { approvalDecision, recordApprovalWait, recordRequest } from './metrics.js';
import type { EnvironmentPolicy } from '../activities/types.js';
import type { EnvironmentPhase, EnvironmentState, EnvironmentWorkflowInput, PromotionOutcome, PromotionRequest } from './types.js';

/** Versioning: behaviour added after workflows of this type were already running. */
const PATCH_WITHDRAW_FOLLOWER = 'environment-withdraw-follower';
const PATCH_WITHDRAW_UNSEEN = 'environment-withdraw-before-arrival';
const PATCH_WITHDRAWN_HEAD = 'environment-withdrawn-head-never-starts';
const PATCH_GATES_FROM_POLICY = 'environment-gates-from-policy';
const PATCH_ROLLBACK_THROUGH_FREEZE = 'environment-rollback-through-freeze';
/**
 * A newer release (by its start time) always wins over an older one: an older release's request
 * is answered superseded instead of queueing behind, replacing, or deploying over a newer one.
 * Older runs went by arrival alone.
 */
const PATCH_NEWEST_RELEASE_WINS = 'environment-newest-release-wins';
/**
 * A promotion whose rollback was refused (RollbackConflict: someone else changed the overlay in
 * between) leaves the environment needing a person: recorded, shown, carried, and promotions are
 * refused until someone resolves it. Older runs went on as if nothing were amiss.
 */
const PATCH_ROLLBACK_CONFLICT_NEEDS_PERSON = 'environment-rollback-conflict-needs-person';
/**
 * A request withdrawn by its own release leaves its followers (other releases of the same build)
 * unanswered: the first becomes the head and runs. Older runs answered them "cancelled" too.
 */
const PATCH_FOLLOWER_OUTLIVES_LEADER = 'environment-follower-outlives-cancelled-leader';
/**
 * A pushed tag's request whose version is lower than the newest versioned release that completed
 * here is answered superseded, writing nothing, on arrival and again when it reaches the head
 * (after the newer one completed in front of it): a delivery replayed after Temporal's retention
 * never moves the environment back. Older runs took such requests (none named a tag).
 */
const PATCH_PUSHED_TAG_NEVER_LOWER = 'environment-pushed-tag-never-lower-version';
/**
 * A request from a later run of a release id (started again after Temporal's retention dropped the
 * first run) is taken as a request of its own, not answered with the first run's answer. Older
 * runs answered it as a duplicate.
 */
const PATCH_LATER_RUN_ASKS_ANEW = 'environment-later-run-asks-anew';
/**
 * Pull-request mode: a newer request arriving while the promotion in flight waits for its pull
 * request tells that promotion, which closes its pull request (unless merged) and ends
 * superseded; the newer one then runs. A promotion that merged goes on. Older runs had no
 * pull-request mode.
 */
const PATCH_SUPERSEDE_PULL_REQUEST = 'environment-newer-request-supersedes-pull-request';
/**
 * Pull-request mode: what the environment runs is what the merge held (a person may have pushed to
 * the branch before merging), and the record says through which pull request it came.
 */
const PATCH_RECORD_MERGED_PULL_REQUEST = 'environment-records-merged-pull-request';
/** The gate an override waits at when its environment has none of its own. */
const OVERRIDE_APPROVAL = { required: true, timeout: 24 * 3_600_000, count: 1, fourEyes: true, channels: ['github', 'cli', 'ui'] as Array<'github' | 'cli' | 'ui'> };

export async function environment(input: EnvironmentWorkflowInput): Promise<void> {
  const { app, environment: envName } = input;
  const where = `${app}/${envName}`;
  const ledger = new EnvironmentLedger(input.carried);
  const releases = new ReleaseMessenger(envName);
  let promotionsThisRun = 0;
  let inFlightScope: CancellationScope | undefined;
  /** The promotion child in flight, and whether it goes through a pull request (and may be superseded while it waits). */
  let inFlightPromotion: { workflowId: string; pullRequests: boolean } | undefined;
  let lastRequest: PromotionRequest | undefined;
  /** What the request in flight will be recorded with. */
  let facts: RecordFacts = {};
  /** The environment's policy, read once per version this run sees. */
  let policy: EnvironmentPolicy | undefined;
  const policyFor = async (version: string | undefined): Promise<EnvironmentPolicy> =>
    policy && version === policy.version ? policy : (policy = await environmentPolicy(app, envName, version));

  markIdle();

  setHandler(messages.environmentStateQuery, (): EnvironmentState => ({
    app,
    environment: envName,
    current: ledger.current,
    inFlight: ledger.head ? ledger.view(ledger.head, ledger.gate) : undefined,
    waiting: ledger.waiting ? ledger.view(ledger.waiting) : undefined,
    recent: [...ledger.recent],
    ...(ledger.newest ? { newest: ledger.newest } : {}),
    ...(ledger.attention ? { attention: ledger.attention } : {}),
    ...(ledger.resolutions.length > 0 ? { resolutions: [...ledger.resolutions] } : {}),
  }));

  setHandler(messages.requestPromotionSignal, (request) => {
    // Anyone who reaches the Temporal API can signal: a request that is not one is dropped, not run.
    if (!isPromotionRequest(request)) return;
    const admission = ledger.receive(request, workflowNow(), {
      byAge: () => patched(PATCH_NEWEST_RELEASE_WINS),
      byVersion: () => patched(PATCH_PUSHED_TAG_NEVER_LOWER),
      laterRun: () => patched(PATCH_LATER_RUN_ASKS_ANEW),
    });
    if (admission.kind === 'duplicate' && admission.answer) answer([admission.answer]); // its first answer may have been lost
    if (admission.kind === 'already-deployed' || admission.kind === 'stale') answer([admission.answer]);
    if (admission.kind === 'queued') {
      answer(admission.superseded);
      if (admission.behind) releases.progress(request, 'queued', `behind ${admission.behind.version ?? shortSha(admission.behind.commit)} (${admission.behind.replyTo})`);
      const waiting = inFlightPromotion;
      if (waiting?.pullRequests && admission.behind && supersedesInFlight(request, admission.behind) && patched(PATCH_SUPERSEDE_PULL_REQUEST)) {
        // The promotion decides (merged already: it goes on); it may also have just finished.
        void getExternalWorkflowHandle(waiting.workflowId)
          .signal(messages.supersedePromotionSignal, { by: request.replyTo, build: buildLabel(request) })
          .catch(() => undefined);
      }
    }
  });

  setHandler(messages.withdrawRequestSignal, ({ requestId }) => {
    const withdrawal = ledger.withdraw(requestId, workflowNow(), {
      followers: () => patched(PATCH_WITHDRAW_FOLLOWER),
      unseen: () => patched(PATCH_WITHDRAW_UNSEEN),
      handOver: () => patched(PATCH_FOLLOWER_OUTLIVES_LEADER),
    });
    if (withdrawal.kind === 'in-flight') inFlightScope?.cancel();
  });

  handleApprovalDecisions(ledger, where);
  // Shown at once when idle; a request in flight shows its own gate until it finishes.
  handleResolutions(ledger, where, () => ledger.head === undefined && markIdle());

  for (;;) {
    await condition(() => ledger.head !== undefined || shouldContinueAsNew());
    const head = ledger.head;
    if (!head || (shouldContinueAsNew() && !ledger.gate)) {
      if (shouldContinueAsNew()) {
        await condition(() => allHandlersFinished() && releases.allDelivered);
        await continueAsNew<typeof environment>({ app, environment: envName, carried: ledger.carry() });
      }
      continue;
    }
    lastRequest = head;
    facts = {};
    const outcome = await runRequest(head);
    // Metrics issue no command (workflows/metrics.ts): no patch.
    recordRequest(app, envName, head, outcome, ledger.gate, workflowNow());
    // Its rollback was refused: nothing more is written here until a person has looked.
    const attention = attentionAfter(head, outcome, workflowNow());
    if (attention && patched(PATCH_ROLLBACK_CONFLICT_NEEDS_PERSON)) {
      ledger.attention = attention;
      facts.notes = [...(facts.notes ?? []), `left ${where} needing a person: ${attention.reason}`];
    }
    answer(ledger.finishHead(outcome, workflowNow(), facts, { handOver: () => patched(PATCH_FOLLOWER_OUTLIVES_LEADER) }));
    promotionsThisRun++;
    markIdle();
  }

  // ------------------------------------------------------------------ the steps of one request

  async function runRequest(asked: PromotionRequest): Promise<PromotionOutcome> {
    const isWithdrawn = () => ledger.isWithdrawn(asked.requestId);
    // A request that waited behind a newer release, which then completed here, is older than what
    // runs now: it never deploys over it. Only an explicit rollback or override goes back (noted below).
    const newer = ledger.newerCompleted(asked);
    if (newer && !isExplicit(asked) && patched(PATCH_NEWEST_RELEASE_WINS)) {
      facts.notes = [olderThan(newer)];
      return { outcome: 'superseded', by: newer.releaseId };
    }
    const higher = ledger.higherVersionCompleted(asked);
    if (higher && patched(PATCH_PUSHED_TAG_NEVER_LOWER)) {
      facts.notes = [lowerVersionThan(asked, higher)];
      return { outcome: 'superseded', by: higher.releaseId };
    }
    let head = asked;
    if (patched(PATCH_GATES_FROM_POLICY)) {
      const admitted = await underPolicyAndAdmitted(asked, policyFor);
      if ('refused' in admitted) return { outcome: 'refused', reason: admitted.refused };
      head = admitted.request;
      facts.policyVersion = head.policyVersion;
      if (head.override) facts.notes = [`override by ${head.requestedBy}: ${head.override.reason}`];
      if (ledger.attention && patched(PATCH_ROLLBACK_CONFLICT_NEEDS_PERSON)) {
        const refusal = attentionRefusal(ledger.attention, head);
        if (refusal) return { outcome: 'refused', reason: refusal };
        facts.notes = [...(facts.notes ?? []), `runs although ${where} needs a person: its policy lets an explicit ${head.kind === 'rollback' ? 'rollback' : 'override'} past that (rollback.afterConflict: allow)`];
      }
    }
    // Said in the record: this request takes the environment back past a newer release, on purpose.
    if (newer && patched(PATCH_NEWEST_RELEASE_WINS)) facts.notes = [...(facts.notes ?? []), goesBackPast(head, newer)];
    const env = head.environment;
    const emergencyRollback = head.kind === 'rollback' && env.rollback?.freeze !== 'respect' && patched(PATCH_ROLLBACK_THROUGH_FREEZE);

    if (emergencyRollback) {
      const freeze = activeFreezeOf(head);
      if (freeze) facts.notes = [...(facts.notes && patched(PATCH_NEWEST_RELEASE_WINS) ? facts.notes : []), `emergency rollback during the freeze window ${freeze}`];
    } else if (!(await waitOutFreeze(head, isWithdrawn, (detail) => setGate(head, 'frozen', detail)))) return { outcome: 'cancelled' };

    // An override always waits for someone other than who asked, whatever the environment's own gate.
    const approval = head.override ? { ...OVERRIDE_APPROVAL, ...env.approval, required: true, fourEyes: true } : env.approval;
    if (approval?.required && (head.kind === 'promote' || env.rollback?.approval === true)) {
      const wait = (ledger.approval = new ApprovalWait(head, approvalRules(approval, head.requestedBy), workflowNow()));
      const needed = wait.rules.count > 1 ? `${wait.rules.count} approvals` : 'approval';
      const waitingDetail = `${needed} to deploy ${buildLabel(head)} (slipway approve ${app} ${envName}), times out after ${formatDuration(approval.timeout)}`;
      setGate(head, 'awaiting-approval', waitingDetail);
      // A request that reached nobody says so in the environment's state and the release's status.
      await notifyAwaitingApproval(app, envName, head, {
        stillWaiting: () => !wait.decided && !isWithdrawn(),
        undelivered: (notice) => setGate(head, 'awaiting-approval', `${waitingDetail}; ${notice}`),
      });
      const answered = await condition(() => wait.decided || isWithdrawn(), approval.timeout);
      recordApprovalWait(app, envName, workflowNow() - wait.since, approvalDecision({ answered, withdrawn: isWithdrawn(), rejected: wait.rejection !== undefined }));
      if (isWithdrawn()) return { outcome: 'cancelled' };
      if (!answered) return { outcome: 'approval-timed-out', after: workflowNow() - wait.since };
      if (wait.rejection) {
        facts.notes = [...(facts.notes ?? []), `rejected by ${wait.rejection.channel}:${wait.rejection.by}`];
        return { outcome: 'rejected', by: wait.rejection.by, reason: wait.rejection.reason };
      }
      facts.approvedBy = wait.approvedBy;
      facts.approvals = [...wait.approvals];
      // An approval given late may land in a freeze window: wait it out too (an emergency rollback does not).
      if (!emergencyRollback && !(await waitOutFreeze(head, isWithdrawn, (detail) => setGate(head, 'frozen', detail)))) return { outcome: 'cancelled' };
    }

    // Taken back before its promotion started (older runs started it anyway).
    if (isWithdrawn() && patched(PATCH_WITHDRAWN_HEAD)) return { outcome: 'cancelled' };

    const sequence = ledger.nextSequence();
    const workflowId = promotionWorkflowId(app, envName, head.commit, sequence);
    setGate(head, 'deploying', `promotion ${workflowId}`);
    inFlightScope = new CancellationScope();
    inFlightPromotion = { workflowId, pullRequests: typeof env.write === 'object' };
    try {
      const result = await inFlightScope.run(() => executeChild(
          promotion,
          promotionChild(head, sequence, workflowId, { policyVersion: facts.policyVersion, approvedBy: facts.approvedBy }, ledger.current && {
            commit: ledger.current.commit,
            version: ledger.current.version,
            images: ledger.current.images,
          }),
        ));
      const merge = result.pullRequest && patched(PATCH_RECORD_MERGED_PULL_REQUEST) ? result.pullRequest : undefined;
      if (merge) {
        facts.notes = [
          ...(facts.notes ?? []),
          `merged through pull request #${merge.number}${merge.mergedBy ? ` by ${merge.mergedBy}` : ''} (${merge.url})${merge.images ? `, with changes pushed to its branch` : ''}`,
        ];
      }
      ledger.deployed(merge?.images ? { ...head, images: merge.images } : head, result.gitopsCommit, workflowNow());
      // An explicit request the policy let past a need for a person went through: a person chose what runs here now.
      if (ledger.attention && patched(PATCH_ROLLBACK_CONFLICT_NEEDS_PERSON)) {
        const resolution = ledger.resolve({
          by: head.requestedBy ?? head.replyTo,
          reason: head.override?.reason ?? `explicit rollback to ${buildLabel(head)}`,
          via: head.kind === 'rollback' ? 'rollback' : 'override',
          releaseId: head.replyTo,
        }, workflowNow());
        if (resolution) facts.notes = [...(facts.notes ?? []), clearedNote(resolution)];
      }
      return {
        outcome: 'promoted',
        gitopsCommit: result.gitopsCommit,
        previousImages: result.previousImages,
        alreadyDeployed: false,
        ...(merge ? { pullRequest: { number: merge.number, url: merge.url, ...(merge.mergedBy ? { mergedBy: merge.mergedBy } : {}) }, ...(merge.images ? { images: merge.images } : {}) } : {}),
      };
    } catch (err) {
      return isCancellation(err) || isWithdrawn() ? { outcome: 'cancelled' } : withRollbackFailure(failedOutcome(err), err);
    } finally {
      inFlightScope = undefined;
      inFlightPromotion = undefined;
    }
  }

  // ------------------------------------------------------------------ what people and releases see

  function answer(answers: Array<{ request: PromotionRequest; outcome: PromotionOutcome }>): void {
    for (const { request, outcome } of answers) releases.reply(request, outcome);
  }

  function setGate(head: PromotionRequest, phase: EnvironmentPhase, detail: string): void {
    ledger.gate = { phase, detail, since: workflowNow() };
    setCurrentDetails(`**${phase}**: ${detail}\n\nrelease: ${head.replyTo}`);
    upsertSearchAttributes([{ key: SA_STAGE, value: phase }]);
    releases.progress(head, phase, detail);
  }

  /** Search attributes and details of an idle environment (app and environment named once per run). */
  function markIdle(): void {
    const current = ledger.current;
    const attention = ledger.attention;
    upsertSearchAttributes([
      ...(promotionsThisRun === 0 ? [{ key: SA_APP, value: app }, { key: SA_ENVIRONMENT, value: envName }] : []),
      // Found in the UI with SlipwayStage = "needs-person".
      { key: SA_STAGE, value: attention ? 'needs-person' : 'idle' },
      ...(current?.version ? [{ key: SA_VERSION, value: current.version }] : []),
    ]);
    const running = current ? `running ${current.version ?? shortSha(current.commit)} (gitops ${shortSha(current.gitopsCommit)})` : 'nothing deployed by Slipway yet';
    setCurrentDetails(
      attention
        ? `**needs a person** since ${new Date(attention.since).toISOString()}: ${attention.reason}\n\nclear it with: slipway resolve ${app} ${envName} --reason "…"\n\nlast known: ${running}`
        : `${running}; idle`,
    );
  }

  function shouldContinueAsNew(): boolean {
    // The limit comes with the requests (from slipway.yaml); when idle, the last one seen counts.
    const limit = policy?.engine.historyPerEnvironment ?? (ledger.head ?? lastRequest)?.engine?.historyPerEnvironment ?? 20;
    return ledger.pending.length < 2 && ledger.gate === undefined && (promotionsThisRun >= limit || workflowInfo().continueAsNewSuggested);
  }
}

/**
 * A failed promotion's outcome with what its rollback met, when the promotion says so (its failure
 * details carry `rollbackError` and `rollbackFailureType`; older promotions carry neither).
 */
function withRollbackFailure(outcome: PromotionOutcome, err: unknown): PromotionOutcome {
  if (outcome.outcome !== 'failed' || outcome.rolledBack) return outcome;
  const details = describeFailure(err).details as { rollbackError?: unknown; rollbackFailureType?: unknown } | undefined;
  return {
    ...outcome,
    ...(typeof details?.rollbackError === 'string' && outcome.rollbackError === undefined ? { rollbackError: details.rollbackError } : {}),
    ...(typeof details?.rollbackFailureType === 'string' && outcome.rollbackFailureType === undefined ? { rollbackFailureType: details.rollbackFailureType } : {}),
  };
}
