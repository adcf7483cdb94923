/**
 * Release tags: an annotated tag object plus `refs/tags/<tag>`, then a GitHub release. Retried
 * calls must not tag twice: a tag already on the same commit is success (and the release is made
 * if a crash came between the ref and the release); a tag on another commit is a TagConflict.
 */
import { ApplicationFailure } from '@temporalio/common';
import { shortSha } from '../../core/ids.js';
import { nextPatchVersion } from '../../core/version.js';
import { FailureType, type CreateTagInput, type NextVersionInput } from '../types.js';
import { repoClient, type GithubClientOptions, type RepoClient } from './client.js';
import { isStatus, toGithubFailure } from './failures.js';

export async function createReleaseTag(input: CreateTagInput, options: GithubClientOptions): Promise<{ created: boolean }> {
  const client = repoClient(input.source, options);
  const where = `create tag ${input.tag} at ${shortSha(input.commit)} in ${input.source.repo}`;
  try {
    const existing = await tagCommit(client, input.tag);
    if (existing !== undefined) {
      assertSameCommit(existing, input);
      await ensureRelease(client, input);
      return { created: false };
    }
    const tagObject = await client.octokit.git.createTag({
      owner: client.owner,
      repo: client.repo,
      tag: input.tag,
      message: input.message,
      object: input.commit,
      type: 'commit',
    });
    try {
      await client.octokit.git.createRef({
        owner: client.owner,
        repo: client.repo,
        ref: `refs/tags/${input.tag}`,
        sha: tagObject.data.sha,
      });
    } catch (err) {
      // 422 "Reference already exists": another attempt (or a person) made it meanwhile.
      if (!isStatus(err, 422)) throw err;
      const now = await tagCommit(client, input.tag);
      if (now === undefined) throw err;
      assertSameCommit(now, input);
      await ensureRelease(client, input);
      return { created: false };
    }
    await createRelease(client, input);
    return { created: true };
  } catch (err) {
    throw toGithubFailure(err, where, client.token);
  }
}

/** The commit a tag points at (through annotated tag objects), or undefined when there is no such tag. */
async function tagCommit(client: RepoClient, tag: string): Promise<string | undefined> {
  let ref;
  try {
    ref = await client.octokit.git.getRef({ owner: client.owner, repo: client.repo, ref: `tags/${tag}` });
  } catch (err) {
    if (isStatus(err, 404)) return undefined;
    throw err;
  }
  let object = ref.data.object;
  // An annotated tag's ref points at the tag object; a tag of a tag is legal, so follow a few.
  for (let depth = 0; object.type === 'tag' && depth < 5; depth++) {
    const tagObject = await client.octokit.git.getTag({ owner: client.owner, repo: client.repo, tag_sha: object.sha });
    object = tagObject.data.object;
  }
  return object.sha;
}

function assertSameCommit(existing: string, input: CreateTagInput): void {
  if (existing.toLowerCase() === input.commit.toLowerCase()) return;
  throw ApplicationFailure.create({
    message: `tag ${input.tag} in ${input.source.repo} already points at ${shortSha(existing)}, not ${shortSha(input.commit)}`,
    type: FailureType.TagConflict,
    nonRetryable: true,
  });
}

async function ensureRelease(client: RepoClient, input: CreateTagInput): Promise<void> {
  try {
    await client.octokit.repos.getReleaseByTag({ owner: client.owner, repo: client.repo, tag: input.tag });
  } catch (err) {
    if (!isStatus(err, 404)) throw err;
    await createRelease(client, input);
  }
}

async function createRelease(client: RepoClient, input: CreateTagInput): Promise<void> {
  try {
    await client.octokit.repos.createRelease({
      owner: client.owner,
      repo: client.repo,
      tag_name: input.tag,
      name: input.tag,
      body: input.message,
    });
  } catch (err) {
    // A release for the tag exists already (a retry after a lost response): that is the goal.
    if (isStatus(err, 422) && /already_exists/i.test(JSON.stringify((err as { response?: { data?: unknown } }).response?.data ?? ''))) return;
    throw err;
  }
}

/** The next patch version after the highest tag matching `format`; 0.1.0 when there is none. */
export async function nextVersion(input: NextVersionInput, options: GithubClientOptions): Promise<string> {
  const client = repoClient(input.source, options);
  const prefix = input.format.split('{version}')[0] ?? '';
  try {
    // matching-refs is not paginated: it answers every ref under the prefix at once.
    const { data: refs } = await client.octokit.git.listMatchingRefs({ owner: client.owner, repo: client.repo, ref: `tags/${prefix}` });
    const tags = refs.filter((r) => r.ref.startsWith('refs/tags/')).map((r) => r.ref.slice('refs/tags/'.length));
    return nextPatchVersion(tags, input.format);
  } catch (err) {
    throw toGithubFailure(err, `list tags of ${input.source.repo}`, client.token);
  }
}
