/**
 * What a git failure means for the caller: a lost race (fetch and try again), a refusal that
 * retrying cannot fix (credentials, protected branch, hook), a remote or branch that does not
 * exist, or anything else (network, server error: worth a retry).
 */
export type GitFailureKind = 'conflict' | 'permission' | 'no-branch' | 'no-repository' | 'other';

// A concurrent update of the same ref, as a remote of any kind reports it.
const CONFLICT = /\[rejected\]|non-fast-forward|fetch first|cannot lock ref|failed to update ref|incorrect old value|stale info|but expected/i;
const PERMISSION =
  /authentication failed|could not read (username|password)|returned error: 40[13]|permission denied|permission to .* denied|access denied|not authorized|unauthorized|forbidden|hook declined|protected branch|GH006|remote rejected/i;
const NO_BRANCH = /remote branch .* not found|couldn't find remote ref/i;
const NO_REPOSITORY = /does not appear to be a git repository|repository .* does not exist|no such file or directory/i;

export function classifyGitFailure(output: string): GitFailureKind {
  if (CONFLICT.test(output)) return 'conflict';
  // "Repository not found" is how GitHub answers a token without access to a private repo.
  if (PERMISSION.test(output) || /repository not found/i.test(output)) return 'permission';
  if (NO_BRANCH.test(output)) return 'no-branch';
  if (NO_REPOSITORY.test(output)) return 'no-repository';
  return 'other';
}
