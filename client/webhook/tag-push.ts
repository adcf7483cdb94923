/**
 * What a GitHub `push` delivery asks of Slipway, decided from the worker's policy summary. Pure:
 * tested without a server.
 * - A push to a branch an app triggers on (`triggers.push`, e.g. main → staging) builds the pushed
 *   commit and promotes it into that one environment, with its checks.
 * - A created tag that is a release version under an app's `tag.format` (and matches its
 *   `tag.pattern`) starts the promotion of that tag to the app's last environment.
 * Everything else is ignored, with the reason: it ends up in GitHub's delivery log.
 */
import type { PolicySummary } from '../../activities/types.js';
import { releaseWorkflowId } from '../../core/ids.js';
import { tagMatchesPattern } from '../../core/version.js';

/** The delivery is not a push payload GitHub would send: answered 400. */
export class PayloadError extends Error {
  override name = 'PayloadError';
}

interface PushReleaseBase {
  app: string;
  /** The commit to release (for an annotated tag, `head_commit.id`, not the tag object in `after`). */
  commit: string;
  /** The environment the release starts at. */
  startAt: string;
  /** For the audit trail: `webhook:tag v1.4.0 by alice`, `webhook:push main by alice`. */
  trigger: string;
  /** The GitHub login that pushed, when the delivery names one (four eyes: they may not approve it). */
  requestedBy?: string;
  /**
   * When the released commit was made (its `head_commit.timestamp`, epoch ms), for the lead time
   * `slipway metrics` reports. It is the commit's own claim, so it is never used for a decision.
   */
  committedAt?: number;
}

/** A pushed release tag: promote that build to the app's last environment. */
export interface TagRelease extends PushReleaseBase {
  via: 'tag';
  tag: string;
  version: string;
}

/** A push to a triggering branch: build the commit and promote it into `startAt` only. */
export interface BranchRelease extends PushReleaseBase {
  via: 'branch';
  branch: string;
}

export type PushRelease = TagRelease | BranchRelease;

export type PushDecision = { action: 'release'; releases: PushRelease[] } | { action: 'ignore'; reason: string };

type AppSummary = PolicySummary['apps'][string];

const SHA = /^[0-9a-f]{40}$/i;
const NO_COMMIT = /^0{40}$/;

/** `policy` is the worker's policy as clients see it (apps, their source repository, tag rules, triggers). */
export function decidePush(payload: unknown, policy: Pick<PolicySummary, 'apps'>): PushDecision {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new PayloadError('expected a JSON object');
  const push = payload as Record<string, unknown>;
  const ref = push.ref;
  if (typeof ref !== 'string') throw new PayloadError('missing "ref"');
  const repository = push.repository as { full_name?: unknown; fork?: unknown } | undefined;
  if (typeof repository?.full_name !== 'string') throw new PayloadError('missing "repository.full_name"');

  const isTag = ref.startsWith('refs/tags/');
  const isBranch = ref.startsWith('refs/heads/');
  if (!isTag && !isBranch) return ignore(`not a branch or tag: ${ref}`);
  const name = ref.slice(isTag ? 'refs/tags/'.length : 'refs/heads/'.length);
  // A deleted ref has nothing to release; GitHub marks it both ways, either is enough.
  if (push.deleted === true || (typeof push.after === 'string' && NO_COMMIT.test(push.after))) {
    return ignore(`${isTag ? 'tag' : 'branch'} deleted: ${name}`);
  }
  // A fork has a repository of its own; its pushes are not the app's, whatever its name.
  if (repository.fork === true) return ignore(`push to a fork: ${repository.full_name}`);
  const repo = repository.full_name.toLowerCase();
  const apps = Object.entries(policy.apps).filter(([, app]) => app.source?.toLowerCase() === repo);
  if (apps.length === 0) return ignore(`no app has source ${repository.full_name}`);

  const login = pusherLogin(push);
  const who = login ? { requestedBy: login } : {};
  const by = login ? ` by ${login}` : '';

  if (isBranch) {
    // `?.`: a worker older than push triggers sends a summary without them.
    const triggered = apps.flatMap(([app, summary]) => (summary.triggers?.push ?? []).filter((t) => t.branch === name).map((t) => ({ app, to: t.to })));
    if (triggered.length === 0) return ignore(`no push trigger for branch ${name} (apps of ${repository.full_name}: ${apps.map(([app]) => app).join(', ')})`);
    const commit = pushedCommit(push);
    const made = commitTime(push, commit);
    return {
      action: 'release',
      releases: triggered.map(({ app, to }) => ({ via: 'branch', app, branch: name, commit, startAt: to, trigger: `webhook:push ${name}${by}`, ...who, ...made })),
    };
  }

  if (push.created !== true) return ignore(`tag moved, not created: ${name}`);
  const matching = apps.filter(([, app]) => tagMatchesPattern(app.tag.pattern, name));
  if (matching.length === 0) return ignore(`tag ${name} matches no app's tag pattern`);
  const releases: TagRelease[] = [];
  const problems: string[] = [];
  for (const [app, summary] of matching) {
    const version = releaseVersion(app, summary.tag, name);
    if ('problem' in version) problems.push(version.problem);
    else {
      const commit = taggedCommit(push);
      releases.push({ via: 'tag', app, tag: name, commit, version: version.version, startAt: summary.environments.at(-1)!.name, trigger: `webhook:tag ${name}${by}`, ...who, ...commitTime(push, commit) });
    }
  }
  return releases.length > 0 ? { action: 'release', releases } : ignore(problems.join('; '));
}

/**
 * SemVer 2.0.0 without build metadata: numeric MAJOR.MINOR.PATCH without leading zeros, then an
 * optional prerelease of dot-separated identifiers (numeric ones without leading zeros).
 */
const RELEASE_VERSION = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*)?$/;

/** The version a tag names under the app's tag rules, or why it names none. */
export function releaseVersion(app: string, rules: Pick<AppSummary['tag'], 'format' | 'prereleases'>, tag: string): { version: string } | { problem: string } {
  const at = rules.format.indexOf('{version}');
  const prefix = rules.format.slice(0, at);
  const suffix = rules.format.slice(at + '{version}'.length);
  if (!tag.startsWith(prefix) || !tag.endsWith(suffix) || tag.length < prefix.length + suffix.length) {
    return { problem: `tag ${tag} is not named like ${app}'s tags ("${rules.format}")` };
  }
  const version = tag.slice(prefix.length, tag.length - suffix.length);
  const match = RELEASE_VERSION.exec(version);
  if (!match) {
    return { problem: `tag ${tag} is not a version under "${rules.format}": "${version}" is not MAJOR.MINOR.PATCH (numbers without leading zeros${rules.prereleases ? ', optionally -prerelease' : ''})` };
  }
  if (match[4] && !rules.prereleases) return { problem: `tag ${tag} is a prerelease, and ${app}'s policy takes none (tag.prereleases is false)` };
  return { version };
}

/**
 * What a release of that commit tagged: the memo `tag` of the workflow `workflowId`, undefined
 * when there is no such workflow or it made no tag.
 */
export type CreatedTagLookup = (workflowId: string) => Promise<string | undefined>;

/**
 * Drops the tag releases whose tag a release of the same commit created itself (it records the
 * tag in its memo before it creates it): that build is on its way already, whatever `tag.before`
 * made it tag before.
 */
export async function withoutOwnTags(releases: PushRelease[], createdTag: CreatedTagLookup): Promise<{ releases: PushRelease[]; ignored: string[] }> {
  const checked = await Promise.all(
    releases.map(async (release): Promise<{ release: PushRelease } | { ignored: string }> => {
      if (release.via !== 'tag') return { release };
      const releaseId = releaseWorkflowId(release.app, release.commit);
      return (await createdTag(releaseId)) === release.tag ? { ignored: `tag ${release.tag} was created by ${releaseId}` } : { release };
    }),
  );
  return {
    releases: checked.flatMap((c) => ('release' in c ? [c.release] : [])),
    ignored: checked.flatMap((c) => ('ignored' in c ? [c.ignored] : [])),
  };
}

function ignore(reason: string): PushDecision {
  return { action: 'ignore', reason };
}

/** The GitHub account that pushed: `sender.login`, else `pusher.name` (which is the login on github.com). */
function pusherLogin(push: Record<string, unknown>): string | undefined {
  const sender = (push.sender as { login?: unknown } | undefined)?.login;
  if (typeof sender === 'string' && sender) return sender;
  const pusher = (push.pusher as { name?: unknown } | undefined)?.name;
  return typeof pusher === 'string' && pusher ? pusher : undefined;
}

/** The commit a branch now points at. */
function pushedCommit(push: Record<string, unknown>): string {
  const after = push.after;
  if (typeof after === 'string' && SHA.test(after)) return after.toLowerCase();
  throw new PayloadError('missing the pushed commit ("after")');
}

/** `head_commit.timestamp` when `head_commit` is the commit released and the time parses; else nothing. */
function commitTime(push: Record<string, unknown>, commit: string): { committedAt?: number } {
  const head = push.head_commit as { id?: unknown; timestamp?: unknown } | null | undefined;
  if (typeof head?.id !== 'string' || head.id.toLowerCase() !== commit || typeof head.timestamp !== 'string') return {};
  const at = Date.parse(head.timestamp);
  return Number.isFinite(at) ? { committedAt: at } : {};
}

/** For an annotated tag `after` is the tag object; `head_commit.id` is the commit it tags. */
function taggedCommit(push: Record<string, unknown>): string {
  const head = (push.head_commit as { id?: unknown } | null | undefined)?.id;
  if (typeof head === 'string' && SHA.test(head)) return head.toLowerCase();
  const after = push.after;
  if (typeof after === 'string' && SHA.test(after) && !NO_COMMIT.test(after)) return after.toLowerCase();
  throw new PayloadError('missing the tagged commit ("head_commit.id" or "after")');
}
