/**
 * Tier: integration (Prism serving GitHub's own OpenAPI description, validating every request;
 * no Temporal). The pull-request activities: every request they make must be valid for GitHub's
 * schema (afterEach: none refused). Prism answers with the description's examples: the example
 * pull request is #1347 of octocat/Hello-World from `new-topic` into `master`, open, at head
 * 6dcb09b…; the example issue #1347 was closed by `octocat`, as is its one event. Prism keeps no
 * state, so "the second open finds the first" is shown by a head the example lists, and the
 * choice among listed pull requests is unit-tested (test/unit/github-pull-request.test.ts).
 *
 * Two defects of the description's examples are mended by a front, after Prism has validated the
 * request: its example pull requests list a requested team without the `type` its own schema
 * requires, so Prism (which validates its answers too) refuses to serve them — such an answer,
 * refused for that one defect and nothing else, becomes the same example with `type` added (as
 * webhook.test.ts does for one operation); and its example issue is nested one level too deep
 * (the answer is the example object itself, `{ "value": { …the issue… }, … }`), which the front unwraps.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { repoClient } from '../../activities/github/client.js';
import { createPullRequestActivities, whoClosed } from '../../activities/github/index.js';
import { FailureType, type OpenPullRequestInput, type PullRequestChange } from '../../activities/types.js';
import { githubOpenApiSpec, startPrism, type PrismMock } from '../../infra/github-mock/prism.js';
import { failureOf } from '../support/failures.js';
import { startFront } from '../support/http-front.js';

const TOKEN = 'ghp_slipwayPullRequestToken0123456789';
const repo = { repo: 'octocat/Hello-World', tokenFromEnv: 'SLIPWAY_TEST_GH_PR_TOKEN' };
const repoPath = '/repos/octocat/Hello-World';
const OURS = 'slipway/release-todoapp-3f2a9c1d4e5f60718293a4b5c6d7e8f901234567/production';
const UI = 'http://temporal.example:8233';

const change: PullRequestChange = {
  app: 'todoapp',
  environment: 'production',
  kind: 'promote',
  releaseId: 'release/todoapp/3f2a9c1d4e5f60718293a4b5c6d7e8f901234567',
  sourceCommit: '3f2a9c1d4e5f60718293a4b5c6d7e8f901234567',
  version: 'v1.4.0',
  overlay: '1.2/overlays/production',
  images: [{ name: 'todoapp/frontend', newTag: '3f2a9c1d4e5f60718293a4b5c6d7e8f901234567' }],
};
const open = (over: Partial<OpenPullRequestInput> = {}): OpenPullRequestInput => ({ ...repo, head: OURS, base: 'master', change, ...over });

let mock: PrismMock;
let front: { url: string; server: Server };
let github: ReturnType<typeof createPullRequestActivities>;

beforeAll(async () => {
  mock = await startPrism({ logFile: join(process.cwd(), 'test-output', 'prism-github-pull-request.log') });
  front = await exampleFront(mock.url);
  process.env.SLIPWAY_TEST_GH_PR_TOKEN = TOKEN;
  github = createPullRequestActivities({ baseUrl: front.url, uiUrl: UI, namespace: 'default' });
});

afterAll(async () => {
  delete process.env.SLIPWAY_TEST_GH_PR_TOKEN;
  front?.server.closeAllConnections();
  await new Promise((resolve) => front?.server.close(resolve));
  await mock?.stop();
});

afterEach(() => {
  const refused = mock.violations().filter((r) => !teamTypeDefectOnly(r.responseBody));
  mock.clear();
  mock.setPrefer(undefined);
  expect(refused.map((r) => `${r.method} ${r.path}: ${r.violation}`)).toEqual([]);
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const examples = (JSON.parse(readFileSync(githubOpenApiSpec(), 'utf8')) as { components: { examples: Record<string, { value: Json }> } }).components.examples;
const withTeamType = (pr: Json): Json => ({ ...pr, requested_teams: (pr.requested_teams as Json[]).map((team) => ({ type: 'team', ...team })) });
const EXAMPLE_PULL = withTeamType(examples['pull-request']!.value);
const EXAMPLE_LIST = (examples['pull-request-simple-items']!.value as unknown as Json[]).map(withTeamType);

/** Prism refused its own answer, and only because a requested team lacks `type`: the example's defect, not our request's. */
function teamTypeDefectOnly(body: unknown): boolean {
  const problem = body as { type?: string; validation?: Array<{ location: string[]; message: string }> } | undefined;
  if (!problem?.type?.endsWith('#VIOLATIONS') || !problem.validation?.length) return false;
  return problem.validation.every((v) => v.location[0] === 'response' && v.location.includes('requested_teams') && /required property 'type'/.test(v.message));
}

/** In front of the recording proxy: everything goes to Prism; an answer refused for the example's defect only is the example, fixed. */
async function exampleFront(upstream: string): Promise<{ url: string; server: Server }> {
  return startFront('front to Prism', async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([h]) => !['host', 'connection', 'content-length'].includes(h))) as Record<string, string>;
    const answer = await fetch(`${upstream}${req.url}`, { method: req.method, headers, ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}) });
    const text = await answer.text();
    const path = new URL(req.url ?? '/', 'http://front').pathname;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (teamTypeDefectOnly(parsed)) {
      const [status, body] = /\/pulls$/.test(path) ? (req.method === 'POST' ? [201, EXAMPLE_PULL] : [200, EXAMPLE_LIST]) : [200, EXAMPLE_PULL];
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
      return;
    }
    const nested = parsed as { value?: { number?: unknown }; number?: unknown } | undefined;
    if (req.method === 'GET' && /\/issues\/\d+$/.test(path) && answer.status === 200 && nested?.number === undefined && typeof nested?.value?.number === 'number') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(nested.value));
      return;
    }
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
    res.end(text);
  });
}

const calls = () => mock.requests.map((r) => `${r.method} ${r.path}`);

describe('openPullRequest', () => {
  it('opens one pull request when none is there for the head: looks first, then creates it with what changes and the release link', async () => {
    const opened = await github.openPullRequest(open());
    // Prism's example list holds only `new-topic`: not ours, so one is created (Prism answers #1347).
    expect(opened).toEqual({ number: 1347, url: 'https://github.com/octocat/Hello-World/pull/1347', created: true, state: 'open', headSha: '6dcb09b5b57875f334f61aebed695e2e4193db5e', problems: [] });
    expect(calls()).toEqual([`GET ${repoPath}/pulls`, `POST ${repoPath}/pulls`]);
    expect(mock.requests[0]!.query).toEqual({ head: `octocat:${OURS}`, base: 'master', state: 'all', per_page: '100' });
    const created = mock.requests[1]!.body as { head: string; base: string; title: string; body: string };
    expect(created).toMatchObject({ head: OURS, base: 'master', title: 'promote todoapp to production: 3f2a9c1 (v1.4.0)' });
    expect(created.body).toContain('`1.2/overlays/production`');
    expect(created.body).toContain(`(${UI}/namespaces/default/workflows/release%2Ftodoapp%2F3f2a9c1d4e5f60718293a4b5c6d7e8f901234567)`);
    expect(mock.requests[0]!.headers.authorization).toBe(`token ${TOKEN}`);
  });

  it('a second open for the same head returns the pull request already there and creates none', async () => {
    const opened = await github.openPullRequest(open({ head: 'new-topic' }));
    expect(opened).toMatchObject({ number: 1347, created: false, state: 'open' });
    expect(calls()).toEqual([`GET ${repoPath}/pulls`]);
  });

  it('asks for the labels and reviewers (users and teams) on the pull request, also on one found again', async () => {
    const opened = await github.openPullRequest(open({ head: 'new-topic', labels: ['deploy', 'production'], reviewers: ['alice', 'octo-org/sre'] }));
    expect(opened.problems).toEqual([]);
    expect(calls()).toEqual([`GET ${repoPath}/pulls`, `POST ${repoPath}/issues/1347/labels`, `POST ${repoPath}/pulls/1347/requested_reviewers`]);
    expect(mock.requests[1]!.body).toEqual({ labels: ['deploy', 'production'] });
    expect(mock.requests[2]!.body).toEqual({ reviewers: ['alice'], team_reviewers: ['sre'] });
  });

  it('reports labels and reviewers GitHub refuses, and still answers with the pull request', async () => {
    mock.setPrefer(({ method, path }) => (method === 'POST' && (path.endsWith('/labels') || path.endsWith('/requested_reviewers')) ? 'code=422' : undefined));
    const opened = await github.openPullRequest(open({ head: 'new-topic', labels: ['deploy'], reviewers: ['alice'] }));
    expect(opened).toMatchObject({ number: 1347, created: false });
    expect(opened.problems).toHaveLength(2);
    expect(opened.problems[0]).toMatch(/^labels deploy: .*422/);
    expect(opened.problems[1]).toMatch(/^reviewers alice: .*422/);
    expect(opened.problems.join()).not.toContain(TOKEN);
  });

  it('a create refused because the pull request appeared meanwhile is answered with that pull request', async () => {
    let lists = 0;
    mock.setPrefer(({ method, path }) => {
      // The first look finds GitHub's list without ours (generated from the schema); the create is
      // refused with a 422; the second look lists the example, which is ours here.
      if (method === 'GET' && path.endsWith('/pulls')) return lists++ === 0 ? 'dynamic=true' : undefined;
      if (method === 'POST' && path.endsWith('/pulls')) return 'code=422';
      return undefined;
    });
    const opened = await github.openPullRequest(open({ head: 'new-topic' }));
    expect(opened).toMatchObject({ number: 1347, created: false });
    expect(calls()).toEqual([`GET ${repoPath}/pulls`, `POST ${repoPath}/pulls`, `GET ${repoPath}/pulls`]);
  });

  it('a create GitHub refuses with nothing there afterwards is PullRequestRefused, non-retryable, with GitHub\'s message', async () => {
    mock.setPrefer(({ method, path }) => (method === 'POST' && path.endsWith('/pulls') ? 'code=422' : undefined));
    const failure = await failureOf(github.openPullRequest(open()));
    expect(failure.type).toBe(FailureType.PullRequestRefused);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(`open a pull request ${OURS} → master in octocat/Hello-World: GitHub answered 422`);
    expect(calls()).toEqual([`GET ${repoPath}/pulls`, `POST ${repoPath}/pulls`, `GET ${repoPath}/pulls`]);
  });

  it('a token refused for the create (403) is a non-retryable GitHubRequestFailed, the token scrubbed', async () => {
    mock.setPrefer(({ method, path }) => (method === 'POST' && path.endsWith('/pulls') ? 'code=403' : undefined));
    const failure = await failureOf(github.openPullRequest(open()));
    expect(failure.type).toBe(FailureType.GitHubRequestFailed);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).not.toContain(TOKEN);
  });

  it('names a missing token variable and sends nothing', async () => {
    const failure = await failureOf(github.openPullRequest(open({ tokenFromEnv: 'SLIPWAY_TEST_UNSET_PR_TOKEN' })));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('SLIPWAY_TEST_UNSET_PR_TOKEN');
    expect(mock.requests).toEqual([]);
  });
});

describe('pullRequestState', () => {
  it('maps GitHub\'s example pull request (open, not merged) to open, asking nothing else', async () => {
    expect(await github.pullRequestState({ ...repo, number: 1347 })).toEqual({ state: 'open', number: 1347, url: 'https://github.com/octocat/Hello-World/pull/1347', headSha: '6dcb09b5b57875f334f61aebed695e2e4193db5e' });
    expect(calls()).toEqual([`GET ${repoPath}/pulls/1347`]);
  });

  it('a pull request that does not exist is PullRequestNotFound, non-retryable', async () => {
    mock.setPrefer(() => 'code=404');
    const failure = await failureOf(github.pullRequestState({ ...repo, number: 99 }));
    expect(failure.type).toBe(FailureType.PullRequestNotFound);
    expect(failure.nonRetryable).toBe(true);
  });

  it('a GitHub answering 500 or 503 is retryable', async () => {
    for (const code of ['500', '503']) {
      mock.setPrefer(() => `code=${code}`);
      const failure = await failureOf(github.pullRequestState({ ...repo, number: 1347 }));
      expect(failure.nonRetryable).toBe(false);
      expect(failure.message).toContain(`GitHub answered ${code}`);
    }
  });
});

describe('whoClosed', () => {
  it('reads who closed it from the issue\'s closed_by', async () => {
    expect(await whoClosed(repoClient(repo, { baseUrl: front.url }), 1347)).toBe('octocat');
    expect(calls()).toEqual([`GET ${repoPath}/issues/1347`]);
  });

  it('falls back to the closed event when the issue cannot be read', async () => {
    mock.setPrefer(({ path }) => (path.endsWith('/issues/1347') ? 'code=404' : undefined));
    expect(await whoClosed(repoClient(repo, { baseUrl: front.url }), 1347)).toBe('octocat');
    expect(calls()).toEqual([`GET ${repoPath}/issues/1347`, `GET ${repoPath}/issues/1347/events`]);
  });
});

describe('mergePullRequest', () => {
  const merge = { ...repo, number: 1347, sha: '6dcb09b5b57875f334f61aebed695e2e4193db5e', mergeMethod: 'squash' as const };

  it('merges an open pull request at the head Slipway wrote, with the merge method', async () => {
    const merged = await github.mergePullRequest(merge);
    expect(merged).toEqual({ merged: true, mergeCommit: expect.stringMatching(/^[0-9a-f]{40}$/) });
    expect(calls()).toEqual([`GET ${repoPath}/pulls/1347`, `PUT ${repoPath}/pulls/1347/merge`]);
    expect(mock.requests[1]!.body).toEqual({ sha: merge.sha, merge_method: 'squash' });
  });

  it("GitHub's not mergeable (405) and head moved (409) leave it open: merged false with GitHub's reason, no failure", async () => {
    for (const code of ['405', '409']) {
      mock.clear();
      mock.setPrefer(({ method }) => (method === 'PUT' ? `code=${code}` : undefined));
      const answer = await github.mergePullRequest(merge);
      expect(answer.merged).toBe(false);
      expect(answer.merged === false && answer.reason).toContain(`GitHub answered ${code}`);
    }
  });
});

describe('closePullRequest', () => {
  const close = { ...repo, number: 1347, marker: 'superseded', comment: 'Superseded by a newer release.' };

  it('says why once (a comment with its marker), then closes the open pull request', async () => {
    const state = await github.closePullRequest(close);
    expect(state).toMatchObject({ number: 1347 });
    expect(calls()).toEqual([`GET ${repoPath}/pulls/1347`, `GET ${repoPath}/issues/1347/comments`, `POST ${repoPath}/issues/1347/comments`, `PATCH ${repoPath}/pulls/1347`]);
    expect((mock.requests[2]!.body as { body: string }).body).toBe('Superseded by a newer release.\n\n<!-- slipway:superseded -->');
    expect(mock.requests[3]!.body).toEqual({ state: 'closed' });
  });
});

describe('rate limited', () => {
  it('a 429 from GitHub is retryable (Prism documents none for these operations: a plain server answers it)', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
      res.end(JSON.stringify({ message: 'API rate limit exceeded' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const limited = createPullRequestActivities({ baseUrl: `http://127.0.0.1:${port}` });
      const failure = await failureOf(limited.openPullRequest(open()));
      expect(failure.nonRetryable).toBe(false);
      expect(failure.message).toContain('GitHub answered 429: API rate limit exceeded');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
