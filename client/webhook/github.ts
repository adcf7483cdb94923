/**
 * The webhook's few GitHub calls, for comment commands: the head commit of a pull request, and the
 * answer to a comment (a +1 reaction, or a reply). Its token is GITHUB_TOKEN, its API root
 * GITHUB_API_URL (GitHub Enterprise, or a mock in tests).
 */
import { RequestError } from '@octokit/request-error';
import { Octokit } from '@octokit/rest';
import type { CommentTarget } from './comment-command.js';

export function createGithubClient(options: { token: string; baseUrl?: string }): Octokit {
  return new Octokit({
    auth: options.token,
    baseUrl: options.baseUrl ?? 'https://api.github.com',
    userAgent: 'slipway-webhook',
    // Octokit's default logger prints failed requests with their URLs; the webhook logs its own line.
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    request: { retries: 0 },
  });
}

/** The client for the webhook process, or undefined when it has no GITHUB_TOKEN (comment commands are then off). */
export function githubFromEnv(env: NodeJS.ProcessEnv = process.env): Octokit | undefined {
  const token = env.GITHUB_TOKEN;
  return token ? createGithubClient({ token, ...(env.GITHUB_API_URL ? { baseUrl: env.GITHUB_API_URL } : {}) }) : undefined;
}

function ownerAndName(repo: string): { owner: string; repo: string } {
  const [owner, name] = repo.split('/') as [string, string];
  return { owner, repo: name };
}

/** The commit a pull request is at: what a `/slipway` comment in its conversation decides on. */
export async function pullRequestHead(octokit: Octokit, repo: string, pullNumber: number): Promise<string> {
  const { data } = await octokit.rest.pulls.get({ ...ownerAndName(repo), pull_number: pullNumber });
  return data.head.sha.toLowerCase();
}

/** The +1 reaction that says the decision was recorded. */
export async function reactRecorded(octokit: Octokit, target: CommentTarget): Promise<void> {
  const where = { ...ownerAndName(target.repo), comment_id: target.commentId, content: '+1' as const };
  if (target.kind === 'issue') await octokit.rest.reactions.createForIssueComment(where);
  else await octokit.rest.reactions.createForCommitComment(where);
}

/** A reply beside the comment: in the pull request's conversation, or on the commit. */
export async function replyTo(octokit: Octokit, target: CommentTarget, body: string): Promise<void> {
  if (target.kind === 'issue') await octokit.rest.issues.createComment({ ...ownerAndName(target.repo), issue_number: target.pullNumber!, body });
  else await octokit.rest.repos.createCommitComment({ ...ownerAndName(target.repo), commit_sha: target.commit!, body });
}

/** For logs and answers: the status and GitHub's message, never the request (it carries the token). */
export function githubErrorText(err: unknown): string {
  // Octokit reports a network failure as a RequestError too (status 500), but without a response.
  if (err instanceof RequestError && err.response) {
    const message = (err.response?.data as { message?: unknown } | undefined)?.message;
    return `GitHub answered ${err.status}${typeof message === 'string' ? `: ${message}` : ''}`;
  }
  return `GitHub unreachable: ${err instanceof Error ? err.message : String(err)}`;
}
