/**
 * The GitHub activities against Prism serving GitHub's own OpenAPI description: every request
 * must be valid for GitHub's schema (a refused request fails the test), and idempotency and
 * conflicts are asserted on the requests made. Prism answers with the description's examples:
 * the example ref `refs/...` points at commit aa218f56…, the example run is 30433642 (queued, at
 * commit acb5820…, started by a push), a dispatch answers with run id 1 (served as that example run),
 * the example deployment is id 1 for sha a84d88e7… in `production`.
 */
import { createServer, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGithubActivities } from '../../activities/github/index.js';
import { FailureType } from '../../activities/types.js';
import { startPrism, type PrismMock } from '../../infra/github-mock/prism.js';
import { describeFailure, failureOf } from '../support/failures.js';
import { newWorld, pipelineFromYaml, STAGING_AND_PRODUCTION, startRelease, uniqueApp } from '../support/pipelines.js';
import { startTestWorker, testClient, type RunningWorker } from '../support/temporal.js';

const EXAMPLE_REF_COMMIT = 'aa218f56b14c9653891f9e74264a383fa43fefbd';
const EXAMPLE_DEPLOYMENT_SHA = 'a84d88e7554fc1fa21bcbc4efae3c782a70d2b9d';
const EXAMPLE_RUN_COMMIT = 'acb5820ced9479c074f688cc328bf03f341a511d';
const OTHER_COMMIT = 'c3d0be41ecbe669545ee3e94d31ed9a4bc91ee3c';
const TOKEN = 'ghp_slipwayTestToken0123456789';
const source = { repo: 'octo-org/octo-repo', tokenFromEnv: 'SLIPWAY_TEST_GH_TOKEN' };

let mock: PrismMock;
let github: ReturnType<typeof createGithubActivities>;

beforeAll(async () => {
  mock = await startPrism({ logFile: join(process.cwd(), 'test-output', 'prism-github-activities.log') });
  process.env.SLIPWAY_TEST_GH_TOKEN = TOKEN;
  github = createGithubActivities({ baseUrl: mock.url, pollIntervalMs: 50 });
});

afterAll(async () => {
  delete process.env.SLIPWAY_TEST_GH_TOKEN;
  await mock?.stop();
});

afterEach(() => {
  // Whatever a test did, Prism must not have refused any request as invalid for GitHub's schema.
  expect(mock.violations().map((r) => `${r.method} ${r.path}: ${r.violation}`)).toEqual([]);
  mock.clear();
  mock.setPrefer(undefined);
});

const calls = () => mock.requests.map((r) => `${r.method} ${r.path}`);
const repoPath = '/repos/octo-org/octo-repo';

describe('createReleaseTag', () => {
  it('creates an annotated tag object, the ref to it, and a release when the tag does not exist', async () => {
    mock.setPrefer(({ method, path }) => (method === 'GET' && path.includes('/git/ref/') ? 'code=404' : undefined));
    const result = await github.createReleaseTag({ source, tag: 'v1.2.0', commit: OTHER_COMMIT, message: 'Release 1.2.0' });
    expect(result).toEqual({ created: true });
    expect(calls()).toEqual([
      `GET ${repoPath}/git/ref/tags%2Fv1.2.0`,
      `POST ${repoPath}/git/tags`,
      `POST ${repoPath}/git/refs`,
      `POST ${repoPath}/releases`,
    ]);
    const [, tag, ref, release] = mock.requests;
    expect(tag!.body).toEqual({ tag: 'v1.2.0', message: 'Release 1.2.0', object: OTHER_COMMIT, type: 'commit' });
    // The ref points at the tag object GitHub returned (an annotated tag), not at the commit.
    expect(ref!.body).toEqual({ ref: 'refs/tags/v1.2.0', sha: (tag!.responseBody as { sha: string }).sha });
    expect(release!.body).toMatchObject({ tag_name: 'v1.2.0' });
    expect(mock.requests[0]!.headers.authorization).toBe(`token ${TOKEN}`);
  });

  it('is a no-op when the tag already points at the same commit', async () => {
    const result = await github.createReleaseTag({ source, tag: 'v1.2.0', commit: EXAMPLE_REF_COMMIT, message: 'Release 1.2.0' });
    expect(result).toEqual({ created: false });
    expect(calls()).toEqual([`GET ${repoPath}/git/ref/tags%2Fv1.2.0`, `GET ${repoPath}/releases/tags/v1.2.0`]);
  });

  it('makes the missing release when a crash came between the ref and the release', async () => {
    mock.setPrefer(({ method, path }) => (method === 'GET' && path.includes('/releases/tags/') ? 'code=404' : undefined));
    const result = await github.createReleaseTag({ source, tag: 'v1.2.0', commit: EXAMPLE_REF_COMMIT, message: 'Release 1.2.0' });
    expect(result).toEqual({ created: false });
    expect(calls()).toEqual([
      `GET ${repoPath}/git/ref/tags%2Fv1.2.0`,
      `GET ${repoPath}/releases/tags/v1.2.0`,
      `POST ${repoPath}/releases`,
    ]);
  });

  it('fails with a non-retryable TagConflict when the tag points at another commit, creating nothing', async () => {
    const failure = await failureOf(github.createReleaseTag({ source, tag: 'v1.2.0', commit: OTHER_COMMIT, message: 'Release 1.2.0' }));
    expect(failure.type).toBe(FailureType.TagConflict);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('aa218f5');
    expect(mock.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('treats a ref made meanwhile on the same commit (422 from createRef) as success', async () => {
    let refReads = 0;
    mock.setPrefer(({ method, path }) => {
      if (method === 'GET' && path.includes('/git/ref/')) return refReads++ === 0 ? 'code=404' : undefined;
      if (method === 'POST' && path.endsWith('/git/refs')) return 'code=422';
      return undefined;
    });
    const result = await github.createReleaseTag({ source, tag: 'v1.2.0', commit: EXAMPLE_REF_COMMIT, message: 'Release 1.2.0' });
    expect(result).toEqual({ created: false });
    expect(calls()).toEqual([
      `GET ${repoPath}/git/ref/tags%2Fv1.2.0`,
      `POST ${repoPath}/git/tags`,
      `POST ${repoPath}/git/refs`,
      `GET ${repoPath}/git/ref/tags%2Fv1.2.0`,
      `GET ${repoPath}/releases/tags/v1.2.0`,
    ]);
  });

  it('turns a 422 from GitHub into a non-retryable GitHubRequestFailed with the status and message', async () => {
    mock.setPrefer(({ method, path }) => {
      if (method === 'GET' && path.includes('/git/ref/')) return 'code=404';
      if (method === 'POST' && path.endsWith('/git/tags')) return 'code=422';
      return undefined;
    });
    const failure = await failureOf(github.createReleaseTag({ source, tag: 'v1.2.0', commit: OTHER_COMMIT, message: 'm' }));
    expect(failure.type).toBe(FailureType.GitHubRequestFailed);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('422');
    // GitHub's own message from the answer (Prism's example of a validation failure).
    const answer = mock.requests.find((r) => r.path.endsWith('/git/tags'))!.responseBody as { message: string };
    expect(failure.message).toContain(`: ${answer.message}`);
    expect(failure.message).not.toContain(TOKEN);
  });

  it('names the missing token variable, never a value, and sends nothing', async () => {
    const failure = await failureOf(
      github.createReleaseTag({ source: { ...source, tokenFromEnv: 'SLIPWAY_TEST_UNSET_TOKEN' }, tag: 'v1', commit: OTHER_COMMIT, message: 'm' }),
    );
    expect(failure.type).toBe(FailureType.GitHubRequestFailed);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('SLIPWAY_TEST_UNSET_TOKEN');
    expect(mock.requests).toEqual([]);
  });
});

describe('nextVersion', () => {
  it('lists the tags under the format prefix and takes the next patch', async () => {
    // The example answer holds only branch refs: no release tag yet.
    expect(await github.nextVersion({ source, format: 'v{version}' })).toBe('0.1.0');
    expect(calls()).toEqual([`GET ${repoPath}/git/matching-refs/tags%2Fv`]);
  });
});

describe('triggerBuild', () => {
  it('refuses at once, as BuildWrongCommit, a run that builds another commit than the release', async () => {
    // The dispatched run (Prism's example run) is at acb5820…, the head of the ref when it started.
    const started = Date.now();
    const failure = await failureOf(github.triggerBuild({ source, workflow: 'build.yml', ref: 'main', commit: OTHER_COMMIT, timeoutMs: 20_000 }));
    expect(failure.type).toBe(FailureType.BuildWrongCommit);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(OTHER_COMMIT.slice(0, 7));
    expect(failure.message).toContain(EXAMPLE_RUN_COMMIT.slice(0, 7));
    expect(failure.message).toContain('https://github.com/octo-org/octo-repo/actions/runs/30433642');
    // Refused on the first look at the run, not at the build's deadline.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(calls().filter((c) => c === `GET ${repoPath}/actions/runs/1`)).toHaveLength(1);
  });

  it('dispatches on the ref with the released commit and its dispatch key as inputs, then follows that run to the deadline', async () => {
    const failure = await failureOf(
      github.triggerBuild({ source, workflow: 'build.yml', ref: 'main', commit: EXAMPLE_RUN_COMMIT, timeoutMs: 1500 }),
    );
    // The example run is at the released commit and stays queued, so the wait ends at the deadline.
    expect(failure.type).toBe(FailureType.BuildFailed);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('did not finish');
    expect(failure.message).toContain('https://github.com/octo-org/octo-repo/actions/runs/30433642');
    const c = calls();
    // A first attempt has dispatched nothing before: it dispatches at once.
    expect(c[0]).toBe(`POST ${repoPath}/actions/workflows/build.yml/dispatches`);
    expect(mock.requests[0]!.body).toEqual({
      ref: 'main',
      inputs: { slipway_commit: EXAMPLE_RUN_COMMIT, slipway_dispatch: expect.stringMatching(/^slipway-[0-9a-f]{24}$/) },
      return_run_details: true,
    });
    // The dispatch answered workflow_run_id 1: that run is polled until the deadline.
    expect(c.slice(1).length).toBeGreaterThan(1);
    expect(new Set(c.slice(1))).toEqual(new Set([`GET ${repoPath}/actions/runs/1`]));
  });

  it('after a dispatch answered without its run, looks only for a run titled with its dispatch key, with list filters GitHub accepts', async () => {
    mock.setPrefer(({ method, path }) => (method === 'POST' && path.endsWith('/dispatches') ? 'code=204' : undefined));
    const failure = await failureOf(
      createGithubActivities({ baseUrl: mock.url, pollIntervalMs: 50, findRunTimeoutMs: 400 }).triggerBuild({
        source,
        workflow: 'build.yml',
        ref: 'main',
        commit: EXAMPLE_RUN_COMMIT,
        timeoutMs: 5_000,
      }),
    );
    // Prism's only run is at this very commit, but a push started it and its title carries no
    // dispatch key: someone else's, never taken for ours.
    expect(failure.type).toBe(FailureType.BuildFailed);
    expect(failure.message).toContain('slipway_dispatch');
    const lists = mock.requests.filter((r) => r.path.endsWith('/actions/workflows/build.yml/runs'));
    expect(lists.length).toBeGreaterThan(0);
    expect(lists[0]!.query).toMatchObject({ event: 'workflow_dispatch', per_page: '100', page: '1' });
    expect(calls()).not.toContain(`GET ${repoPath}/actions/runs/30433642`);
    expect(calls().filter((c) => c.endsWith('/dispatches'))).toHaveLength(1);
    // (afterEach: no list request was refused by GitHub's schema.)
  });
});

describe('triggerBuild retried by Temporal', () => {
  let temporal: Client;
  let worker: RunningWorker | undefined;
  let hang: HangingProxy | undefined;
  const savedToken = process.env.GITHUB_TOKEN;

  beforeAll(async () => {
    temporal = await testClient();
    process.env.GITHUB_TOKEN = TOKEN;
  });
  afterAll(async () => {
    await worker?.stop();
    await hang?.stop();
    if (savedToken === undefined) delete process.env.GITHUB_TOKEN;
    else process.env.GITHUB_TOKEN = savedToken;
  });

  it('a retried build step follows the run its first attempt dispatched instead of dispatching a second build', async () => {
    // GitHub stops answering while the first attempt looks at its run: that request hits its
    // deadline, the attempt fails (retryable), and Temporal retries it.
    hang = await hangingProxy(mock.url, ({ method, path }) => method === 'GET' && /\/actions\/runs\/\d+$/.test(path), 8_000);
    const app = uniqueApp('ghbuild');
    const pipeline = pipelineFromYaml(app, STAGING_AND_PRODUCTION(), '    build: { githubActions: { workflow: build.yml, ref: main, timeout: 4s } }');
    const activities = { ...newWorld(app).activities(), ...pick(createGithubActivities({ baseUrl: hang.url, pollIntervalMs: 100, requestTimeoutMs: 500 }), 'triggerBuild') };
    worker = await startTestWorker(activities);
    const handle = await startRelease(temporal, worker.taskQueue, pipeline, EXAMPLE_RUN_COMMIT);
    const failure = describeFailure(await handle.result().then(() => undefined, (e: unknown) => e));

    // The retry found the run (Prism's example run is queued, so the build ends at its deadline).
    expect(failure.type).toBe(FailureType.BuildFailed);
    expect(failure.message).toContain('did not finish');
    const events = (await handle.fetchHistory()).events!;
    const build = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'triggerBuild')!;
    const started = events.filter((e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId) === String(build.eventId));
    expect(started.map((e) => e.activityTaskStartedEventAttributes!.attempt)).toEqual([2]);
    const dispatchedPath = `/repos/example/${app}/actions/workflows/build.yml/dispatches`;
    expect(mock.requests.filter((r) => r.path === dispatchedPath)).toHaveLength(1);
    // The retry went straight to the run the first attempt recorded in its heartbeat: no search.
    expect(mock.requests.filter((r) => r.path.endsWith('/actions/workflows/build.yml/runs'))).toHaveLength(0);
    expect(mock.requests.filter((r) => r.path === `/repos/example/${app}/actions/runs/1`).length).toBeGreaterThan(0);
    // The request that got no answer was given up at its deadline, not after GitHub's 8 s.
    expect(hang.held).toHaveLength(1);
    expect(hang.held[0]!.clientGaveUpAfterMs).toBeLessThan(3_000);
  });
});

function pick<T extends object, K extends keyof T>(from: T, key: K): Pick<T, K> {
  return { [key]: from[key] } as Pick<T, K>;
}

interface HangingProxy {
  url: string;
  /** The requests held without an answer, and when the client closed each one. */
  held: { path: string; clientGaveUpAfterMs?: number }[];
  stop(): Promise<void>;
}

/**
 * In front of the GitHub mock: the first request `hangOn` picks gets no answer for `holdMs` and
 * then a dropped connection, like a GitHub that accepted the connection and went silent; every
 * other request passes through.
 */
async function hangingProxy(target: string, hangOn: (r: { method: string; path: string }) => boolean, holdMs: number): Promise<HangingProxy> {
  const held: HangingProxy['held'] = [];
  const timers = new Set<NodeJS.Timeout>();
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (held.length === 0 && hangOn({ method: req.method ?? 'GET', path })) {
      const entry: HangingProxy['held'][number] = { path };
      held.push(entry);
      const since = Date.now();
      res.on('close', () => (entry.clientGaveUpAfterMs ??= Date.now() - since));
      const timer = setTimeout(() => req.socket.destroy(), holdMs);
      timers.add(timer);
      return;
    }
    const out = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    held,
    async stop() {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('reportDeployment', () => {
  it('creates a deployment for a new commit and environment, then its status', async () => {
    await github.reportDeployment({ source, environment: 'staging', commit: OTHER_COMMIT, state: 'in_progress', description: 'Deploying', logUrl: 'http://ui.example/wf' });
    expect(calls()).toEqual([`GET ${repoPath}/deployments`, `POST ${repoPath}/deployments`, `POST ${repoPath}/deployments/1/statuses`]);
    expect(mock.requests[0]!.query).toMatchObject({ sha: OTHER_COMMIT, environment: 'staging' });
    expect(mock.requests[1]!.body).toMatchObject({ ref: OTHER_COMMIT, environment: 'staging', auto_merge: false, required_contexts: [] });
    expect(mock.requests[2]!.body).toEqual({ state: 'in_progress', description: 'Deploying', log_url: 'http://ui.example/wf' });
  });

  it('reuses the existing deployment for the same commit and environment', async () => {
    await github.reportDeployment({ source, environment: 'production', commit: EXAMPLE_DEPLOYMENT_SHA, state: 'success', description: 'Healthy' });
    expect(calls()).toEqual([`GET ${repoPath}/deployments`, `POST ${repoPath}/deployments/1/statuses`]);
    expect(mock.requests[1]!.body).toEqual({ state: 'success', description: 'Healthy' });
  });
});

describe('issue 13 item 1: every GitHub request has a deadline', () => {
  it('a request to a GitHub that stops answering fails retryably at the deadline instead of holding the step', async () => {
    const hang = await hangingProxy(mock.url, () => true, 10_000);
    try {
      const slow = createGithubActivities({ baseUrl: hang.url, requestTimeoutMs: 400 });
      const started = Date.now();
      const failure = await failureOf(slow.nextVersion({ source, format: 'v{version}' }));
      expect(failure.type).toBe('GitHubUnavailable');
      expect(failure.nonRetryable).toBe(false);
      expect(failure.message).toMatch(/did not answer in time/);
      expect(Date.now() - started).toBeLessThan(5_000);
      // The request was really given up (the connection closed), not left open behind the failure.
      for (let i = 0; i < 40 && hang.held[0]?.clientGaveUpAfterMs === undefined; i++) await new Promise((r) => setTimeout(r, 50));
      expect(hang.held[0]!.clientGaveUpAfterMs).toBeLessThan(3_000);
    } finally {
      await hang.stop();
    }
  });
});
