/**
 * The GitHub activities, through Octokit: release tags and releases, the next version, builds by
 * GitHub Actions, deployment statuses, and checking approvals given in comments. Tokens come from the env var each input names.
 */
import type { GithubActivities, PullRequestActivities } from '../types.js';
import type { GithubClientOptions } from './client.js';
import { reportDeployment } from './deployments.js';
import { closePullRequest, mergePullRequest, openPullRequest, pullRequestState, type PullRequestOptions } from './pull-request.js';
import { upsertComment } from './sticky-comment.js';
import { createReleaseTag, nextVersion } from './tags.js';
import { triggerBuild, type BuildPollingOptions } from './trigger-build.js';
import { verifyApproval } from './verify-approval.js';

export type GithubActivityOptions = GithubClientOptions & BuildPollingOptions;
export { waitForRun, type RunSnapshot } from './run-wait.js';
export { commentDecision, signatureMatches } from './verify-approval.js';
export { existingPullRequest, pullRequestText, stateOf, whoClosed, type PullPayload, type PullRequestOptions } from './pull-request.js';

/** The pull-request activities of pull-request mode, on the GitOps repository. */
export function createPullRequestActivities(opts: PullRequestOptions = {}): PullRequestActivities {
  return {
    openPullRequest: (input) => openPullRequest(input, opts),
    pullRequestState: (input) => pullRequestState(input, opts),
    mergePullRequest: (input) => mergePullRequest(input, opts),
    closePullRequest: (input) => closePullRequest(input, opts),
    upsertComment: (input) => upsertComment(input, opts),
  };
}

export function createGithubActivities(opts: GithubActivityOptions = {}): GithubActivities {
  return {
    createReleaseTag: (input) => createReleaseTag(input, opts),
    nextVersion: (input) => nextVersion(input, opts),
    triggerBuild: (input) => triggerBuild(input, opts),
    reportDeployment: (input) => reportDeployment(input, opts),
    verifyApproval: (input) => verifyApproval(input, opts),
  };
}
