/**
 * Pull requests on the GitOps repository, for pull-request mode: open the one for a write's branch
 * (or find it again), and read what became of it.
 *
 * One pull request per head branch, never two: the open pull requests of the branch are listed
 * before one is created, so an attempt that created it and died before answering is answered by
 * the next attempt with the same pull request; and a create GitHub refuses (422, also what it says
 * when one exists already for the branch) is followed by another look before it counts as refused.
 * Labels and reviewers are asked for best-effort: a refusal is reported, never fatal.
 */
import { ApplicationFailure } from '@temporalio/common';
import { shortSha } from '../../core/ids.js';
import type { ImageSetting } from '../../core/images.js';
import { workflowUiUrl } from '../../core/links.js';
import {
  FailureType,
  type ClosePullRequestInput,
  type MergePullRequestInput,
  type MergePullRequestResult,
  type OpenedPullRequest,
  type OpenPullRequestInput,
  type PullRequestChange,
  type PullRequestState,
  type PullRequestStateInput,
} from '../types.js';
import { repoClient, type GithubClientOptions, type RepoClient } from './client.js';
import { isStatus, scrub, toGithubFailure } from './failures.js';
import { upsertComment } from './sticky-comment.js';

export interface PullRequestOptions extends GithubClientOptions {
  /** The Temporal UI's address (SLIPWAY_UI_URL), for the release's link in the body; as the notifications use it. */
  uiUrl?: string;
  namespace?: string;
}

/** The fields of a pull request (listed or fetched) this module reads. */
export interface PullPayload {
  number: number;
  state: string;
  html_url: string;
  merged?: boolean;
  merged_at?: string | null;
  closed_at?: string | null;
  merge_commit_sha?: string | null;
  merged_by?: { login: string } | null;
  head: { ref: string; sha: string; repo?: { full_name: string } | null };
  base: { ref: string };
}

// ---------------------------------------------------------------- pure decisions

/**
 * The pull request already there for `head` → `base` in `owner/repo`, among those GitHub listed:
 * from this repository's branch (not a fork's of the same name), an open one first, else the
 * newest (closed or merged: the caller decides what that means; a second one is never opened).
 */
export function existingPullRequest<P extends PullPayload>(listed: P[], want: { repo: string; head: string; base: string }): P | undefined {
  const repo = want.repo.toLowerCase();
  const ours = listed.filter((p) => p.head.ref === want.head && p.base.ref === want.base && (p.head.repo?.full_name ?? '').toLowerCase() === repo);
  return ours.find((p) => p.state === 'open') ?? [...ours].sort((a, b) => b.number - a.number)[0];
}

/** What a pull request's payload says became of it (who closed it comes from the issue, see whoClosed). */
export function stateOf(pr: PullPayload): PullRequestState {
  const common = { number: pr.number, url: pr.html_url, headSha: pr.head.sha };
  // A listed pull request has no `merged`; a closed one with merged_at was merged.
  if (pr.merged === true || (pr.state === 'closed' && pr.merged_at)) {
    return {
      state: 'merged',
      ...common,
      mergeCommit: pr.merge_commit_sha ?? '',
      ...(pr.merged_by?.login ? { mergedBy: pr.merged_by.login } : {}),
      ...(pr.merged_at ? { mergedAt: pr.merged_at } : {}),
    };
  }
  if (pr.state === 'closed') return { state: 'closed', ...common, ...(pr.closed_at ? { closedAt: pr.closed_at } : {}) };
  return { state: 'open', ...common };
}

/** Title and body of a write's pull request: what changes, from which build, which release, and where to watch it. */
export function pullRequestText(change: PullRequestChange, releaseUrl: string | undefined): { title: string; body: string } {
  const build = `${shortSha(change.sourceCommit)}${change.version ? ` (${change.version})` : ''}`;
  const title = change.undo
    ? `roll back ${change.app} in ${change.environment}: undo ${build}`
    : change.kind === 'rollback'
      ? `rollback ${change.app} in ${change.environment} to ${build}`
      : `promote ${change.app} to ${change.environment}: ${build}`;
  const release = releaseUrl ? `[${code(change.releaseId)}](${releaseUrl}) (Temporal UI)` : code(change.releaseId);
  const buildText = `build ${code(change.sourceCommit)}${change.version ? ` (${plain(change.version)})` : ''}`;
  const body = [
    change.undo
      ? `Rolls back **${plain(change.app)}** in **${plain(change.environment)}**: ${buildText} failed there, and this writes back the images the overlay held before it.`
      : `${change.kind === 'rollback' ? 'Rolls back' : 'Promotes'} **${plain(change.app)}** in **${plain(change.environment)}** to ${buildText}.`,
    '',
    `Overlay ${code(change.overlay)}:`,
    '',
    '| image | set to |',
    '|---|---|',
    ...change.images.map((i) => `| ${code(i.name)} | ${code(imageValue(i))} |`),
    '',
    `Release: ${release}`,
    '',
    `Merging this pull request deploys it: Argo CD syncs ${plain(change.environment)} from the merged commit.`,
  ].join('\n');
  return { title: title.replace(/[\r\n]+/g, ' ').slice(0, 256), body };
}

function imageValue(i: ImageSetting): string {
  return `${i.newName ?? i.name}${i.newTag ? `:${i.newTag}` : ''}${i.digest ? `@${i.digest}` : ''}`;
}

/** Text from the policy or the request, shown as code: no backtick, pipe or newline can break out of it. */
function code(text: string): string {
  return `\`${text.replace(/[`|\r\n]/g, ' ')}\``;
}

function plain(text: string): string {
  return text.replace(/[\r\n|*_`[\]<>]/g, ' ');
}

// ---------------------------------------------------------------- activities

export async function openPullRequest(input: OpenPullRequestInput, options: PullRequestOptions = {}): Promise<OpenedPullRequest> {
  const client = repoClient(input, options);
  const where = `open a pull request ${input.head} → ${input.base} in ${input.repo}`;
  try {
    let pr = await findPullRequest(client, input);
    let created = false;
    if (!pr) {
      const text = pullRequestText(input.change, workflowUiUrl({ uiUrl: options.uiUrl, namespace: options.namespace ?? 'default' }, input.change.releaseId));
      try {
        const response = await client.octokit.pulls.create({ owner: client.owner, repo: client.repo, head: input.head, base: input.base, title: text.title, body: text.body });
        pr = response.data as unknown as PullPayload;
        created = true;
      } catch (err) {
        // GitHub answers 422 when a pull request for the branch exists already (another attempt
        // made it meanwhile): that one is the answer. Any other 422 is a refusal.
        if (!isStatus(err, 422)) throw err;
        pr = await findPullRequest(client, input);
        if (!pr) throw classify(err, where, client.token, { 422: FailureType.PullRequestRefused });
      }
    }
    const state = stateOf(pr);
    const problems = state.state === 'open' ? await askForReview(client, pr.number, input) : [];
    return { number: pr.number, url: pr.html_url, created, state: state.state, headSha: pr.head.sha, problems };
  } catch (err) {
    throw classify(err, where, client.token, {});
  }
}

export async function pullRequestState(input: PullRequestStateInput, options: GithubClientOptions = {}): Promise<PullRequestState> {
  return withState(input, options, 'read', async (client, state) => {
    if (state.state !== 'closed') return state;
    const closedBy = await whoClosed(client, input.number);
    return closedBy ? { ...state, closedBy } : state;
  });
}

/**
 * Asks GitHub to merge the pull request at `sha`, the head Slipway wrote: a branch a person pushed
 * to since is not merged by Slipway (409), nor one GitHub will not merge yet (405: reviews or
 * checks required, or the base takes changes through a merge queue). Both leave the pull request
 * open and are answered `merged: false` with GitHub's reason; the promotion waits on. A merge
 * whose answer was lost is found merged by the retry (`pulls.get`), never merged twice.
 */
export async function mergePullRequest(input: MergePullRequestInput, options: GithubClientOptions = {}): Promise<MergePullRequestResult> {
  return withState(input, options, 'merge', async (client, before, where) => {
    if (before.state === 'merged') return { merged: true, mergeCommit: before.mergeCommit };
    if (before.state === 'closed') return { merged: false, reason: `#${input.number} is closed` };
    try {
      const { data } = await client.octokit.pulls.merge({ owner: client.owner, repo: client.repo, pull_number: input.number, sha: input.sha, merge_method: input.mergeMethod });
      return { merged: true, mergeCommit: data.sha };
    } catch (err) {
      if ([405, 409, 422].some((status) => isStatus(err, status))) return { merged: false, reason: toGithubFailure(err, where, client.token).message };
      throw err;
    }
  });
}

/**
 * Says why on the pull request, then closes it. The comment carries a hidden marker and is looked
 * for first (upsertComment), so a retry (the close's answer lost) says it once. A pull request
 * merged meanwhile is not closed: its state is returned, and the caller goes on with the merge.
 */
export async function closePullRequest(input: ClosePullRequestInput, options: GithubClientOptions = {}): Promise<PullRequestState> {
  return withState(input, options, 'close', async (client, state) => {
    if (state.state !== 'open') return state;
    await upsertComment({ repo: input.repo, tokenFromEnv: input.tokenFromEnv, number: input.number, marker: input.marker, body: input.comment }, options);
    const { data: closed } = await client.octokit.pulls.update({ owner: client.owner, repo: client.repo, pull_number: input.number, state: 'closed' });
    return stateOf(closed as unknown as PullPayload);
  });
}

/** Reads the pull request and hands its state to `act`; what fails is classified (404: PullRequestNotFound), the token scrubbed. */
async function withState<T>(
  input: PullRequestStateInput,
  options: GithubClientOptions,
  what: 'read' | 'merge' | 'close',
  act: (client: RepoClient, state: PullRequestState, where: string) => Promise<T>,
): Promise<T> {
  const client = repoClient(input, options);
  const where = `${what} pull request #${input.number} of ${input.repo}`;
  try {
    const { data } = await client.octokit.pulls.get({ owner: client.owner, repo: client.repo, pull_number: input.number });
    return await act(client, stateOf(data as unknown as PullPayload), where);
  } catch (err) {
    throw classify(err, where, client.token, { 404: FailureType.PullRequestNotFound });
  }
}

/**
 * Who closed a pull request: the issue's `closed_by` (a pull request is an issue too), else the
 * actor of its last `closed` event. Undefined when GitHub says neither (the state stands anyway).
 */
export async function whoClosed(client: RepoClient, number: number): Promise<string | undefined> {
  try {
    const { data } = await client.octokit.issues.get({ owner: client.owner, repo: client.repo, issue_number: number });
    if (data.closed_by?.login) return data.closed_by.login;
  } catch (err) {
    // A token that may read pull requests but not issues: the events may still say.
    if (!isStatus(err, 404) && !isStatus(err, 403)) throw err;
  }
  const { data: events } = await client.octokit.issues.listEvents({ owner: client.owner, repo: client.repo, issue_number: number, per_page: 100 });
  return [...events].reverse().find((e) => e.event === 'closed')?.actor?.login;
}

async function findPullRequest(client: RepoClient, input: OpenPullRequestInput): Promise<PullPayload | undefined> {
  const { data } = await client.octokit.pulls.list({
    owner: client.owner,
    repo: client.repo,
    head: `${client.owner}:${input.head}`,
    base: input.base,
    // Closed ones too: a pull request a person closed is an answer, not a reason to open another.
    state: 'all',
    per_page: 100,
  });
  // GitHub filters by head and base already; checking again keeps us right with servers (and mocks) that don't.
  return existingPullRequest(data as unknown as PullPayload[], { repo: `${client.owner}/${client.repo}`, head: input.head, base: input.base });
}

/** Labels and reviewers, each asked for once per attempt (both are idempotent on GitHub); refusals are returned. */
async function askForReview(client: RepoClient, number: number, input: OpenPullRequestInput): Promise<string[]> {
  const problems: string[] = [];
  const failed = (what: string, err: unknown) => problems.push(scrub(`${what}: ${toGithubFailure(err, `#${number}`, client.token).message}`, client.token));
  if (input.labels?.length) {
    await client.octokit.issues.addLabels({ owner: client.owner, repo: client.repo, issue_number: number, labels: input.labels }).catch((err) => failed(`labels ${input.labels!.join(', ')}`, err));
  }
  const reviewers = input.reviewers ?? [];
  const users = reviewers.filter((r) => !r.includes('/'));
  const teams = reviewers.filter((r) => r.includes('/')).map((r) => r.slice(r.indexOf('/') + 1));
  if (users.length || teams.length) {
    await client.octokit.pulls
      .requestReviewers({ owner: client.owner, repo: client.repo, pull_number: number, ...(users.length ? { reviewers: users } : {}), ...(teams.length ? { team_reviewers: teams } : {}) })
      .catch((err) => failed(`reviewers ${reviewers.join(', ')}`, err));
  }
  return problems;
}

/** toGithubFailure, with a clearer type for the statuses that mean something here. */
function classify(err: unknown, where: string, token: string, types: { 404?: FailureType; 422?: FailureType }): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  const failure = toGithubFailure(err, where, token);
  for (const status of [404, 422] as const) {
    const type = types[status];
    if (type && isStatus(err, status)) return ApplicationFailure.create({ message: failure.message, type, nonRetryable: true });
  }
  return failure;
}
