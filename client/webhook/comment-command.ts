/**
 * What a GitHub comment asks of Slipway: `/slipway approve <environment>` or `/slipway reject
 * <environment> <reason…>` as its first line, in a pull request's conversation (`issue_comment`)
 * or on a commit (`commit_comment`), in an app's source repository. The webhook only relays it:
 * the worker checks the comment with GitHub itself before it counts. Pure: tested without a server.
 */
import { commentDecision } from '../../activities/github/index.js';
import type { PolicySummary } from '../../activities/types.js';
import { PayloadError } from './tag-push.js';

export type CommentEvent = 'issue_comment' | 'commit_comment';

export const COMMENT_EVENTS: readonly string[] = ['issue_comment', 'commit_comment'] satisfies CommentEvent[];

/** The comment a command came in, and where Slipway answers it. */
export interface CommentTarget {
  /** owner/name as GitHub spells it. */
  repo: string;
  /** `issue` for a pull request's conversation, `commit` for a comment on a commit. */
  kind: 'issue' | 'commit';
  commentId: number;
  commentUrl: string;
  /** The comment's author: the person who decides. */
  by: string;
  /** For `issue`: the pull request, whose head commit is the build decided on. */
  pullNumber?: number;
  /** For `commit`: the commit commented on. */
  commit?: string;
}

export interface SlipwayCommand {
  decision: 'approve' | 'reject';
  environment: string;
  reason?: string;
}

export type CommentDecision =
  | { action: 'ignore'; reason: string }
  /** A command Slipway cannot take (no such environment, no approval gate): answered on GitHub with the reason. */
  | { action: 'refuse'; reason: string; target: CommentTarget; command: SlipwayCommand }
  /** Send the decision to the environment workflow of each of `apps`. */
  | { action: 'relay'; apps: string[]; target: CommentTarget; command: SlipwayCommand };

const SHA = /^[0-9a-f]{40}$/i;

export function decideComment(event: CommentEvent, payload: unknown, policy: Pick<PolicySummary, 'apps'>): CommentDecision {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new PayloadError('expected a JSON object');
  const delivery = payload as Record<string, unknown>;
  if (typeof delivery.action !== 'string') throw new PayloadError('missing "action"');
  const repo = (delivery.repository as { full_name?: unknown } | undefined)?.full_name;
  if (typeof repo !== 'string') throw new PayloadError('missing "repository.full_name"');
  const comment = delivery.comment as { id?: unknown; body?: unknown; html_url?: unknown; user?: { login?: unknown }; commit_id?: unknown } | undefined;
  if (typeof comment?.id !== 'number' || typeof comment.user?.login !== 'string') throw new PayloadError('missing "comment.id" or "comment.user.login"');
  // Only a new comment is a decision: an edit would turn an old comment into a new command.
  if (delivery.action !== 'created') return ignore(`comment ${delivery.action}, not created`);

  const base = { repo, commentId: comment.id, commentUrl: typeof comment.html_url === 'string' ? comment.html_url : '', by: comment.user.login };
  let target: CommentTarget;
  if (event === 'issue_comment') {
    const issue = delivery.issue as { number?: unknown; pull_request?: unknown } | undefined;
    if (typeof issue?.number !== 'number') throw new PayloadError('missing "issue.number"');
    if (!issue.pull_request) return ignore(`comment on issue #${issue.number}, not on a pull request`);
    target = { ...base, kind: 'issue', pullNumber: issue.number };
  } else {
    if (typeof comment.commit_id !== 'string' || !SHA.test(comment.commit_id)) throw new PayloadError('missing "comment.commit_id"');
    target = { ...base, kind: 'commit', commit: comment.commit_id.toLowerCase() };
  }

  const command = commentDecision(typeof comment.body === 'string' ? comment.body : '');
  if (!command) return ignore('not a Slipway command (the first line is not "/slipway approve <environment>" or "/slipway reject <environment> <reason>")');

  const apps = Object.entries(policy.apps).filter(([, app]) => app.source?.toLowerCase() === repo.toLowerCase());
  if (apps.length === 0) return ignore(`no app has source ${repo}`);
  const withEnvironment = apps.filter(([, app]) => app.environments.some((e) => e.name === command.environment));
  if (withEnvironment.length === 0) {
    const known = apps.map(([name, app]) => `${name}: ${app.environments.map((e) => e.name).join(', ')}`).join('; ');
    return { action: 'refuse', reason: `no app of ${repo} has an environment "${command.environment}" (${known})`, target, command };
  }
  const gated = withEnvironment.filter(([, app]) => app.environments.find((e) => e.name === command.environment)!.approval?.required);
  if (gated.length === 0) {
    return { action: 'refuse', reason: `${command.environment} of ${withEnvironment.map(([name]) => name).join(', ')} takes no approvals (no approval gate in the policy)`, target, command };
  }
  return { action: 'relay', apps: gated.map(([name]) => name), target, command };
}

/** What the environment workflow of one app said to the relayed decision. */
export type DecisionOutcome =
  | { app: string; recorded: true; result: Record<string, unknown> }
  /** `nothingWaiting`: the environment waits for no decision on this build; not a refusal of the person. */
  | { app: string; recorded: false; reason: string; nothingWaiting: boolean };

/**
 * How Slipway answers on GitHub: a +1 reaction when the decision was recorded for some app, a reply
 * with the reasons where it was refused. An app of the same repository that waits for nothing on
 * this build is not worth a reply once another app took the decision (one repository, several apps).
 */
export function githubAnswer(command: SlipwayCommand, outcomes: DecisionOutcome[]): { react: boolean; reply?: string } {
  const recorded = outcomes.some((o) => o.recorded);
  const refused = outcomes.filter((o): o is Extract<DecisionOutcome, { recorded: false }> => !o.recorded && !(recorded && o.nothingWaiting));
  if (refused.length === 0) return { react: recorded };
  return { react: recorded, reply: replyText(command, refused.map((o) => ({ app: o.app, reason: o.reason }))) };
}

/** The reply to a command Slipway did not take. It never starts with `/slipway`, so it is no command itself. */
export function replyText(command: SlipwayCommand, refusals: Array<{ app?: string; reason: string }>): string {
  const what = command.decision === 'approve' ? 'approval' : 'rejection';
  const lines = refusals.map((r) => `- ${r.app ? `${r.app}: ` : ''}${r.reason}`);
  return `Slipway did not record this ${what} for ${command.environment}:\n${lines.join('\n')}`;
}

function ignore(reason: string): CommentDecision {
  return { action: 'ignore', reason };
}
