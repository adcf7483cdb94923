/**
 * Questions about the branch history, for the Argo CD activity: Argo may report a later branch
 * head than the commit we wrote, which is fine when that head contains our commit.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GitTarget } from '../types.js';
import { toApplicationFailure } from './failures.js';
import { git, runGit, type GitOptions } from './git.js';
import { remoteFor, type Remote } from './remote.js';

/** True when `ancestor` is `descendant` or one of its ancestors, per the remote's history. */
export async function isAncestor(target: GitTarget, ancestor: string, descendant: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (ancestor === descendant) return true;
  let remote: Remote | undefined;
  const dir = await mkdtemp(join(tmpdir(), 'slipway-ancestry-'));
  try {
    remote = remoteFor(target, env);
    const opts: GitOptions = { cwd: dir, env: remote.env, redact: remote.redact };
    await git(['init', '--quiet', '--bare'], opts);
    // Only commits and trees are needed to walk history, not file contents.
    const filter = /^(https?|ssh):\/\//i.test(remote.url) || /^[^/\\]*:/.test(remote.url) ? ['--filter=blob:none'] : [];
    await git(['fetch', '--quiet', '--no-tags', ...filter, remote.url, `+refs/heads/${target.branch}:refs/heads/${target.branch}`], opts);
    for (const sha of [ancestor, descendant]) {
      if (!(await hasCommit(sha, opts))) {
        // Not on the branch: ask for it by id (servers may refuse; then it is simply not known).
        await runGit(['fetch', '--quiet', '--no-tags', ...filter, remote.url, sha], opts);
        if (!(await hasCommit(sha, opts))) return false;
      }
    }
    const result = await runGit(['merge-base', '--is-ancestor', ancestor, descendant], opts);
    if (result.code === 0) return true;
    if (result.code === 1) return false;
    throw new Error(`git merge-base failed (exit ${result.code}): ${result.stderr.trim()}`);
  } catch (err) {
    throw toApplicationFailure(err, `compare ${ancestor} and ${descendant} on ${target.branch} of ${target.url}`, remote?.redact ?? ((t) => t));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The remote branch's head commit, or undefined when the branch does not exist. */
export async function remoteBranchHead(target: GitTarget, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  let remote: Remote | undefined;
  try {
    remote = remoteFor(target, env);
    const out = await git(['ls-remote', '--heads', remote.url, `refs/heads/${target.branch}`], { cwd: tmpdir(), env: remote.env, redact: remote.redact });
    return out.split('\t')[0]?.trim() || undefined;
  } catch (err) {
    throw toApplicationFailure(err, `read the head of ${target.branch} of ${target.url}`, remote?.redact ?? ((t) => t));
  }
}

async function hasCommit(sha: string, opts: GitOptions): Promise<boolean> {
  if (!/^[0-9a-f]{4,64}$/i.test(sha)) return false;
  return (await runGit(['cat-file', '-e', `${sha}^{commit}`], opts)).code === 0;
}
