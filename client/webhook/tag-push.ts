/**
 * What a GitHub `push` delivery asks of Slipway: a created tag that matches an app's tag pattern,
 * in that app's source repository, starts the production promotion of that tag. Everything else
 * is ignored (with the reason). Pure: tested without a server.
 */
import type { PolicySummary } from '../../activities/types.js';
import { tagMatchesPattern, versionFromTag } from '../../core/version.js';

/** The delivery is not a push payload GitHub would send: answered 400. */
export class PayloadError extends Error {
  override name = 'PayloadError';
}

export interface TagRelease {
  app: string;
  tag: string;
  /** The tagged commit (for an annotated tag, `head_commit.id`, not the tag object in `after`). */
  commit: string;
  version?: string;
  /** The environment the promotion starts at: the app's last. */
  startAt: string;
  /** For the audit trail: `webhook:tag v1.4.0 by alice`. */
  trigger: string;
}

export type PushDecision = { action: 'release'; releases: TagRelease[] } | { action: 'ignore'; reason: string };

const SHA = /^[0-9a-f]{40}$/i;

/** `policy` is the worker's policy as clients see it (apps, their source repository, tag rules, environments). */
export function decidePush(payload: unknown, policy: Pick<PolicySummary, 'apps'>): PushDecision {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new PayloadError('expected a JSON object');
  const push = payload as Record<string, unknown>;
  const ref = push.ref;
  if (typeof ref !== 'string') throw new PayloadError('missing "ref"');
  const repository = push.repository as { full_name?: unknown } | undefined;
  if (typeof repository?.full_name !== 'string') throw new PayloadError('missing "repository.full_name"');
  if (!ref.startsWith('refs/tags/')) return { action: 'ignore', reason: `not a tag: ${ref}` };
  if (push.deleted === true) return { action: 'ignore', reason: `tag deleted: ${ref}` };
  if (push.created !== true) return { action: 'ignore', reason: `tag moved, not created: ${ref}` };
  const tag = ref.slice('refs/tags/'.length);
  const repo = repository.full_name.toLowerCase();

  const apps = Object.entries(policy.apps).filter(([, app]) => app.source?.toLowerCase() === repo);
  if (apps.length === 0) return { action: 'ignore', reason: `no app has source ${repository.full_name}` };
  const matching = apps.filter(([, app]) => tagMatchesPattern(app.tag.pattern, tag));
  if (matching.length === 0) return { action: 'ignore', reason: `tag ${tag} matches no app's tag pattern` };

  const commit = taggedCommit(push);
  const pusher = (push.pusher as { name?: unknown } | undefined)?.name;
  const trigger = `webhook:tag ${tag}${typeof pusher === 'string' ? ` by ${pusher}` : ''}`;
  return {
    action: 'release',
    releases: matching.map(([name, app]) => ({
      app: name,
      tag,
      commit,
      version: versionFromTag(app.tag.format, tag),
      startAt: app.environments.at(-1)!.name,
      trigger,
    })),
  };
}

/** For an annotated tag `after` is the tag object; `head_commit.id` is the commit it tags. */
function taggedCommit(push: Record<string, unknown>): string {
  const head = (push.head_commit as { id?: unknown } | null | undefined)?.id;
  if (typeof head === 'string' && SHA.test(head)) return head.toLowerCase();
  const after = push.after;
  if (typeof after === 'string' && SHA.test(after) && !/^0+$/.test(after)) return after.toLowerCase();
  throw new PayloadError('missing the tagged commit ("head_commit.id" or "after")');
}
