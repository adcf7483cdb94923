/**
 * What the stand-in reads from the real GitOps repository, as Argo CD's repo server would:
 * the commit a target revision (branch, tag, HEAD or SHA) points at, and the images a
 * Kustomize overlay at that commit sets. repoURL is a local (bare) repository: a path or file://.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';

const run = promisify(execFile);

export interface OverlayImage {
  name: string;
  /** newTag, or the digest when the overlay pins one. */
  tag: string;
}

function gitDir(repoURL: string): string {
  if (repoURL.startsWith('file://')) return fileURLToPath(repoURL);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(repoURL)) throw new Error(`the Argo CD stand-in reads local repositories only, not ${repoURL}`);
  return repoURL;
}

async function git(repoURL: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run('git', ['--git-dir', gitDir(repoURL), ...args], { maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new Error(stderr || (err as Error).message);
  }
}

export async function resolveRevision(repoURL: string, targetRevision: string | undefined): Promise<string> {
  const rev = !targetRevision || targetRevision === 'HEAD' ? 'HEAD' : targetRevision;
  try {
    return (await git(repoURL, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`])).trim();
  } catch {
    throw new Error(`unable to resolve '${rev}' to a commit SHA in ${repoURL}`);
  }
}

export async function readOverlayImages(repoURL: string, revision: string, path: string | undefined): Promise<OverlayImage[]> {
  const dir = (path ?? '').replace(/^\.?\/*/, '').replace(/\/+$/, '');
  const file = dir ? `${dir}/kustomization.yaml` : 'kustomization.yaml';
  let text: string;
  try {
    text = await git(repoURL, ['show', `${revision}:${file}`]);
  } catch {
    throw new Error(`${file} not found at ${revision.slice(0, 12)}`);
  }
  const doc = (parse(text) ?? {}) as { images?: Array<{ name?: string; newName?: string; newTag?: string; digest?: string }> };
  return (doc.images ?? [])
    .filter((i) => i.name)
    .map((i) => ({ name: i.newName ?? i.name!, tag: String(i.digest ?? i.newTag ?? 'latest') }));
}
