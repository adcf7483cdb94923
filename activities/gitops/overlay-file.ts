/** Finding an overlay's kustomization file inside a clone, refusing paths that leave the repository. */
import { stat } from 'node:fs/promises';
import { isAbsolute, join, posix } from 'node:path';
import { InvalidGitopsInputError, OverlayNotFoundError } from './failures.js';

// The names kustomize itself accepts, in its order of preference.
const KUSTOMIZATION_NAMES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

export interface OverlayFile {
  /** Path inside the repository, for commits and messages. */
  path: string;
  /** Path on disk. */
  absolute: string;
}

export function checkOverlayPath(overlay: string): string {
  const normalized = posix.normalize(overlay.replace(/\\/g, '/')).replace(/\/+$/, '');
  if (!overlay || isAbsolute(overlay) || normalized === '.' || normalized.split('/').includes('..')) {
    throw new InvalidGitopsInputError(`overlay "${overlay}" must be a folder inside the GitOps repository (relative, no "..")`);
  }
  return normalized;
}

export async function locateKustomization(repoDir: string, overlay: string, branch: string): Promise<OverlayFile> {
  const folder = checkOverlayPath(overlay);
  const isDir = await stat(join(repoDir, folder)).then((s) => s.isDirectory(), () => false);
  if (!isDir) throw new OverlayNotFoundError(folder, `overlay folder ${folder} does not exist on branch ${branch}`);
  for (const name of KUSTOMIZATION_NAMES) {
    const absolute = join(repoDir, folder, name);
    if (await stat(absolute).then((s) => s.isFile(), () => false)) return { path: `${folder}/${name}`, absolute };
  }
  throw new OverlayNotFoundError(folder, `overlay ${folder} has no kustomization.yaml on branch ${branch}`);
}
