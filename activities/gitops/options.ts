/** What a gitops activities instance can be tuned with (see createGitopsActivities). */
import type { GitopsLogger } from './activity-context.js';
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
  logger?: GitopsLogger;
  /** Where tokens are read from (tokenFromEnv); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Called after the commit and before each push, e.g. for tests that must lose a race on purpose. */
  beforePush?: (workspace: { dir: string; attempt: number }) => Promise<void>;
}
