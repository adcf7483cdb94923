/**
 * The GitOps activities: read and write image settings in Kustomize overlays of a git repository,
 * through the git CLI against any remote (path, file://, https with a token, ssh).
 */
import type { GitopsActivities, PullRequestWriteActivities } from '../types.js';
import { KeyedLock } from './keyed-lock.js';
import type { GitopsOptions } from './options.js';
import { writeOverlayBranch, type PullRequestModeOptions } from './pull-request-mode.js';
import { createOverlayReader } from './read-at-revision.js';
import { readOverlayAtCommit } from './read-merged.js';
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
export { createPreviewWriteActivities, PREVIEW_MARKER } from './preview-write.js';

export function createGitopsActivities(options: GitopsOptions = {}): GitopsActivities {
  // One lock per instance: a worker registers one instance, so its writers queue instead of racing.
  const lock = new KeyedLock();
  return {
    readOverlayImages: (input) => readOverlay(input, options),
    writeOverlayImages: (input) => writeOverlay(input, options, lock),
  };
}

/**
 * The write of pull-request mode, as its own instance: its writes never push the base branch, so
 * they need not queue behind the direct writes. `mirrors` is where the read at a merge commit
 * keeps its bare mirror (the ancestry checks' folder by default, as the Argo CD wait reads).
 */
export function createPullRequestWriteActivities(options: GitopsOptions & PullRequestModeOptions & { mirrors?: string } = {}): PullRequestWriteActivities {
  const lock = new KeyedLock();
  const readAt = createOverlayReader({ ...(options.mirrors ? { cacheDir: options.mirrors } : {}), ...(options.gitTimeoutMs ? { timeoutMs: options.gitTimeoutMs } : {}), ...(options.env ? { env: options.env } : {}) });
  return {
    writeOverlayBranch: (input) => writeOverlayBranch(input, options, lock),
    readOverlayAtCommit: (input) => readOverlayAtCommit(input, readAt),
  };
}
