/**
 * One comment per pull request and purpose ("sticky"), kept up to date instead of posted again:
 * the comment carries a hidden marker line, `<!-- slipway:<marker> -->`, by which every later call
 * finds it again and edits it.
 *
 * Retried safely: the comments are read before one is created, so an attempt that created the
 * comment and died before answering is answered by the next attempt with that comment; and an
 * unchanged body is not sent at all (no edit, no "edited" mark, no notification). Reading is
 * bounded (at most MAX_PAGES pages of 100): past that nothing is created, since a comment there
 * would never be found again and every call would add another.
 */
import { ApplicationFailure } from '@temporalio/common';
import { heartbeat } from '../activity-context.js';
import { FailureType, type UpsertCommentInput, type UpsertedComment } from '../types.js';

export type { UpsertCommentInput, UpsertedComment };
import { repoClient, type GithubClientOptions, type RepoClient } from './client.js';
import { isStatus, toGithubFailure } from './failures.js';

/** The fields of a listed issue comment this module reads. */
export interface CommentPayload {
  id: number;
  body?: string | null;
  html_url: string;
  created_at: string;
}

export const MAX_PAGES = 10;
const PER_PAGE = 100;
/** GitHub refuses a comment body longer than this (422). */
const MAX_BODY = 65_536;
const MARKER = /^[A-Za-z0-9:/._-]+$/;

// ---------------------------------------------------------------- pure

/** The hidden line that identifies the comment; an HTML comment, so GitHub does not show it. */
export function markerLine(marker: string): string {
  return `<!-- slipway:${marker} -->`;
}

/** The body as posted: the text, a blank line, the marker line. */
export function markedBody(body: string, marker: string): string {
  return `${body.replace(/\s+$/, '')}\n\n${markerLine(marker)}`;
}

/**
 * The comment that holds the marker as a line of its own (so `preview/a` is not found in a comment
 * marked `preview/a/b`), the newest when there are several: the one a person saw last.
 */
export function findMarkedComment<C extends CommentPayload>(comments: C[], marker: string): C | undefined {
  const line = markerLine(marker);
  const marked = comments.filter((c) => (c.body ?? '').split(/\r?\n/).some((l) => l.trim() === line));
  return marked.sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at) || b.id - a.id)[0];
}

/** Why the input cannot be posted (before anything is asked of GitHub), or undefined. */
export function commentInputProblem(input: Pick<UpsertCommentInput, 'marker' | 'body' | 'number'>): string | undefined {
  if (!MARKER.test(input.marker)) return `the comment marker "${input.marker}" may hold only letters, digits and : / . _ -`;
  if (!Number.isSafeInteger(input.number) || input.number <= 0) return `expected a pull request number, got ${input.number}`;
  // Another marker in the text would make this comment be found for that one too.
  if (input.body.includes('<!-- slipway:')) return 'the comment body holds a Slipway marker of its own';
  if (markedBody(input.body, input.marker).length > MAX_BODY) return `the comment body is longer than GitHub's ${MAX_BODY} characters`;
  return undefined;
}

const sameText = (a: string | null | undefined, b: string) => (a ?? '').replace(/\r\n/g, '\n') === b;

// ---------------------------------------------------------------- activity

export async function upsertComment(input: UpsertCommentInput, options: GithubClientOptions = {}): Promise<UpsertedComment> {
  const problem = commentInputProblem(input);
  if (problem) throw ApplicationFailure.create({ message: `comment on #${input.number} of ${input.repo}: ${problem}`, type: FailureType.InvalidConfig, nonRetryable: true });
  const client = repoClient({ repo: input.repo, tokenFromEnv: input.tokenFromEnv ?? 'GITHUB_TOKEN' }, options);
  const where = `comment ${input.marker} on #${input.number} of ${input.repo}`;
  const body = markedBody(input.body, input.marker);
  try {
    // Twice at most: a comment found, then deleted by a person before our edit (404), is looked for again.
    for (let look = 1; ; look++) {
      const found = await findComment(client, input, where);
      if (!found) {
        const { data } = await client.octokit.issues.createComment({ owner: client.owner, repo: client.repo, issue_number: input.number, body });
        return { id: data.id, url: data.html_url, created: true, updated: false };
      }
      if (sameText(found.body, body)) return { id: found.id, url: found.html_url, created: false, updated: false };
      try {
        const { data } = await client.octokit.issues.updateComment({ owner: client.owner, repo: client.repo, comment_id: found.id, body });
        return { id: found.id, url: data.html_url || found.html_url, created: false, updated: true };
      } catch (err) {
        if (!isStatus(err, 404) || look >= 2) throw err;
      }
    }
  } catch (err) {
    throw classify(err, where, client.token);
  }
}

/** The marked comment among the pull request's first MAX_PAGES pages of comments. */
async function findComment(client: RepoClient, input: UpsertCommentInput, where: string): Promise<CommentPayload | undefined> {
  const comments: CommentPayload[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    heartbeat({ readingComments: page });
    const { data } = await client.octokit.issues.listComments({ owner: client.owner, repo: client.repo, issue_number: input.number, per_page: PER_PAGE, page });
    comments.push(...(data as CommentPayload[]));
    if (data.length < PER_PAGE) return findMarkedComment(comments, input.marker);
  }
  const found = findMarkedComment(comments, input.marker);
  if (found) return found;
  throw ApplicationFailure.create({
    message: `${where}: the pull request has more than ${MAX_PAGES * PER_PAGE} comments and none of the first ones is ours; nothing was posted (a comment past them would never be found again)`,
    type: FailureType.GitHubRequestFailed,
    nonRetryable: true,
  });
}

/** toGithubFailure (token scrubbed, no cause), and a 404 — no such pull request, or one the token cannot see — as PullRequestNotFound. */
function classify(err: unknown, where: string, token: string): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  const failure = toGithubFailure(err, where, token);
  if (isStatus(err, 404)) return ApplicationFailure.create({ message: failure.message, type: FailureType.PullRequestNotFound, nonRetryable: true });
  return failure;
}
