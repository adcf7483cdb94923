/** What a gitops activities instance can be tuned with (see createGitopsActivities). */
import type { ActivityLogger } from '../activity-context.js';
import type { CloneRootOptions } from './clone-root.js';
import type { WriteMode } from './write-mode.js';

export interface GitopsOptions {
  /** How commits reach the branch; default: a direct push. */
  writeMode?: WriteMode;
  /** Push attempts before giving up with a retryable GitPushConflict; default 10. */
  maxPushAttempts?: number;
  /** Upper bound of the jittered wait between attempts, in ms; default 2000. */
  maxBackoffMs?: number;
  /**
   * Serialise writes to the same remote branch within this process; default true. Writers in
   * other processes still race, and lose nothing: the push retry loop handles them.
   */
  serializeWritesInProcess?: boolean;
  /** Default: the activity's logger inside an activity, the console outside. */
  logger?: ActivityLogger;
  /** Where tokens are read from (tokenFromEnv); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The kustomize binary every edit is rendered with before it is committed; default SLIPWAY_KUSTOMIZE, else the PATH. */
  kustomize?: string;
  /** Deadline of that `kustomize build`, in ms; default 60000. */
  renderTimeoutMs?: number;
  /** Deadline of each git command, in ms; default 60000. A remote that never answers costs this much, then the attempt fails retryably. */
  gitTimeoutMs?: number;
  /** Where clones are made and how much space they may take together (clone-root.ts). */
  clones?: CloneRootOptions;
  /** How far back the step fence looks for the environment's newest Slipway commit; default 1000 commits. */
  maxFenceScan?: number;
  /** Called after the commit and before each push, e.g. for tests that must lose a race on purpose. */
  beforePush?: (workspace: { dir: string; attempt: number }) => Promise<void>;
}
