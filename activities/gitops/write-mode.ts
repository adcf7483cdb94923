/**
 * How a commit made in a workspace reaches the branch. Today: a direct push, never forced. A
 * protected branch would use a pull-request mode instead — push a side branch, open the PR,
 * wait for the merge and return the merge commit — behind this same interface.
 */
import { classifyGitFailure } from './classify.js';
import { GitCommandError } from './git.js';
import type { Workspace } from './workspace.js';

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
