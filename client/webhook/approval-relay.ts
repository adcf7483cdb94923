/**
 * Relaying a `/slipway approve|reject` comment: find the build it decides on (the commit, or the
 * pull request's head), send the decision as an Update to each app's environment workflow with the
 * signed delivery as evidence (the worker checks it with GitHub before it counts), and answer on
 * GitHub with a reaction or a reply saying why not. A decision that was recorded stays recorded
 * even when GitHub cannot be reached for the answer: that is logged, not turned into an error.
 * GitHub gives up on a delivery after 10 seconds, and the worker's check of a comment may take
 * longer (it asks GitHub, and retries): after `answerWithinMs` the delivery is answered as pending
 * and the answer on GitHub follows when the environment workflow has decided.
 */
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Octokit } from '@octokit/rest';
import { environmentWorkflowId } from '../../core/ids.js';
import { approveUpdate, rejectUpdate } from '../../workflows/messages.js';
import type { ApprovalDecision } from '../../workflows/types.js';
import { githubAnswer, replyText, type CommentDecision, type CommentEvent, type CommentTarget, type DecisionOutcome } from './comment-command.js';
import { githubErrorText, pullRequestHead, reactRecorded, replyTo } from './github.js';

export interface DecisionTarget {
  app: string;
  environment: string;
  decision: 'approve' | 'reject';
}

/** Sends one decision to one environment workflow and says what it answered. */
export type SendDecision = (to: DecisionTarget, decision: ApprovalDecision) => Promise<DecisionOutcome>;

/** Failure types with which an environment workflow says it waits for no decision on this build. */
const NOTHING_WAITING = new Set(['NotAwaitingApproval']);

export function sendDecisionViaTemporal(client: Client): SendDecision {
  return async ({ app, environment, decision }, args) => {
    try {
      const result = await client.workflow
        .getHandle(environmentWorkflowId(app, environment))
        .executeUpdate(decision === 'approve' ? approveUpdate : rejectUpdate, { args: [args] });
      return { app, recorded: true, result: { ...result } };
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        const type = (err.cause as { type?: unknown } | undefined)?.type;
        return { app, recorded: false, reason: err.cause?.message ?? err.message, nothingWaiting: typeof type === 'string' && NOTHING_WAITING.has(type) };
      }
      if ((err as Error).name === 'WorkflowNotFoundError') {
        return { app, recorded: false, reason: `${app}/${environment} has nothing waiting for approval (no promotion has run there yet)`, nothingWaiting: true };
      }
      // Temporal unreachable and the like: the caller answers 503 and GitHub may redeliver.
      throw err;
    }
  };
}

export interface RelayContext {
  event: CommentEvent;
  /** The delivery as GitHub signed it: the worker verifies the signature itself. */
  body: string;
  signature: string;
  github: Octokit;
  sendDecision: SendDecision;
  /** How long the delivery waits for the environment workflows' answers before it is answered as pending. */
  answerWithinMs: number;
  log: (fields: Record<string, unknown>) => void;
}

export interface RelayAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** What the webhook answers on GitHub: each part `added`/`posted`, or `failed: <why>`. */
type GithubAnswerReport = { reaction?: string; reply?: string };

export async function relayComment(decision: Exclude<CommentDecision, { action: 'ignore' }>, context: RelayContext): Promise<RelayAnswer> {
  const { target, command } = decision;
  const { github, log } = context;
  if (decision.action === 'refuse') {
    log({ webhook: 'refused', command: command.decision, environment: command.environment, by: target.by, reason: decision.reason });
    return { status: 202, body: { refused: decision.reason, github: await answer(github, target, { react: false, reply: replyText(command, [{ reason: decision.reason }]) }, log) } };
  }

  let commit: string;
  try {
    commit = target.kind === 'commit' ? target.commit! : await pullRequestHead(github, target.repo, target.pullNumber!);
  } catch (err) {
    const why = githubErrorText(err);
    log({ webhook: 'failed', step: `read pull request #${target.pullNumber} of ${target.repo}`, error: why });
    return { status: 503, body: { error: `cannot read pull request #${target.pullNumber} of ${target.repo} (${why}); redeliver later` } };
  }

  const args: ApprovalDecision = {
    by: target.by,
    channel: 'github',
    // A rejection carries its reason; an approval points at the comment that gave it.
    comment: command.decision === 'reject' && command.reason ? command.reason : target.commentUrl,
    version: commit,
    evidence: { event: context.event, body: context.body, signature: context.signature },
  };
  const environment = command.environment;
  const work = (async () => {
    const outcomes = await Promise.all(decision.apps.map((app) => context.sendDecision({ app, environment, decision: command.decision }, args)));
    for (const o of outcomes) {
      log({ webhook: o.recorded ? 'recorded' : 'refused', app: o.app, environment, command: command.decision, by: target.by, commit, ...(o.recorded ? {} : { reason: o.reason }) });
    }
    return { outcomes, github: await answer(github, target, githubAnswer(command, outcomes), log) };
  })();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), context.answerWithinMs);
  });
  // A failure before the deadline fails the delivery (503, GitHub may redeliver); one after it is logged.
  const first = await Promise.race([work, late]).finally(() => clearTimeout(timer));
  const about = { command: command.decision, environment, commit, by: target.by };
  if (first === 'late') {
    work.catch((err: unknown) => log({ webhook: 'failed', ...about, error: err instanceof Error ? err.message : String(err) }));
    return { status: 202, body: { ...about, pending: `the environment workflow${decision.apps.length > 1 ? 's have' : ' has'} not answered yet; Slipway answers on GitHub when ${decision.apps.length > 1 ? 'they do' : 'it does'}` } };
  }
  return { status: 202, body: { ...about, ...first } };
}

async function answer(github: Octokit, target: CommentTarget, plan: { react: boolean; reply?: string }, log: RelayContext['log']): Promise<GithubAnswerReport> {
  const report: GithubAnswerReport = {};
  if (plan.react) {
    report.reaction = await attempt(() => reactRecorded(github, target), 'added', `react to comment ${target.commentId} in ${target.repo}`, log);
  }
  if (plan.reply !== undefined) {
    const body = plan.reply;
    report.reply = await attempt(() => replyTo(github, target, body), 'posted', `reply to comment ${target.commentId} in ${target.repo}`, log);
  }
  return report;
}

async function attempt(call: () => Promise<void>, done: string, step: string, log: RelayContext['log']): Promise<string> {
  try {
    await call();
    return done;
  } catch (err) {
    const why = githubErrorText(err);
    log({ webhook: 'github-answer-failed', step, error: why });
    return `failed: ${why}`;
  }
}
