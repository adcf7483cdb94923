/**
 * The GitOps activities: read and write image settings in Kustomize overlays of a git repository,
 * through the git CLI against any remote (path, file://, https with a token, ssh).
 */
import type { GitopsActivities, PullRequestWriteActivities } from '../types.js';
import { KeyedLock } from './keyed-lock.js';
import type { GitopsOptions } from './options.js';
import { writeOverlayBranch, type PullRequestModeOptions } from './pull-request-mode.js';
import { readOverlay } from './read-overlay.js';
import { writeOverlay } from './write-overlay.js';

export type { GitopsOptions } from './options.js';
export type { WriteMode, PublishOutcome } from './write-mode.js';
export { directPush } from './write-mode.js';
export { createAncestryChecker, isAncestor, remoteBranchHead, type AncestryOptions, type IsAncestorFn } from './ancestry.js';
export { commitMessage } from './commit-message.js';
export { createRedactor } from './redact.js';
export { sweepAbandonedClones, DEFAULT_CLONE_ROOT } from './clone-root.js';
export { pullRequestBranch, findOwnCommit, createPullRequestMode, type PullRequestModeOptions } from './pull-request-mode.js';

export function createGitopsActivities(options: GitopsOptions = {}): GitopsActivities {
  // One lock per instance: a worker registers one instance, so its writers queue instead of racing.
  const lock = new KeyedLock();
  return {
    readOverlayImages: (input) => readOverlay(input, options),
    writeOverlayImages: (input) => writeOverlay(input, options, lock),
  };
}

/**
 * The write of pull-request mode, as its own instance: not among createGitopsActivities' until the
 * workflows use it and the worker's policy guard checks the GitOps repository its calls name.
 * Its writes never push the base branch, so they need not queue behind the direct writes.
 */
export function createPullRequestWriteActivities(options: GitopsOptions & PullRequestModeOptions = {}): PullRequestWriteActivities {
  const lock = new KeyedLock();
  return { writeOverlayBranch: (input) => writeOverlayBranch(input, options, lock) };
}
