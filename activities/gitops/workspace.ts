/**
 * A private, throw-away clone of one branch: each activity call works in its own temp folder,
 * so concurrent activities in one worker never share a work tree or an index.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GitTarget } from '../types.js';
import { git, runGit, type GitOptions, type GitResult } from './git.js';
import type { Remote } from './remote.js';

export interface Workspace {
  dir: string;
  branch: string;
  remote: Remote;
  /** The commit checked out (the remote branch head at the last clone or reset). */
  head(): Promise<string>;
  /** Moves the work tree to the remote branch's current head, dropping local commits. */
  resetToRemote(): Promise<void>;
  /** Commits the staged paths with the target's author; returns the new commit. */
  commit(paths: string[], message: string): Promise<string>;
  /** Pushes HEAD to the branch, never forced. Resolves with git's result; the caller decides. */
  push(): Promise<GitResult>;
  dispose(): Promise<void>;
}

export async function openWorkspace(target: GitTarget, remote: Remote): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-gitops-'));
  const opts: GitOptions = { cwd: dir, env: remote.env, redact: remote.redact };
  const authorEnv = {
    ...remote.env,
    GIT_AUTHOR_NAME: target.author.name,
    GIT_AUTHOR_EMAIL: target.author.email,
    GIT_COMMITTER_NAME: target.author.name,
    GIT_COMMITTER_EMAIL: target.author.email,
  };
  const workspace: Workspace = {
    dir,
    branch: target.branch,
    remote,
    head: async () => (await git(['rev-parse', 'HEAD'], opts)).trim(),
    resetToRemote: async () => {
      await git(['fetch', '--quiet', '--no-tags', '--depth=1', 'origin', `+refs/heads/${target.branch}:refs/remotes/origin/${target.branch}`], opts);
      await git(['reset', '--quiet', '--hard', `refs/remotes/origin/${target.branch}`], opts);
    },
    commit: async (paths, message) => {
      await git(['add', '--', ...paths], opts);
      const messageFile = join(dir, '.git', 'SLIPWAY_COMMIT_MSG');
      await writeFile(messageFile, message);
      await git(['-c', 'commit.gpgsign=false', 'commit', '--quiet', '--no-verify', '--cleanup=verbatim', '-F', messageFile, '--', ...paths], {
        ...opts,
        env: authorEnv,
      });
      return workspace.head();
    },
    push: () => runGit(['push', '--porcelain', '--no-verify', 'origin', `HEAD:refs/heads/${target.branch}`], opts),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
  try {
    // Shallow: a write needs only the branch tip. (Local paths ignore --depth, harmlessly.)
    await git(['clone', '--quiet', '--no-tags', '--single-branch', '--depth=1', '--branch', target.branch, remote.url, '.'], opts);
  } catch (err) {
    await workspace.dispose();
    throw err;
  }
  return workspace;
}
