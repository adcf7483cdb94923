/**
 * Pull-request mode: for a base branch nobody may push to, an overlay write's verified commit goes
 * on a branch of its own, named after the release and environment, for a pull request to merge.
 * The base branch is never pushed to.
 *
 * What holds for the base branch in direct-push mode holds for the write's branch too:
 * - a retry finds its own commit: the branch exists and holds a commit with this write's Slipway
 *   trailers (release, app, environment, build, kind, step) → that commit is the answer and
 *   nothing is pushed, so there is one commit and one branch however often the step runs;
 * - fenced by step: a later step of the same environment on the branch makes this attempt late
 *   (StaleWrite), as on the base branch (step-fence.ts);
 * - nothing is ever forced: commits a person pushed on top of ours are reported and kept, and a
 *   branch of that name without our commit is left as it is (PullRequestBranchTaken);
 * - a lost race (the branch appeared between the look and the push) is a conflict: the write
 *   fetches, applies again and publishes again, and then finds the branch.
 * The base branch's own fence and retry (write-overlay.ts) still run first: a write whose pull
 * request was merged already finds its commit on the base and pushes nothing.
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { shortCommit } from './commit-message.js';
import { FailureType, type BranchCommit, type CommitContext, type WriteOverlayBranchResult, type WriteOverlayInput } from '../types.js';
import { InvalidGitopsInputError, StaleWriteError } from './failures.js';
import type { KeyedLock } from './keyed-lock.js';
import type { GitopsOptions } from './options.js';
import { fenceVerdict, parseStep, parseStepLog, type StepCommit } from './step-fence.js';
import { writeOverlay } from './write-overlay.js';
import { pushHeadTo, type PublishOutcome, type WriteMode } from './write-mode.js';
import type { Workspace } from './workspace.js';

/** Longest release part of a branch name; longer ids are cut and keep a hash of the whole id. */
const MAX_PART = 100;

/**
 * The write's branch: `slipway/<release>/<environment>`, `.rollback` appended for a rollback (its
 * own pull request). The same context always gives the same name, so a retry finds the branch.
 * Each part is one ref component made of [A-Za-z0-9._-]: a release id that had to be changed to
 * fit (other characters, too long) carries a hash of the original, so two ids never share a name.
 * (`/` becomes `-`; ids differing only there would share a branch, and the second write would
 * find it without its commit and stop, never write over the first.)
 */
export function pullRequestBranch(context: Pick<CommitContext, 'releaseId' | 'environment' | 'kind'>): string {
  const suffix = context.kind === 'rollback' ? '.rollback' : '';
  return `slipway/${refPart(context.releaseId, 'release')}/${refPart(context.environment, 'environment')}${suffix}`;
}

function refPart(raw: string, fallback: string): string {
  const plain = raw.replaceAll('/', '-');
  let part = plain
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[.-]+/, '')
    .replace(/[.]+$/, '');
  if (part.endsWith('.lock')) part = part.slice(0, -'.lock'.length);
  if (part === plain && part.length > 0 && part.length <= MAX_PART) return part;
  const hash = createHash('sha256').update(raw).digest('hex').slice(0, 10);
  const head = part.slice(0, MAX_PART).replace(/[.]+$/, '');
  return head ? `${head}-${hash}` : `${fallback}-${hash}`;
}

/** What publish found or did, read after the write by writeOverlayBranch. */
export interface BranchLanding {
  commit: string;
  head: string;
  recovered: boolean;
  pushedByOthers: BranchCommit[];
}

export interface PullRequestModeOptions {
  /** How many commits of an existing branch are read looking for ours; default 50. */
  maxBranchScan?: number;
}

export interface PullRequestMode extends WriteMode {
  readonly branch: string;
  /** The last publish's landing, or undefined when nothing was published (the base already held the write). */
  landing(): BranchLanding | undefined;
}

export function createPullRequestMode(branch: string, options: PullRequestModeOptions = {}): PullRequestMode {
  let landed: BranchLanding | undefined;
  return {
    name: 'pull-request',
    branch,
    landing: () => landed,
    async publish(workspace: Workspace): Promise<PublishOutcome> {
      if (branch === workspace.branch) throw new InvalidGitopsInputError(`the pull-request branch ${branch} is the base branch itself`);
      const mine = await workspace.git(['log', '-1', '--format=%B', 'HEAD']);
      const tip = await remoteTip(workspace, branch);
      if (tip === undefined) {
        const pushed = await pushHeadTo(workspace, branch);
        if (pushed.outcome === 'landed') landed = { commit: pushed.commit, head: pushed.commit, recovered: false, pushedByOthers: [] };
        return pushed;
      }
      const commits = await branchLog(workspace, branch, options.maxBranchScan ?? 50);
      const found = findOwnCommit(commits, mine);
      if (found.kind === 'stale') {
        throw new StaleWriteError(
          `${branch} holds a later step of this environment (${found.by.commit}: ${found.by.step!.sequence} ${found.by.step!.phase}); this late attempt pushed nothing`,
        );
      }
      if (found.kind === 'taken') {
        const head = commits[0];
        throw ApplicationFailure.create({
          type: FailureType.PullRequestBranchTaken,
          nonRetryable: true,
          message: workspace.remote.redact(
            `${branch} exists on ${workspace.remote.url} without this write's commit (its head ${shortCommit(tip)}${head ? ` by ${head.author}: "${head.subject}"` : ''}); it was left as it is and nothing was pushed`,
          ),
        });
      }
      // The head as fetched, so it and the commits reported above ours are one reading of the branch.
      landed = { commit: found.commit, head: commits[0]!.commit, recovered: true, pushedByOthers: found.above };
      return { outcome: 'landed', commit: found.commit };
    },
  };
}

/** A commit read from the branch, newest first. */
export interface BranchLogEntry extends BranchCommit {
  message: string;
}

export type OwnCommitVerdict =
  | { kind: 'found'; commit: string; above: BranchCommit[] }
  | { kind: 'stale'; by: StepCommit }
  | { kind: 'taken' };

/**
 * Whether a branch (its commits newest first) holds the write whose commit message is `mine`:
 * the newest commit with the same Slipway trailers is ours, and everything above it was pushed
 * by others. A later step of the same environment above ours, or anywhere when ours is not there,
 * makes this write late; without our commit the branch is someone else's.
 */
export function findOwnCommit(commits: BranchLogEntry[], mine: string): OwnCommitVerdict {
  const identity = slipwayTrailers(mine);
  const index = identity ? commits.findIndex((c) => slipwayTrailers(c.message) === identity) : -1;
  const scanned = index >= 0 ? commits.slice(0, index + 1) : commits;
  const step = parseStep(trailer(mine, 'Slipway-Step') ?? '');
  const app = trailer(mine, 'Slipway-App');
  const environment = trailer(mine, 'Slipway-Environment');
  if (step && app && environment) {
    const steps = scanned.flatMap((c) => parseStepLog(`\x1e${c.commit}\x1f${c.message}`));
    const verdict = fenceVerdict(step, app, environment, steps);
    if (verdict.kind === 'stale') return verdict;
  }
  if (index < 0) return { kind: 'taken' };
  return { kind: 'found', commit: commits[index]!.commit, above: commits.slice(0, index).map(({ commit, author, subject }) => ({ commit, author, subject })) };
}

/** The Slipway-* trailer lines of a commit message, as one comparable string ('' when none). */
function slipwayTrailers(message: string): string {
  return message
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^Slipway-[A-Za-z-]+: /.test(l))
    .join('\n');
}

function trailer(message: string, key: string): string | undefined {
  return new RegExp(`^${key}: (.*)$`, 'm').exec(message)?.[1]?.trim();
}

async function remoteTip(workspace: Workspace, branch: string): Promise<string | undefined> {
  const out = await workspace.git(['ls-remote', '--heads', 'origin', `refs/heads/${branch}`]);
  const line = out.split('\n').map((l) => l.trim().split(/\s+/)).find(([, ref]) => ref === `refs/heads/${branch}`);
  return line?.[0];
}

const RECORD = '%x1e%H%x1f%an <%ae>%x1f%s%x1f%B';

async function branchLog(workspace: Workspace, branch: string, maxCount: number): Promise<BranchLogEntry[]> {
  const ref = `refs/remotes/origin/${branch}`;
  await workspace.git(['fetch', '--quiet', '--no-tags', `--depth=${maxCount}`, 'origin', `+refs/heads/${branch}:${ref}`]);
  // First parents only: a merge of the base into the branch ("Update branch") is one commit on
  // top of ours, not every base commit it brought in.
  const out = await workspace.git(['log', '--first-parent', `--format=${RECORD}`, `--max-count=${maxCount}`, ref]);
  return out
    .split('\x1e')
    .filter((r) => r.trim())
    .map((record) => {
      const [commit = '', author = '', subject = '', message = ''] = record.split('\x1f');
      return { commit: commit.trim(), author, subject, message };
    });
}

/**
 * The pull-request-mode write: writeOverlayImages' edit, checks, fence and retries, published to
 * the write's own branch (pullRequestBranch) instead of the base.
 */
export async function writeOverlayBranch(
  input: WriteOverlayInput,
  options: GitopsOptions & PullRequestModeOptions,
  lock: KeyedLock,
): Promise<WriteOverlayBranchResult> {
  const branch = pullRequestBranch(input.context);
  const mode = createPullRequestMode(branch, options);
  const written = await writeOverlay(input, { ...options, writeMode: mode }, lock);
  const landing = mode.landing();
  const base = input.git.branch;
  if (!landing) {
    return { base, branch, on: 'base', commit: written.commit, head: written.commit, changed: written.changed, recovered: written.recovered ?? false, pushedByOthers: [] };
  }
  return { base, branch, on: 'branch', commit: landing.commit, head: landing.head, changed: written.changed, recovered: landing.recovered, pushedByOthers: landing.pushedByOthers };
}
