/**
 * Compare-and-swap for rollbacks: a compensation writes the rollback point back only while the
 * overlay still holds what its promotion wrote. An on-call hotfix, a Renovate pin or another
 * tool's commit in between is somebody's decision, and undoing it silently would be worse than
 * not rolling back: the rollback then writes nothing and names the commit (and its author) that
 * changed the overlay, so a person decides.
 */
import { overlayHolds } from '../../core/overlay.js';
import { describeImages, sameImages, type ImageSetting } from '../../core/images.js';

export interface RollbackGuard {
  /** What the promotion wrote (the images of the build being undone). */
  wrote: ImageSetting[];
  /** Whether the promotion's write is known to have landed (its activity answered "changed"). */
  landed: boolean;
}

export type RollbackDecision =
  | { kind: 'restore' }
  /** The overlay already holds the rollback point and the promotion's write never landed. */
  | { kind: 'nothing-to-undo' }
  | { kind: 'conflict'; detail: string };

/**
 * `current` and `restore` are whole entries (absent fields are absent). The promotion's images
 * still there → restore. The rollback point already there while the write never landed (it
 * failed, or a late attempt of it was fenced off) → nothing to undo. Anything else means someone
 * else changed the overlay after the promotion wrote it.
 */
export function decideRollback(current: ImageSetting[], restore: ImageSetting[], guard: RollbackGuard): RollbackDecision {
  if (overlayHolds(current, guard.wrote)) return { kind: 'restore' };
  if (sameImages(current, restore)) {
    if (!guard.landed) return { kind: 'nothing-to-undo' };
    return { kind: 'conflict', detail: `the overlay is already back at ${describeImages(restore)}, though this promotion's write landed: someone else reverted it` };
  }
  return { kind: 'conflict', detail: `the overlay holds ${describeImages(current)}, not ${describeImages(guard.wrote)} as this promotion wrote it` };
}
