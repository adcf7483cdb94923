/**
 * Tier: unit (no servers). The decisions of the pull-request activities as pure functions, on
 * GitHub's own example payloads from its OpenAPI description (@octokit/openapi): which listed pull
 * request is the one already open for a head, what a payload's state means, and the PR's text.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { existingPullRequest, pullRequestText, stateOf, type PullPayload } from '../../activities/github/pull-request.js';
import type { PullRequestChange } from '../../activities/types.js';
import { githubOpenApiSpec } from '../../infra/github-mock/prism.js';

const examples = (JSON.parse(readFileSync(githubOpenApiSpec(), 'utf8')) as { components: { examples: Record<string, { value: unknown }> } }).components.examples;
/** GitHub's example pull request (#1347 of octocat/Hello-World, head new-topic, base master), a fresh copy each time. */
const examplePull = (): PullPayload => structuredClone(examples['pull-request']!.value) as PullPayload;
const exampleListed = (): PullPayload => structuredClone((examples['pull-request-simple-items']!.value as PullPayload[])[0]!);

const want = { repo: 'octocat/Hello-World', head: 'new-topic', base: 'master' };

describe('existingPullRequest', () => {
  it('finds the listed pull request of the same head and base in the same repository', () => {
    const listed = exampleListed();
    expect(existingPullRequest([listed], want)?.number).toBe(1347);
    expect(existingPullRequest([listed], { ...want, repo: 'OctoCat/hello-world' })?.number).toBe(1347);
  });

  it('finds none when GitHub listed nothing, or only pull requests of another head, base or a fork', () => {
    expect(existingPullRequest([], want)).toBeUndefined();
    expect(existingPullRequest([exampleListed()], { ...want, head: 'slipway/release-x/production' })).toBeUndefined();
    expect(existingPullRequest([exampleListed()], { ...want, base: 'main' })).toBeUndefined();
    const fork = exampleListed();
    fork.head.repo = { full_name: 'someone/Hello-World' };
    expect(existingPullRequest([fork], want)).toBeUndefined();
  });

  it('prefers the open one, else the newest closed one: a second pull request is never opened beside it', () => {
    const closedOld = { ...exampleListed(), number: 10, state: 'closed' };
    const closedNew = { ...exampleListed(), number: 12, state: 'closed' };
    const open = { ...exampleListed(), number: 11, state: 'open' };
    expect(existingPullRequest([closedOld, open, closedNew], want)?.number).toBe(11);
    expect(existingPullRequest([closedOld, closedNew], want)?.number).toBe(12);
  });
});

describe('stateOf', () => {
  it('reads GitHub\'s example pull request (state open, merged false) as open, with its head commit', () => {
    expect(stateOf(examplePull())).toEqual({ state: 'open', number: 1347, url: 'https://github.com/octocat/Hello-World/pull/1347', headSha: '6dcb09b5b57875f334f61aebed695e2e4193db5e' });
  });

  it('reads a merged one with its merge commit and who merged it', () => {
    const pr = { ...examplePull(), state: 'closed', merged: true };
    expect(stateOf(pr)).toEqual({
      state: 'merged',
      number: 1347,
      url: 'https://github.com/octocat/Hello-World/pull/1347',
      headSha: '6dcb09b5b57875f334f61aebed695e2e4193db5e',
      mergeCommit: 'e5bd3914e2e596debea16f433f57875b5b90bcd6',
      mergedBy: 'octocat',
      mergedAt: '2011-01-26T19:01:12Z',
    });
  });

  it('reads a listed closed one with merged_at as merged (lists carry no `merged`)', () => {
    expect(stateOf({ ...exampleListed(), state: 'closed' })).toMatchObject({ state: 'merged', mergeCommit: 'e5bd3914e2e596debea16f433f57875b5b90bcd6' });
  });

  it('reads one closed without a merge as closed, with when', () => {
    const pr = { ...examplePull(), state: 'closed', merged: false, merged_at: null, merged_by: null };
    expect(stateOf(pr)).toEqual({ state: 'closed', number: 1347, url: 'https://github.com/octocat/Hello-World/pull/1347', headSha: '6dcb09b5b57875f334f61aebed695e2e4193db5e', closedAt: '2011-01-26T19:01:12Z' });
  });
});

describe('pullRequestText', () => {
  const change: PullRequestChange = {
    app: 'todoapp',
    environment: 'production',
    kind: 'promote',
    releaseId: 'release/todoapp/3f2a9c1d4e5f60718293a4b5c6d7e8f901234567',
    sourceCommit: '3f2a9c1d4e5f60718293a4b5c6d7e8f901234567',
    version: 'v1.4.0',
    overlay: '1.2/overlays/production',
    images: [
      { name: 'todoapp/frontend', newTag: '3f2a9c1d4e5f60718293a4b5c6d7e8f901234567' },
      { name: 'todoapp/backend', newName: 'registry.example/todoapp/backend', newTag: '3f2a9c1d' },
    ],
  };
  const ui = 'http://temporal.example:8233/namespaces/default/workflows/release%2Ftodoapp%2F3f2a9c1d4e5f60718293a4b5c6d7e8f901234567';

  it('says what changes, from which build, which release, with its Temporal UI link', () => {
    const { title, body } = pullRequestText(change, ui);
    expect(title).toBe('promote todoapp to production: 3f2a9c1 (v1.4.0)');
    expect(body).toContain('Promotes **todoapp** in **production** to build `3f2a9c1d4e5f60718293a4b5c6d7e8f901234567` (v1.4.0).');
    expect(body).toContain('Overlay `1.2/overlays/production`');
    expect(body).toContain('| `todoapp/frontend` | `todoapp/frontend:3f2a9c1d4e5f60718293a4b5c6d7e8f901234567` |');
    expect(body).toContain('| `todoapp/backend` | `registry.example/todoapp/backend:3f2a9c1d` |');
    expect(body).toContain(`Release: [\`release/todoapp/3f2a9c1d4e5f60718293a4b5c6d7e8f901234567\`](${ui}) (Temporal UI)`);
  });

  it('names the release without a link when the UI address is not known, and titles a rollback as one', () => {
    const { title, body } = pullRequestText({ ...change, kind: 'rollback', version: undefined }, undefined);
    expect(title).toBe('rollback todoapp in production to 3f2a9c1');
    expect(body).toContain('Release: `release/todoapp/3f2a9c1d4e5f60718293a4b5c6d7e8f901234567`\n');
    expect(body).toMatch(/^Rolls back/);
  });

  it('keeps request text from breaking out of its table cell or forging lines', () => {
    const { title, body } = pullRequestText({ ...change, version: 'v1\n\n# forged', images: [{ name: 'a|b`c', newTag: 't\nu' }] }, undefined);
    expect(title).not.toMatch(/\n/);
    expect(body).not.toContain('\n# forged');
    expect(body).toContain('| `a b c` | `a b c:t u` |');
  });
});
