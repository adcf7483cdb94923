/**
 * Checking an approval that came from a GitHub comment, on the worker, without trusting whoever
 * relayed it: the delivery must carry GitHub's signature under the worker's own webhook secret
 * (SLIPWAY_WEBHOOK_SECRET), come from the app's source repository, be a new comment by the person
 * named, say `/slipway approve|reject <environment>`, be on the build that waits (the commit, or a
 * pull request whose head it is), and its author must be an approver (listed, in a listed team,
 * or — with no list — someone with write access to the repository).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { VerifiedApproval, VerifyApprovalInput } from '../types.js';
import { repoClient, type GithubClientOptions } from './client.js';
import { isStatus, toGithubFailure } from './failures.js';

/** What a comment must say: `/slipway approve production`, `/slipway reject production <reason>`. */
export function commentDecision(body: string): { decision: 'approve' | 'reject'; environment: string; reason?: string } | undefined {
  const firstLine = body.split(/\r?\n/, 1)[0]!.trim();
  const match = /^\/slipway\s+(approve|reject)\s+([a-z0-9][a-z0-9-]*)(?:\s+(.+))?$/.exec(firstLine);
  if (!match) return undefined;
  return { decision: match[1] as 'approve' | 'reject', environment: match[2]!, ...(match[3] ? { reason: match[3] } : {}) };
}

export function signatureMatches(secret: string, body: string, signature: string): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

interface CommentPayload {
  action?: string;
  repository?: { full_name?: string };
  comment?: { id?: number; user?: { login?: string }; body?: string; created_at?: string; commit_id?: string; html_url?: string };
  issue?: { number?: number; pull_request?: unknown };
}

export async function verifyApproval(input: VerifyApprovalInput, options: GithubClientOptions & { env?: NodeJS.ProcessEnv } = {}): Promise<VerifiedApproval> {
  const refuse = (reason: string): VerifiedApproval => ({ ok: false, reason });
  const secret = (options.env ?? process.env).SLIPWAY_WEBHOOK_SECRET;
  if (!secret) return refuse('the worker has no SLIPWAY_WEBHOOK_SECRET to check GitHub approvals with');
  if (!signatureMatches(secret, input.delivery.body, input.delivery.signature)) return refuse('the delivery does not carry a valid GitHub signature');

  let payload: CommentPayload;
  try {
    payload = JSON.parse(input.delivery.body) as CommentPayload;
  } catch {
    return refuse('the delivery is not JSON');
  }
  const comment = payload.comment;
  const login = comment?.user?.login;
  if (payload.action !== 'created' || !comment || typeof comment.id !== 'number' || !login) return refuse('the delivery is not a new comment');
  if (payload.repository?.full_name?.toLowerCase() !== input.source.repo.toLowerCase()) {
    return refuse(`the comment is in ${payload.repository?.full_name ?? 'another repository'}, not in ${input.source.repo}`);
  }
  if (login.toLowerCase() !== input.by.toLowerCase()) return refuse(`the comment is by ${login}, not by ${input.by}`);
  const said = commentDecision(comment.body ?? '');
  if (!said || said.decision !== input.decision || said.environment !== input.environment) {
    return refuse(`the comment does not say "/slipway ${input.decision} ${input.environment}"`);
  }
  const created = Date.parse(comment.created_at ?? '');
  if (!(created >= input.notBefore)) return refuse('the comment is older than the wait for approval: an earlier decision cannot be used again');

  const client = repoClient(input.source, options);
  const { octokit, owner, repo } = client;
  try {
    if (input.delivery.event === 'commit_comment') {
      if (comment.commit_id !== input.commit) return refuse(`the comment is on commit ${comment.commit_id}, not on ${input.commit}`);
    } else {
      if (!payload.issue?.pull_request || typeof payload.issue.number !== 'number') return refuse('the comment is on an issue, not on a pull request');
      const { data: pull } = await octokit.rest.pulls.get({ owner, repo, pull_number: payload.issue.number });
      if (pull.head.sha !== input.commit) return refuse(`pull request #${payload.issue.number} is at ${pull.head.sha}, not at ${input.commit}`);
    }
    const allowed = await isApprover(client, login, input.approvers);
    if (!allowed.ok) return refuse(allowed.reason);
  } catch (err) {
    throw toGithubFailure(err, `check the approval of ${login} in ${input.source.repo}`, client.token);
  }
  return { ok: true, login, commentId: comment.id, url: comment.html_url ?? '' };
}

async function isApprover(
  { octokit, owner, repo }: ReturnType<typeof repoClient>,
  login: string,
  approvers: VerifyApprovalInput['approvers'],
): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (!approvers || (approvers.users.length === 0 && approvers.teams.length === 0)) {
    const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo, username: login });
    return ['admin', 'maintain', 'write'].includes(data.permission) ? { ok: true } : { ok: false, reason: `${login} has ${data.permission} access to ${owner}/${repo}, not write` };
  }
  if (approvers.users.some((u) => u.toLowerCase() === login.toLowerCase())) return { ok: true };
  for (const team of approvers.teams) {
    const [org, slug] = team.split('/') as [string, string];
    try {
      const { data } = await octokit.rest.teams.getMembershipForUserInOrg({ org, team_slug: slug, username: login });
      if (data.state === 'active') return { ok: true };
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
    }
  }
  return { ok: false, reason: `${login} is not among the approvers (${[...approvers.users, ...approvers.teams].join(', ')})` };
}
