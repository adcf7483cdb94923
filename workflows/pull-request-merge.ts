/**
 * Pull-request mode's part of a promotion: the overlay change reaches the base branch only through
 * a merged pull request. One pull request per (release, environment, kind), opened or found again
 * by the activities; then a durable wait for what becomes of it:
 *   - merged → the promotion gates on the merge commit (a squash or merge queue makes a commit we
 *     did not write: that is what Argo CD deploys);
 *   - closed unmerged → nothing reached the base; the promotion ends rejected, naming who closed it;
 *   - superseded by a newer request (a signal from the environment workflow) → closed with a
 *     comment, unless it was merged meanwhile, which wins.
 * A signed webhook delivery wakes the wait at once (pullRequestChangedSignal); without one, the
 * pull request is looked at after `poll`, then twice as long each time up to 15 minutes, so a lost
 * delivery costs minutes, not a stuck promotion. What a signal says is never believed: every
 * decision is taken on the state GitHub reports.
 */
import { condition, setHandler, type ActivityOptions } from '@temporalio/workflow';
import type { ImageSetting } from '../core/images.js';
import type { GitTarget, OpenedPullRequest, PromotionRequest, PullRequestChange, PullRequestState, WriteOverlayBranchResult } from '../activities/types.js';
import type { PullRequestModeConfig } from '../config/schema.js';
import { pullRequestChangedSignal, supersedePromotionSignal } from './messages.js';
import type { stepActivities } from './activities.js';

/** The longest wait between two looks at a pull request nobody told us about. */
export const MAX_POLL_MS = 15 * 60_000;

/** Where the environment's pull requests go: the GitOps repository on GitHub and the token for its API. */
export interface PullRequestRoute {
  repo: string;
  tokenFromEnv: string;
  git: GitTarget;
  options: PullRequestModeConfig;
}

export type Merged = Extract<PullRequestState, { state: 'merged' }>;
export type Closed = Extract<PullRequestState, { state: 'closed' }>;
export type MergeWait = { kind: 'merged'; state: Merged } | { kind: 'closed'; state: Closed } | { kind: 'superseded'; by: string; build: string };

/** The next wait between looks: doubled after a look nobody asked for, never past the cap. */
export function nextPollInterval(current: number, first: number): number {
  return Math.min(current * 2, Math.max(first, MAX_POLL_MS));
}

/**
 * Whether a request that just queued behind the promotion in flight replaces it: an explicit
 * rollback or override always does; otherwise one from a release started later (or, when either
 * start is unknown, the later arrival). An older release's request waits, as in push mode.
 */
export function supersedesInFlight(request: PromotionRequest, inFlight: PromotionRequest): boolean {
  if (request.kind === 'rollback' || request.override) return true;
  if (request.releaseStartedAt === undefined || inFlight.releaseStartedAt === undefined) return true;
  return request.releaseStartedAt > inFlight.releaseStartedAt;
}

type Steps = ReturnType<typeof stepActivities>;

/**
 * The promotion's pull requests and the messages about them. Its handlers are set when it is made,
 * so a delivery or a newer request that arrives before the wait starts is not lost.
 */
export class PullRequestWatch {
  private woken = false;
  /** What the wait last said: said again only when it changes, not on every look. */
  private lastTold = '';
  /** The first newer request the environment told us about. */
  private supersededBy: { by: string; build: string } | undefined;

  constructor(
    private readonly route: PullRequestRoute,
    private readonly steps: Steps,
    /** GitHub calls are short steps: retried with backoff, each attempt bounded. */
    private readonly options: ActivityOptions,
    private readonly tell: (detail: string) => void,
  ) {
    setHandler(pullRequestChangedSignal, () => {
      this.woken = true;
    });
    setHandler(supersedePromotionSignal, (s) => {
      if (typeof s?.by === 'string' && !this.supersededBy) this.supersededBy = { by: s.by, build: String(s.build ?? '') };
    });
  }

  private ref(number: number) {
    return { repo: this.route.repo, tokenFromEnv: this.route.tokenFromEnv, number };
  }

  /** Opens the pull request for a branch write (or finds it again), asking for the policy's labels and reviewers. */
  async open(written: WriteOverlayBranchResult, change: PullRequestChange): Promise<OpenedPullRequest> {
    const opened = await this.steps.openPullRequest.executeWithOptions(
      { ...this.options, summary: `open a pull request ${written.branch} → ${written.base} in ${this.route.repo}` },
      [
        {
          repo: this.route.repo,
          tokenFromEnv: this.route.tokenFromEnv,
          head: written.branch,
          base: written.base,
          change,
          ...(this.route.options.labels.length ? { labels: this.route.options.labels } : {}),
          ...(this.route.options.reviewers.length ? { reviewers: this.route.options.reviewers } : {}),
        },
      ],
    );
    return opened;
  }

  /**
   * Waits for the pull request to be merged or closed. `ours` is the head Slipway wrote: with
   * autoMerge, Slipway asks GitHub to merge exactly that (a branch a person pushed to is theirs to
   * merge). `supersedable`: a promotion's pull request gives way to a newer request; a rollback's does not.
   */
  async awaitMerge(pr: { number: number; url: string }, ours: string, supersedable: boolean): Promise<MergeWait> {
    const first = this.route.options.poll;
    let interval = first;
    for (;;) {
      const state = await this.steps.pullRequestState.executeWithOptions(
        { ...this.options, summary: `what became of pull request #${pr.number}` },
        [this.ref(pr.number)],
      );
      if (state.state === 'merged') return { kind: 'merged', state };
      if (state.state === 'closed') return { kind: 'closed', state };
      if (supersedable && this.supersededBy) {
        const { by, build } = this.supersededBy;
        const after = await this.steps.closePullRequest.executeWithOptions(
          { ...this.options, summary: `close pull request #${pr.number}: superseded by ${by}` },
          [{ ...this.ref(pr.number), marker: 'superseded', comment: `Superseded by a newer release, ${build} (\`${by}\`): closed without merging. The newer release opens its own pull request.` }],
        );
        // A merge that landed first wins: the promotion goes on and gates on it.
        if (after.state === 'merged') return { kind: 'merged', state: after };
        return { kind: 'superseded', by, build };
      }
      if (this.route.options.autoMerge && state.headSha === ours) {
        const merge = await this.steps.mergePullRequest.executeWithOptions(
          { ...this.options, summary: `merge pull request #${pr.number} (${this.route.options.mergeMethod})` },
          [{ ...this.ref(pr.number), sha: ours, mergeMethod: this.route.options.mergeMethod }],
        );
        if (merge.merged) continue; // read it again: who merged, and the merge commit as GitHub reports it
        this.say(`${pr.url}: auto-merge waits (${merge.reason})`);
      } else if (this.route.options.autoMerge) {
        this.say(`${pr.url}: the branch holds commits Slipway did not write (head ${state.headSha.slice(0, 7)}); a person merges it`);
      }
      this.woken = false;
      const told = await condition(() => this.woken || (supersedable && this.supersededBy !== undefined), interval);
      if (!told) interval = nextPollInterval(interval, first);
    }
  }

  private say(detail: string): void {
    if (detail === this.lastTold) return;
    this.lastTold = detail;
    this.tell(detail);
  }

  /** Closes a pull request that will not be merged (the promotion failed or was cancelled); its state after, which may say merged. */
  async withdraw(pr: { number: number }, why: string): Promise<PullRequestState> {
    return this.steps.closePullRequest.executeWithOptions(
      { ...this.options, summary: `close pull request #${pr.number}: ${why}`.slice(0, 200) },
      [{ ...this.ref(pr.number), marker: 'withdrawn', comment: `${why}\n\nClosed without merging: nothing of it reached \`${this.route.git.branch}\`.` }],
    );
  }
}

/** The pull request's title and body facts for a write. */
export function pullRequestChange(
  base: { app: string; environment: string; releaseId: string; overlay: string },
  build: { commit: string; version?: string },
  kind: 'promote' | 'rollback',
  images: ImageSetting[],
  undo = false,
): PullRequestChange {
  return {
    app: base.app,
    environment: base.environment,
    kind,
    releaseId: base.releaseId,
    sourceCommit: build.commit,
    ...(build.version ? { version: build.version } : {}),
    overlay: base.overlay,
    images,
    ...(undo ? { undo: true } : {}),
  };
}
