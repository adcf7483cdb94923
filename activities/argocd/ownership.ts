/**
 * Whether a later commit Argo CD reports still deploys what this step wrote: it does when its
 * overlay holds every image setting we wrote (fields we left open are not compared, as the write
 * left them). Otherwise a later commit changed our images — or removed the overlay — and
 * Argo CD's health at that commit says nothing about ours. Pure.
 */
import { describeImages, type ImageSetting } from '../../core/images.js';
import { overlayHolds } from '../../core/overlay.js';
import type { OverlayAtRevision } from '../gitops/read-at-revision.js';
import { short, type Ownership } from './judge.js';

export function ownershipAt(read: OverlayAtRevision, wanted: ImageSetting[], revision: string, commit: string): Ownership {
  const lead = `Argo CD reports ${short(revision)}, a later commit than ours (${short(commit)}),`;
  const tail = 'superseded by a later commit that changed the images; its health says nothing about ours';
  if (!read.found) return { superseded: `${lead} where ${read.reason}: ${tail}` };
  const changed = wanted.filter((w) => !overlayHolds(read.images, [w]));
  if (changed.length === 0) return 'ours';
  const differences = changed.map((w) => {
    const now = read.images.find((i) => i.name === w.name);
    return `${now ? describeImages([now]) : `no entry for ${w.name}`} instead of our ${describeImages([w])}`;
  });
  return { superseded: `${lead} whose ${read.file} sets ${differences.join('; ')}: ${tail}` };
}
