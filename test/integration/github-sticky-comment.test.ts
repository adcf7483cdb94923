/**
 * Tier: integration (Prism serving GitHub's own OpenAPI description, validating every request;
 * no Temporal). upsertComment: every request it makes must be valid for GitHub's schema (afterEach:
 * none refused). Prism answers with the description's examples — the one listed comment of #1347
 * is "Me too" (id 1), not ours — and keeps no state, so what a pull request's comments hold is
 * given by a front in front of Prism: after Prism has validated and answered a listing, the front
 * answers with the scenario's comments instead (each one GitHub's example comment with another
 * id and body); for "the comment was deleted meanwhile" it answers a validated edit with the 404
 * GitHub gives for a comment that is gone (the description documents none for that operation).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { markedBody, upsertComment, type UpsertCommentInput } from '../../activities/github/sticky-comment.js';
import { FailureType } from '../../activities/types.js';
import { githubOpenApiSpec, startPrism, type PrismMock } from '../../infra/github-mock/prism.js';
import { failureOf } from '../support/failures.js';
import { startFront } from '../support/http-front.js';

const TOKEN = 'ghp_slipwayStickyCommentToken0123456789';
const ENV = 'SLIPWAY_TEST_GH_STICKY_TOKEN';
const repoPath = '/repos/octocat/Hello-World';
const MARKER = 'preview/todoapp';
const BODY = 'Preview of #1347: https://todoapp-pr-1347.preview.example.com (at 6dcb09b)';
const input = (over: Partial<UpsertCommentInput> = {}): UpsertCommentInput => ({ repo: 'octocat/Hello-World', tokenFromEnv: ENV, number: 1347, marker: MARKER, body: BODY, ...over });

type Json = Record<string, unknown>;
const examples = (JSON.parse(readFileSync(githubOpenApiSpec(), 'utf8')) as { components: { examples: Record<string, { value: unknown }> } }).components.examples;
const EXAMPLE = (examples['issue-comment-items']!.value as Json[])[0]!;
const listedComment = (id: number, body: string): Json => ({ ...structuredClone(EXAMPLE), id, body, html_url: `https://github.com/octocat/Hello-World/issues/1347#issuecomment-${id}` });

/** What the pull request's comments are, page by page (undefined: Prism's own answer). */
let listed: ((page: number) => Json[]) | undefined;
/** Edits answered 404, as for a comment deleted since it was listed. */
let editsGone = false;

let mock: PrismMock;
let front: { url: string; server: Server };
const options = () => ({ baseUrl: front.url });

beforeAll(async () => {
  mock = await startPrism({ logFile: join(process.cwd(), 'test-output', 'prism-github-sticky-comment.log') });
  front = await scenarioFront(mock.url);
  process.env[ENV] = TOKEN;
});

afterAll(async () => {
  delete process.env[ENV];
  front?.server.closeAllConnections();
  await new Promise((resolve) => front?.server.close(resolve));
  await mock?.stop();
});

afterEach(() => {
  const refused = mock.violations();
  mock.clear();
  mock.setPrefer(undefined);
  listed = undefined;
  editsGone = false;
  expect(refused.map((r) => `${r.method} ${r.path}: ${r.violation}`)).toEqual([]);
});

/** Everything goes to Prism (through the recording proxy) first; a scenario then decides what a listing or an edit answers. */
async function scenarioFront(upstream: string): Promise<{ url: string; server: Server }> {
  return startFront('front to Prism', async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([h]) => !['host', 'connection', 'content-length'].includes(h))) as Record<string, string>;
    const answer = await fetch(`${upstream}${req.url}`, { method: req.method, headers, ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}) });
    const text = await answer.text();
    const url = new URL(req.url ?? '/', 'http://front');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && /\/issues\/\d+\/comments$/.test(url.pathname) && answer.status === 200 && listed) {
      return send(200, listed(Number(url.searchParams.get('page') ?? '1')));
    }
    if (req.method === 'PATCH' && /\/issues\/comments\/\d+$/.test(url.pathname) && answer.status === 200 && editsGone) {
      return send(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/issues/comments#update-an-issue-comment' });
    }
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
    res.end(text);
  });
}

const calls = () => mock.requests.map((r) => `${r.method} ${r.path}${r.query.page ? `?page=${r.query.page}` : ''}`);
const LIST = `GET ${repoPath}/issues/1347/comments`;

describe('upsertComment', () => {
  it('creates the comment when none carries the marker: lists first, then posts the body with its marker line', async () => {
    const result = await upsertComment(input(), options());
    expect(calls()).toEqual([`${LIST}?page=1`, `POST ${repoPath}/issues/1347/comments`]);
    expect(mock.requests[0]!.query).toEqual({ per_page: '100', page: '1' });
    expect(mock.requests[1]!.body).toEqual({ body: markedBody(BODY, MARKER) });
    expect((mock.requests[1]!.body as { body: string }).body.endsWith('\n\n<!-- slipway:preview/todoapp -->')).toBe(true);
    expect(mock.requests[1]!.headers.authorization).toBe(`token ${TOKEN}`);
    // Prism answers the create with GitHub's example comment.
    expect(result).toEqual({ id: 1, url: 'https://github.com/octocat/Hello-World/issues/1347#issuecomment-1', created: true, updated: false });
  });

  it('edits the marked comment when its text differs, and creates none', async () => {
    listed = () => [listedComment(1, 'Me too'), listedComment(42, markedBody('Preview of #1347 at an older commit', MARKER)), listedComment(43, 'LGTM')];
    const result = await upsertComment(input(), options());
    expect(calls()).toEqual([`${LIST}?page=1`, `PATCH ${repoPath}/issues/comments/42`]);
    expect(mock.requests[1]!.body).toEqual({ body: markedBody(BODY, MARKER) });
    expect(result).toMatchObject({ id: 42, created: false, updated: true });
  });

  it('sends nothing when the marked comment already says it', async () => {
    listed = () => [listedComment(1, 'Me too'), listedComment(42, markedBody(BODY, MARKER))];
    expect(await upsertComment(input(), options())).toEqual({ id: 42, url: 'https://github.com/octocat/Hello-World/issues/1347#issuecomment-42', created: false, updated: false });
    expect(calls()).toEqual([`${LIST}?page=1`]);
  });

  it('reads the next page while a page is full, and finds ours there', async () => {
    const filler = (page: number) => Array.from({ length: 100 }, (_, i) => listedComment(page * 1000 + i, `comment ${i} of page ${page}`));
    listed = (page) => (page === 1 ? filler(1) : [listedComment(2001, markedBody('older', MARKER))]);
    await upsertComment(input(), options());
    expect(calls()).toEqual([`${LIST}?page=1`, `${LIST}?page=2`, `PATCH ${repoPath}/issues/comments/2001`]);
  });

  it('stops after ten full pages without ours and posts nothing: a comment past them would never be found again', async () => {
    listed = (page) => Array.from({ length: 100 }, (_, i) => listedComment(page * 1000 + i, 'not ours'));
    const failure = await failureOf(upsertComment(input(), options()));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('more than 1000 comments');
    expect(calls()).toEqual(Array.from({ length: 10 }, (_, i) => `${LIST}?page=${i + 1}`));
  });

  it('a marked comment deleted before the edit (404) is looked for again, and the comment created', async () => {
    let lists = 0;
    listed = () => (lists++ === 0 ? [listedComment(42, markedBody('old', MARKER))] : [listedComment(1, 'Me too')]);
    editsGone = true;
    const result = await upsertComment(input(), options());
    expect(calls()).toEqual([`${LIST}?page=1`, `PATCH ${repoPath}/issues/comments/42`, `${LIST}?page=1`, `POST ${repoPath}/issues/1347/comments`]);
    expect(result.created).toBe(true);
  });

  it('refuses a marker outside [A-Za-z0-9:/._-] before any request', async () => {
    for (const marker of ['preview todoapp', 'x -->', '']) {
      const failure = await failureOf(upsertComment(input({ marker }), options()));
      expect(failure.type).toBe(FailureType.InvalidConfig);
      expect(failure.nonRetryable).toBe(true);
    }
    expect(mock.requests).toEqual([]);
  });

  it('names a missing token variable and sends nothing', async () => {
    const failure = await failureOf(upsertComment(input({ tokenFromEnv: 'SLIPWAY_TEST_UNSET_STICKY_TOKEN' }), options()));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('SLIPWAY_TEST_UNSET_STICKY_TOKEN');
    expect(mock.requests).toEqual([]);
  });

  it('a pull request that does not exist (404) is PullRequestNotFound, non-retryable, the token in no message', async () => {
    mock.setPrefer(({ method }) => (method === 'GET' ? 'code=404' : undefined));
    const failure = await failureOf(upsertComment(input({ number: 99 }), options()));
    expect(failure.type).toBe(FailureType.PullRequestNotFound);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('comment preview/todoapp on #99 of octocat/Hello-World: GitHub answered 404');
    expect(failure.message).not.toContain(TOKEN);
    expect(calls()).toEqual([`GET ${repoPath}/issues/99/comments?page=1`]);
  });

  it('a refused create (403) and a refused edit (422) are non-retryable GitHubRequestFailed, the token in no message', async () => {
    mock.setPrefer(({ method }) => (method === 'POST' ? 'code=403' : undefined));
    const create = await failureOf(upsertComment(input(), options()));
    expect(create).toMatchObject({ type: FailureType.GitHubRequestFailed, nonRetryable: true });
    expect(create.message).toContain('GitHub answered 403');

    listed = () => [listedComment(42, markedBody('old', MARKER))];
    mock.setPrefer(({ method }) => (method === 'PATCH' ? 'code=422' : undefined));
    const edit = await failureOf(upsertComment(input(), options()));
    expect(edit).toMatchObject({ type: FailureType.GitHubRequestFailed, nonRetryable: true });
    expect(edit.message).toContain('GitHub answered 422');
    for (const failure of [create, edit]) expect(JSON.stringify({ message: failure.message, details: failure.details, stack: failure.stack })).not.toContain(TOKEN);
  });

  it('an answer that quotes the token back (a proxy echoing the request) has it scrubbed from the failure', async () => {
    const echo = createServer((req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `Bad credentials: ${String(req.headers.authorization)}` }));
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = echo.address() as { port: number };
      const failure = await failureOf(upsertComment(input(), { baseUrl: `http://127.0.0.1:${port}` }));
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toContain('GitHub answered 401: Bad credentials: token ***');
      expect(JSON.stringify({ message: failure.message, details: failure.details, cause: String(failure.cause) })).not.toContain(TOKEN);
    } finally {
      echo.closeAllConnections();
      await new Promise((resolve) => echo.close(resolve));
    }
  });

  it('a GitHub that does not answer in time is retryable, and the token is in no message', async () => {
    const silent = createServer(() => {
      /* never answers */
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as { port: number };
      const failure = await failureOf(upsertComment(input(), { baseUrl: `http://127.0.0.1:${port}`, requestTimeoutMs: 300 }));
      expect(failure.nonRetryable).toBe(false);
      expect(failure.message).toContain('did not answer in time');
      expect(failure.message).not.toContain(TOKEN);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
