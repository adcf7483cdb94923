/**
 * A private, throw-away clone of one branch: each activity call works in its own temp folder,
 * so concurrent activities in one worker never share a work tree or an index.
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GitTarget } from '../types.js';
import { newCloneFolder, type CloneRootOptions } from './clone-root.js';
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
  /** Commits the paths with the target's author (no paths: an empty commit); returns the new commit. */
  commit(paths: string[], message: string): Promise<string>;
  /** Pushes HEAD to the branch, never forced. Resolves with git's result; the caller decides. */
  push(): Promise<GitResult>;
  /** Runs another git command in the clone (e.g. reading history), with the same bounds. */
  git(args: string[]): Promise<string>;
  dispose(): Promise<void>;
}

export interface WorkspaceOptions {
  /** Deadline of each git command. */
  gitTimeoutMs?: number;
  clones?: CloneRootOptions;
}

export async function openWorkspace(target: GitTarget, remote: Remote, options: WorkspaceOptions = {}): Promise<Workspace> {
  const dir = await newCloneFolder(options.clones);
  const opts: GitOptions = { cwd: dir, env: remote.env, redact: remote.redact, timeoutMs: options.gitTimeoutMs };
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
      const messageFile = join(dir, '.git', 'SLIPWAY_COMMIT_MSG');
      await writeFile(messageFile, message);
      const commitArgs = ['-c', 'commit.gpgsign=false', 'commit', '--quiet', '--no-verify', '--cleanup=verbatim', '-F', messageFile];
      if (paths.length === 0) {
        await git([...commitArgs, '--allow-empty'], { ...opts, env: authorEnv });
      } else {
        await git(['add', '--', ...paths], opts);
        await git([...commitArgs, '--', ...paths], { ...opts, env: authorEnv });
      }
      return workspace.head();
    },
    push: () => runGit(['push', '--porcelain', '--no-verify', 'origin', `HEAD:refs/heads/${target.branch}`], opts),
    git: (args) => git(args, opts),
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
