/** readOverlayImages: the branch head and the overlay's current images (the rollback point). */
import { readFile } from 'node:fs/promises';
import { readOverlayImages as readImages } from '../../core/overlay.js';
import type { ReadOverlayInput, ReadOverlayResult } from '../types.js';
import { toApplicationFailure } from './failures.js';
import { locateKustomization } from './overlay-file.js';
import type { GitopsOptions } from './options.js';
import { remoteFor, type Remote } from './remote.js';
import { openWorkspace } from './workspace.js';

export async function readOverlay(input: ReadOverlayInput, options: GitopsOptions): Promise<ReadOverlayResult> {
  const where = `read ${input.overlay} on ${input.git.branch} of ${input.git.url}`;
  let remote: Remote | undefined;
  try {
    remote = remoteFor(input.git, options.env);
    const workspace = await openWorkspace(input.git, remote, { gitTimeoutMs: options.gitTimeoutMs, clones: options.clones });
    try {
      const file = await locateKustomization(workspace.dir, input.overlay, input.git.branch);
      const images = readImages(await readFile(file.absolute, 'utf8'), file.path, input.imageNames);
      return { commit: await workspace.head(), images };
    } finally {
      await workspace.dispose();
    }
  } catch (err) {
    throw toApplicationFailure(err, where, remote?.redact ?? ((t) => t));
  }
}
