/**
 * The images an overlay sets at one commit of the GitOps repository, read from a bare mirror
 * without a checkout. The Argo CD wait asks this about a later commit Argo CD reports: does it
 * still hold the images this step wrote?
 *
 * The mirror is the one the ancestry checks keep for the remote (same folder, same name), so the
 * commit asked about is normally there already — the wait has just asked whether it descends
 * from ours. What is missing is fetched into refs of this reader's own and without FETCH_HEAD,
 * so its fetches never take the ref locks the ancestry checks take. Every git command is bounded.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { listOverlayImages, OverlayError } from '../../core/overlay.js';
import type { ImageSetting } from '../../core/images.js';
import type { GitTarget } from '../types.js';
import { DEFAULT_ANCESTRY_CACHE, mirrorPath } from './ancestry.js';
import { InvalidGitopsInputError, toApplicationFailure } from './failures.js';
import { git, runGit, type GitOptions } from './git.js';
import { KeyedLock } from './keyed-lock.js';
import { checkOverlayPath } from './overlay-file.js';
import { remoteFor, type Remote } from './remote.js';

export type OverlayAtRevision =
  | { found: true; file: string; images: ImageSetting[] }
  /** The overlay is not there, or is not a kustomization Slipway can read. */
  | { found: false; reason: string };

export type ReadOverlayAt = (target: GitTarget, revision: string, overlay: string) => Promise<OverlayAtRevision>;

export interface OverlayReaderOptions {
  /** Where the mirrors live (default: the ancestry checks' folder, so they share one mirror per remote). */
  cacheDir?: string;
  /** Deadline of each git command (default 60 s). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

// The names kustomize accepts, in its order of preference (as overlay-file.ts looks for them in a clone).
const KUSTOMIZATION_NAMES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];
const FULL_SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/i;
const OWN_REFS = 'refs/slipway/overlay-reader';

export function createOverlayReader(options: OverlayReaderOptions = {}): ReadOverlayAt {
  const cacheDir = options.cacheDir ?? DEFAULT_ANCESTRY_CACHE;
  const locks = new KeyedLock();

  return async function readOverlayAt(target, revision, overlay) {
    let remote: Remote | undefined;
    try {
      const folder = checkOverlayPath(overlay);
      if (!FULL_SHA.test(revision)) throw new InvalidGitopsInputError(`"${revision}" is not a commit id`);
      remote = remoteFor(target, options.env ?? process.env);
      const r = remote;
      const mirror = mirrorPath(cacheDir, r.url);
      const opts: GitOptions = { cwd: mirror, env: r.env, redact: r.redact, timeoutMs: options.timeoutMs };
      await locks.run(mirror, async () => {
        if (!existsSync(join(mirror, 'HEAD'))) {
          await mkdir(cacheDir, { recursive: true });
          await git(['init', '--quiet', '--bare', mirror], { ...opts, cwd: cacheDir });
        }
        if (await hasCommit(revision, opts)) return;
        const fetch = (refspec: string) => git(['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', r.url, refspec], opts);
        await fetch(`+refs/heads/${target.branch}:${OWN_REFS}/${target.branch}`);
        if (!(await hasCommit(revision, opts))) await fetch(revision);
        if (!(await hasCommit(revision, opts))) throw new Error(`commit ${revision} is not in the remote's history`);
      });
      return await readAt(revision, folder, opts);
    } catch (err) {
      throw toApplicationFailure(err, `read ${overlay} at ${revision.slice(0, 12)} of ${target.url}`, remote?.redact ?? ((t) => t));
    }
  };
}

/** Reads with the mirror's default cache: what the worker uses. */
export const readOverlayAtRevision: ReadOverlayAt = createOverlayReader();

async function readAt(revision: string, folder: string, opts: GitOptions): Promise<OverlayAtRevision> {
  const short = revision.slice(0, 12);
  // ls-tree does not follow symlinks: a folder reached through one lists nothing, like a missing one.
  const listing = await git(['ls-tree', '-z', revision, '--', `${folder}/`], opts);
  const entries = new Map<string, { mode: string; type: string; object: string }>();
  for (const line of listing.split('\0').filter(Boolean)) {
    const [meta, path] = line.split('\t') as [string, string];
    const [mode, type, object] = meta.split(' ') as [string, string, string];
    entries.set(path, { mode, type, object });
  }
  if (entries.size === 0) return { found: false, reason: `overlay folder ${folder} does not exist at ${short}` };
  for (const name of KUSTOMIZATION_NAMES) {
    const file = `${folder}/${name}`;
    const entry = entries.get(file);
    if (!entry) continue;
    if (entry.type !== 'blob' || !/^1006[0-7]{2}$/.test(entry.mode)) return { found: false, reason: `${file} at ${short} is not a regular file` };
    const text = await git(['cat-file', 'blob', entry.object], opts);
    try {
      return { found: true, file, images: listOverlayImages(text, file) };
    } catch (err) {
      if (err instanceof OverlayError) return { found: false, reason: `${file} at ${short}: ${err.message}` };
      throw err;
    }
  }
  return { found: false, reason: `overlay ${folder} has no kustomization.yaml at ${short}` };
}

async function hasCommit(sha: string, opts: GitOptions): Promise<boolean> {
  return (await runGit(['cat-file', '-e', `${sha}^{commit}`], opts)).code === 0;
}
