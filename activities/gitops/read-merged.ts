/**
 * readOverlayAtCommit: the images an overlay sets at one commit, for pull-request mode. A merge
 * commit is what Argo CD deploys, and it may hold more than Slipway wrote (a person pushed to the
 * branch before merging, or a squash): the promotion gates on those images and records them.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { ImageSetting } from '../../core/images.js';
import { FailureType, type ReadOverlayAtCommitInput, type ReadOverlayResult } from '../types.js';
import type { ReadOverlayAt } from './read-at-revision.js';

export async function readOverlayAtCommit(input: ReadOverlayAtCommitInput, readAt: ReadOverlayAt): Promise<ReadOverlayResult> {
  const at = await readAt(input.git, input.commit, input.overlay);
  if (!at.found) {
    // The merge took the overlay away or broke it: nothing a retry changes, and nothing to gate on.
    throw ApplicationFailure.create({ type: FailureType.InvalidOverlay, nonRetryable: true, message: `after the merge: ${at.reason}` });
  }
  return { commit: input.commit, images: pick(at.images, input.imageNames) };
}

/** The settings for `names` in the order asked; a name the overlay no longer lists is given by its name alone. */
export function pick(images: ImageSetting[], names: string[]): ImageSetting[] {
  return names.map((name) => images.find((i) => i.name === name) ?? { name });
}
