/**
 * Which GitHub Actions run is a build's own, decided without GitHub. A dispatch runs the head of a
 * branch or tag, which may have moved past the released commit, and GitHub's list of runs holds
 * everyone's: so a dispatch carries the commit and a key of the activity that sent it, the
 * workflow echoes the key in its run name, and a run counts as the build only when it is at the
 * released commit.
 */
import { createHash, randomUUID } from 'node:crypto';

/** The workflow_dispatch inputs every build sends; the dispatched workflow must declare both. */
export const COMMIT_INPUT = 'slipway_commit';
export const DISPATCH_INPUT = 'slipway_dispatch';

/** The Temporal activity a build runs in: the same for each of its attempts, different for every other. */
export interface ActivityIdentity {
  workflowId: string;
  runId: string;
  activityId: string;
}

const KEY_PREFIX = 'slipway-';
const KEY_HEX = 24;

/**
 * The dispatch key: every attempt of one activity computes the same, so a retry recognises the
 * run an earlier attempt dispatched. The workflow run id is part of it, so a reset workflow (or a
 * release started again) builds afresh. Fixed length, so no key occurs inside another one; without
 * an activity (a direct call), a fresh random key.
 */
export function dispatchKey(identity: ActivityIdentity | undefined): string {
  const seed = identity ? [identity.workflowId, identity.runId, identity.activityId].join('\n') : randomUUID();
  return KEY_PREFIX + createHash('sha256').update(seed).digest('hex').slice(0, KEY_HEX);
}

export function dispatchInputs(commit: string, key: string): Record<string, string> {
  return { [COMMIT_INPUT]: commit, [DISPATCH_INPUT]: key };
}

/** What Slipway reads of a run from GitHub's run list and run answers. */
export interface RunFacts {
  id: number;
  event: string;
  /** The run name (`run-name:` in the workflow), else an event-specific title. */
  display_title: string;
  head_sha: string;
  created_at: string;
}

/** The run this key dispatched: a workflow_dispatch run whose title carries the key. Someone else's runs never match. */
export function ownRun<R extends Pick<RunFacts, 'event' | 'display_title'>>(runs: readonly R[], key: string): R | undefined {
  return runs.find((r) => r.event === 'workflow_dispatch' && typeof r.display_title === 'string' && r.display_title.includes(key));
}

/**
 * Whether the next page of runs (GitHub lists the newest first) can still hold one created at or
 * after `sinceMs`: only when this page was full and its oldest run is not older than that.
 */
export function nextPageMayHold(runs: readonly Pick<RunFacts, 'created_at'>[], perPage: number, sinceMs: number): boolean {
  if (runs.length < perPage) return false;
  const oldest = Date.parse(runs.at(-1)!.created_at);
  return Number.isNaN(oldest) || oldest >= sinceMs;
}

/**
 * Whether the run builds the released commit. A dispatch builds the head of its ref when the run
 * starts, so a ref that moved on gives a run at another commit. An abbreviated release commit (the
 * CLI takes 7 or more hex digits) matches the run's full SHA by prefix.
 */
export function buildsCommit(run: Pick<RunFacts, 'head_sha'>, commit: string): boolean {
  const head = run.head_sha.toLowerCase();
  const wanted = commit.toLowerCase();
  return wanted.length >= 7 && (head === wanted || (wanted.length < 40 && head.startsWith(wanted)));
}

/** The run id an earlier attempt recorded in its heartbeat (`{ runId }`), if any. */
export function recordedRunId(heartbeatDetails: unknown): number | undefined {
  if (!heartbeatDetails || typeof heartbeatDetails !== 'object') return undefined;
  const runId = (heartbeatDetails as { runId?: unknown }).runId;
  return typeof runId === 'number' && Number.isSafeInteger(runId) && runId > 0 ? runId : undefined;
}
