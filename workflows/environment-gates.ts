/**
 * The gates a request passes before its promotion starts, as the environment workflow runs them:
 * the build passed the environment before (a later environment takes nothing else), freeze
 * windows (durable timers), and the notice that an approval is awaited.
 */
import { ApplicationFailure, condition, isCancellation, log, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import { activeFreeze } from '../core/freeze.js';
import { buildLabel } from '../core/ids.js';
import { controlStepOptions, notifyOptions, notifyQuietly } from './activities.js';
import type { ControlActivities, EnvironmentPolicy, GithubActivities, NotificationEvent, NotifyActivities, VerifiedApproval } from '../activities/types.js';
import type { NotifyChannel } from '../config/schema.js';
import type { ApprovalChannel, ApprovalWait } from './approvals.js';
import type { EnvironmentLedger } from './environment-ledger.js';
import * as messages from './messages.js';
import { describeFailure } from './failures.js';
import { underPolicy } from './policy.js';
import { workflowNow } from './clock.js';
import { resolveProblem } from './environment-attention.js';
import type { ApprovalDecision, PromotionRequest, ResolveAttention } from './types.js';

/** Versioning: gates added after environment workflows were already running. */
const PATCH_PREVIOUS_MUST_PASS = 'environment-previous-must-pass';
const PATCH_ROLLBACK_TO_KNOWN_BUILD = 'environment-rollback-to-known-build';
const PATCH_APPROVAL_REQUEST_DELIVERED = 'environment-approval-request-delivered';

/**
 * An approval request nobody receives leaves the release waiting out the whole approval timeout,
 * so each channel is tried this often (backing off from the first pause, doubling) before the
 * environment says, where people look, that nobody was asked.
 */
export const APPROVAL_REQUEST_ATTEMPTS = 5;
const APPROVAL_REQUEST_FIRST_PAUSE_MS = 2_000;

/**
 * The request as the environment's policy has it, if the policy lets it in: a promotion only of a
 * build that passed the environment before, a rollback only to a build that ran here.
 */
export async function underPolicyAndAdmitted(
  asked: PromotionRequest,
  policyFor: (version: string | undefined) => Promise<EnvironmentPolicy>,
): Promise<{ request: PromotionRequest } | { refused: string }> {
  try {
    const policy = await policyFor(asked.policyVersion);
    const request = underPolicy(asked, policy);
    const refusal =
      request.kind === 'rollback'
        ? patched(PATCH_ROLLBACK_TO_KNOWN_BUILD) ? await notRunHere(request) : undefined
        : request.override
          ? overrideProblem(request, policy)
          : policy.previous && patched(PATCH_PREVIOUS_MUST_PASS) ? await notPassed(request, policy.previous) : undefined;
    return refusal ? { refused: refusal } : { request };
  } catch (err) {
    return { refused: describeFailure(err).reason };
  }
}

/**
 * Sleeps while a freeze window of the request's environment is in force, telling `onFrozen` what
 * it waits for; false when the request was withdrawn meanwhile.
 */
export async function waitOutFreeze(head: PromotionRequest, isWithdrawn: () => boolean, onFrozen: (detail: string) => void): Promise<boolean> {
  for (;;) {
    const freeze = freezeNow(head);
    if (!freeze) return true;
    onFrozen(`freeze window ${describeFreeze(freeze)}`);
    if (await condition(isWithdrawn, Math.max(1000, freeze.until - workflowNow()))) return false;
  }
}

/** The freeze window in force now, in words (`(weekend) until 2026-12-07T09:00:00.000Z`), if any. */
export function activeFreezeOf(head: PromotionRequest): string | undefined {
  const freeze = freezeNow(head);
  return freeze ? describeFreeze(freeze) : undefined;
}

function freezeNow(head: PromotionRequest) {
  return activeFreeze(head.environment.freeze.map((f) => ({ cron: f.cron, durationMs: f.duration, reason: f.reason })), workflowNow());
}

function describeFreeze(freeze: NonNullable<ReturnType<typeof freezeNow>>): string {
  return `(${freeze.window.reason ?? freeze.window.cron}) until ${new Date(freeze.until).toISOString()}`;
}

export interface ApprovalRequestDelivery {
  /** False once the wait is decided or withdrawn: retrying then asks nobody anything. */
  stillWaiting(): boolean;
  /** Called when a channel still failed after every attempt, with the notice people should see. */
  undelivered(notice: string): void;
}

/**
 * Asks for the approval through the environment's channels. Each channel is retried until it
 * delivers (APPROVAL_REQUEST_ATTEMPTS, with durable pauses); one that never does is named in the
 * notice handed to `delivery.undelivered`, so the waiting request itself says that nobody was asked.
 */
export async function notifyAwaitingApproval(app: string, environment: string, head: PromotionRequest, delivery: ApprovalRequestDelivery): Promise<void> {
  const event: NotificationEvent = {
    kind: 'awaiting-approval',
    app,
    environment,
    version: head.version,
    commit: head.commit,
    workflowId: workflowInfo().workflowId,
    message: `${app} ${buildLabel(head)} is waiting for approval to enter ${environment}: slipway approve ${app} ${environment}`,
  };
  const summary = `notify: ${buildLabel(head)} awaits approval in ${environment}`;
  if (!patched(PATCH_APPROVAL_REQUEST_DELIVERED)) return notifyQuietly(head.environment.notify, event, summary);
  const channels = Array.isArray(head.environment.notify) ? head.environment.notify : [head.environment.notify];
  const delivered = await Promise.all(channels.map((channel) => deliverWithRetries(channel, event, summary, delivery.stillWaiting)));
  const missed = channels.filter((_, i) => !delivered[i]).map(channelName);
  if (missed.length === 0 || !delivery.stillWaiting()) return;
  const notice =
    `${missed.length === channels.length ? 'NOBODY WAS ASKED: ' : ''}the approval request could not be delivered to ${missed.join(', ')} ` +
    `after ${APPROVAL_REQUEST_ATTEMPTS} attempts (the worker's log says why); tell an approver: slipway approve ${app} ${environment}`;
  log.warn(notice, { app, environment, channels: missed });
  delivery.undelivered(notice);
}

/** True once the channel took the event (or nobody waits any more); false after the last failed attempt. */
async function deliverWithRetries(channel: NotifyChannel, event: NotificationEvent, summary: string, stillWaiting: () => boolean): Promise<boolean> {
  const notify = proxyActivities<NotifyActivities>(notifyOptions()).notify;
  let pause = APPROVAL_REQUEST_FIRST_PAUSE_MS;
  for (let attempt = 1; ; attempt++) {
    const ok = await notify
      .executeWithOptions({ ...notifyOptions(), summary: `${summary} (${channelName(channel)}, attempt ${attempt})` }, [{ channels: [channel], event }])
      .then(
        (r) => r.failed === 0,
        (err: unknown) => {
          if (isCancellation(err)) throw err;
          return false; // the activity's own retries ran out (a worker lost each time): one failed attempt
        },
      );
    if (ok) return true;
    if (attempt >= APPROVAL_REQUEST_ATTEMPTS) return false;
    // Ends early when someone decides meanwhile: the request has done its job.
    if (await condition(() => !stillWaiting(), pause)) return true;
    pause *= 2;
  }
}

/** `discord (DISCORD_WEBHOOK_URL)`: the variable's name, never its value. */
function channelName(channel: NotifyChannel): string {
  if (channel === 'log') return 'log';
  if ('discord' in channel) return `discord (${channel.discord.urlFromEnv})`;
  return `slack (${channel.slack.urlFromEnv})`;
}

/** Why the build may not enter yet: it failed in, or never passed, the environment before; undefined when it passed. */
export async function notPassed(head: PromotionRequest, previous: string): Promise<string | undefined> {
  const record = await buildRecord(head, previous);
  if (record.state === 'passed') return undefined;
  if (record.state === 'failed') return `${buildLabel(head)} failed in ${previous} (${record.releaseId}): ${record.reason}`;
  return `${buildLabel(head)} has not passed ${previous}: it must be promoted and verified there first`;
}

/** A rollback goes back only to a build that ran in this environment before; the reason when this one did not. */
export async function notRunHere(head: PromotionRequest): Promise<string | undefined> {
  const record = await buildRecord(head, head.environment.name);
  if (record.state === 'passed') return undefined;
  if (record.state === 'failed') return `${buildLabel(head)} failed in ${head.environment.name} (${record.releaseId}): ${record.reason}; a rollback goes back only to a build that ran there`;
  return `${buildLabel(head)} never ran in ${head.environment.name}: a rollback goes back only to a build that did`;
}

function buildRecord(head: PromotionRequest, environment: string) {
  return proxyActivities<ControlActivities>(controlStepOptions()).buildRecord.executeWithOptions(
    { ...controlStepOptions(), summary: `did ${buildLabel(head)} pass ${environment}?` },
    [{ app: head.app, environment, commit: head.commit }],
  );
}

/** Asks GitHub (through the worker) whether a decision relayed from a comment is what it says. */
export async function verifyGithubDecision(wait: ApprovalWait, d: ApprovalDecision, approve: boolean): Promise<VerifiedApproval> {
  const source = wait.request.sourceRepo;
  if (!source) return { ok: false, reason: `${wait.request.app} has no GitHub source repository in the policy` };
  return proxyActivities<GithubActivities>(controlStepOptions()).verifyApproval.executeWithOptions(
    { ...controlStepOptions(), summary: `check ${d.by}'s GitHub ${approve ? 'approval' : 'rejection'} of ${buildLabel(wait.request)}` },
    [
      {
        source,
        delivery: d.evidence!,
        by: d.by,
        decision: approve ? 'approve' : 'reject',
        environment: wait.request.environment.name,
        commit: wait.request.commit,
        notBefore: wait.since,
        ...(wait.rules.approvers ? { approvers: wait.rules.approvers } : {}),
      },
    ],
  );
}

/** An override is taken only where the policy allows it, from someone named, with a reason. */
function overrideProblem(request: PromotionRequest, policy: EnvironmentPolicy): string | undefined {
  if (!policy.overrides) return `${request.app}'s policy does not allow overrides: ${buildLabel(request)} must pass ${policy.previous ?? 'the environments before'} first`;
  if (!request.requestedBy) return 'an override must say who asks for it';
  if (!request.override?.reason?.trim()) return 'an override must give its reason';
  return undefined;
}

/**
 * The decisions an environment takes while a request waits for approval: the CLI's Update
 * (`cli`), a GitHub comment the webhook relays through the Update (`github`, checked against
 * GitHub before it counts), and the Temporal UI's signals (`ui`, ignored when invalid rather than
 * failing the workflow).
 */
export function handleApprovalDecisions(ledger: EnvironmentLedger, where: string): void {
  const channelOf = (d: ApprovalDecision): ApprovalChannel => (d?.channel === 'github' ? 'github' : 'cli');
  const validate = (approve: boolean) => (d: ApprovalDecision) => {
    const problem = ledger.approvalProblem(d, approve, channelOf(d), where);
    if (problem) throw ApplicationFailure.nonRetryable(problem, 'NotAwaitingApproval');
  };
  const githubDecision = async (d: ApprovalDecision, approve: boolean) => {
    const wait = ledger.approval!;
    const verified = await verifyGithubDecision(wait, d, approve);
    if (!verified.ok) throw ApplicationFailure.nonRetryable(`not counted: ${verified.reason}`, 'ApprovalNotVerified');
    // The wait may have moved on while GitHub was asked.
    const problem = ledger.approval === wait ? wait.problem(d, approve, 'github', where) : `${where} is no longer waiting for that decision`;
    if (problem) throw ApplicationFailure.nonRetryable(problem, 'NotAwaitingApproval');
    return wait.take({ ...d, by: verified.login }, approve, 'github', workflowNow());
  };
  const decide = (approve: boolean) => (d: ApprovalDecision) =>
    channelOf(d) === 'github' ? githubDecision(d, approve) : ledger.approval!.take(d, approve, 'cli', workflowNow());
  setHandler(messages.approveUpdate, decide(true), { validator: validate(true) });
  setHandler(messages.rejectUpdate, decide(false), { validator: validate(false) });
  const bySignal = (approve: boolean) => (d: ApprovalDecision) =>
    void (ledger.approvalProblem(d, approve, 'ui', where) === undefined && ledger.approval!.take(d, approve, 'ui', workflowNow()));
  setHandler(messages.approveSignal, bySignal(true));
  setHandler(messages.rejectSignal, bySignal(false));
}

/**
 * How a person clears an environment's need for one: the CLI's Update (`cli`; refused with the
 * reason when nothing needs resolving or who and why are missing) and the Temporal UI's signal
 * (`ui`, ignored when invalid). `changed` runs once it is cleared, to show the environment as it is now.
 */
export function handleResolutions(ledger: EnvironmentLedger, where: string, changed: () => void): void {
  const resolve = (r: ResolveAttention, channel: 'cli' | 'ui') => {
    const resolution = ledger.resolve({ by: r.by.trim(), reason: r.reason.trim(), via: 'resolve', channel }, workflowNow())!;
    changed();
    return resolution;
  };
  setHandler(messages.resolveAttentionUpdate, (r) => resolve(r, 'cli'), {
    validator: (r) => {
      const problem = resolveProblem(ledger.attention, r, where);
      if (problem) throw ApplicationFailure.nonRetryable(problem, 'NothingToResolve');
    },
  });
  setHandler(messages.resolveAttentionSignal, (r) => void (resolveProblem(ledger.attention, r, where) === undefined && resolve(r, 'ui')));
}
