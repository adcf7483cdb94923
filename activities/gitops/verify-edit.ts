/**
 * The last look at an edited overlay before it is committed: the file as written to disk is
 * checked against the intended change, and the overlay, in the new tree, must render with
 * `kustomize build`. Either failing throws, and the workspace is thrown away uncommitted.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { verifyOverlayEdit, type ImageEdit } from '../../core/overlay.js';
import { OverlayEditInvalidError } from './failures.js';
import { findKustomize, kustomizeBuild } from './kustomize.js';
import type { OverlayFile } from './overlay-file.js';

export interface EditCheck {
  /** The work tree the file is in. */
  dir: string;
  file: OverlayFile;
  /** The file's text before the edit. */
  before: string;
  edits: ImageEdit[];
  /** The kustomize binary; default SLIPWAY_KUSTOMIZE or the PATH. */
  kustomize?: string;
  timeoutMs?: number;
}

export async function verifyWrittenOverlay(check: EditCheck): Promise<void> {
  const written = await readFile(check.file.absolute, 'utf8');
  verifyOverlayEdit(check.before, written, check.file.path, check.edits);

  const kustomize = check.kustomize ?? findKustomize();
  const timeoutMs = check.timeoutMs ?? 60_000;
  const folder = dirname(check.file.absolute);
  const rendered = await kustomizeBuild(kustomize, folder, timeoutMs);
  if (rendered.ok) return;
  // Whether the overlay rendered before the edit tells a broken edit from a broken overlay.
  await writeFile(check.file.absolute, check.before);
  const original = await kustomizeBuild(kustomize, folder, timeoutMs);
  const output = rendered.output.split(check.dir + '/').join('');
  throw new OverlayEditInvalidError(
    check.file.path,
    `kustomize build ${dirname(check.file.path)} fails with the edit: ${lastLines(output, 5)}` +
      (original.ok ? ' (it rendered before the edit)' : ' (it did not render before the edit either)'),
  );
}

function lastLines(text: string, n: number): string {
  return text.split('\n').slice(-n).join(' | ');
}
