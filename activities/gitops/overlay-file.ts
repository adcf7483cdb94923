/**
 * Finding an overlay's kustomization file inside a clone, refusing paths that leave the repository:
 * `..` and absolute paths by their text, and symlinks (which a writer of the GitOps repository can
 * commit) by where they resolve. Both readOverlayImages and writeOverlayImages find their file here,
 * so nothing is read or written through a link to outside the clone.
 */
import { ApplicationFailure } from '@temporalio/common';
import { lstat, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, posix, relative, sep } from 'node:path';
import { FailureType } from '../types.js';
import { InvalidGitopsInputError, OverlayNotFoundError } from './failures.js';

// The names kustomize itself accepts, in its order of preference.
const KUSTOMIZATION_NAMES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

export interface OverlayFile {
  /** Path inside the repository, for commits and messages: where the file really is, symlinks resolved. */
  path: string;
  /** Path on disk, symlinks resolved (always inside the clone). */
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
  const root = await realpath(repoDir);
  const folderOnDisk = join(repoDir, folder);
  if (!(await exists(folderOnDisk))) {
    if (await isLink(folderOnDisk)) throw outside(folder, branch, 'is a symlink to nothing or to a path outside the repository');
    throw new OverlayNotFoundError(folder, `overlay folder ${folder} does not exist on branch ${branch}`);
  }
  // Resolved before anything else is looked at: a folder (or any folder on the way to it) that
  // links out of the clone is refused whatever it holds.
  insideRepository(root, await realpath(folderOnDisk), folder, branch);
  if (!(await stat(folderOnDisk)).isDirectory()) throw new OverlayNotFoundError(folder, `overlay folder ${folder} does not exist on branch ${branch}`);
  for (const name of KUSTOMIZATION_NAMES) {
    const candidate = join(folderOnDisk, name);
    const path = `${folder}/${name}`;
    if (!(await exists(candidate))) {
      // A dangling link (its target is outside the clone, or nowhere) is refused, not skipped: a
      // later name must not be edited while kustomize would have read this one.
      if (await isLink(candidate)) throw outside(path, branch, 'is a symlink to nothing or to a path outside the repository');
      continue;
    }
    const real = await realpath(candidate);
    const inRepo = insideRepository(root, real, path, branch);
    if (!(await stat(real)).isFile()) continue;
    return { path: inRepo, absolute: real };
  }
  throw new OverlayNotFoundError(folder, `overlay ${folder} has no kustomization.yaml on branch ${branch}`);
}

/** `real`'s path inside the repository; throws when it is outside the clone or in its .git folder. */
function insideRepository(root: string, real: string, path: string, branch: string): string {
  const rel = relative(root, real);
  if (rel === '') return '.';
  const parts = rel.split(sep);
  if (rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) throw outside(path, branch, 'resolves (through a symlink) to a path outside the repository');
  if (parts[0] === '.git') throw outside(path, branch, "resolves (through a symlink) into the clone's .git folder, outside the repository's files");
  return parts.join('/');
}

function outside(path: string, branch: string, how: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.OverlayOutsideRepository,
    nonRetryable: true,
    message: `${path} on branch ${branch} ${how}; Slipway reads and writes only files inside the GitOps repository, so nothing was read or written`,
  });
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function isLink(path: string): Promise<boolean> {
  return lstat(path).then(
    (s) => s.isSymbolicLink(),
    () => false,
  );
}
