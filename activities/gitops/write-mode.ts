/**
 * How a commit made in a workspace reaches the branch. Today: a direct push, never forced. A
 * protected branch would use a pull-request mode instead — push a side branch, open the PR,
 * wait for the merge and return the merge commit — behind this same interface.
 */
import { classifyGitFailure } from './classify.js';
import { GitCommandError } from './git.js';
import type { Workspace } from './workspace.js';

/** Pushes HEAD to `branch` of origin, never forced: creating it when absent; refused ('conflict') when it moved or appeared meanwhile. */
export async function pushHeadTo(workspace: Pick<Workspace, 'git' | 'head'>, branch: string): Promise<PublishOutcome> {
  try {
    await workspace.git(['push', '--porcelain', '--no-verify', 'origin', `HEAD:refs/heads/${branch}`]);
  } catch (err) {
    if (err instanceof GitCommandError && classifyGitFailure(err.output) === 'conflict') return { outcome: 'conflict', detail: err.output };
    throw err;
  }
  return { outcome: 'landed', commit: await workspace.head() };
}

export type PublishOutcome = { outcome: 'landed'; commit: string } | { outcome: 'conflict'; detail: string };

export interface WriteMode {
  readonly name: string;
  /** Publishes the workspace's HEAD; 'conflict' means the branch moved and the edit must be re-applied. */
  publish(workspace: Workspace): Promise<PublishOutcome>;
}

export const directPush: WriteMode = {
  name: 'direct-push',
  async publish(workspace) {
    const result = await workspace.push();
    if (result.code === 0) return { outcome: 'landed', commit: await workspace.head() };
    const output = `${result.stdout}\n${result.stderr}`.trim();
    if (classifyGitFailure(output) === 'conflict') return { outcome: 'conflict', detail: output };
    throw new GitCommandError('push', result.code, output);
  },
};
