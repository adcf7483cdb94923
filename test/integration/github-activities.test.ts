/**
 * The GitHub activities against Prism serving GitHub's own OpenAPI description: every request
 * must be valid for GitHub's schema (a refused request fails the test), and idempotency and
 * conflicts are asserted on the requests made. Prism answers with the description's examples:
 * the example ref `refs/...` points at commit aa218f56…, the example run is 30433642 (queued),
 * the example deployment is id 1 for sha a84d88e7… in `production`.
 */
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGithubActivities } from '../../activities/github/index.js';
import { FailureType } from '../../activities/types.js';
import { startPrism, type PrismMock } from '../../infra/github-mock/prism.js';

const EXAMPLE_REF_COMMIT = 'aa218f56b14c9653891f9e74264a383fa43fefbd';
const EXAMPLE_DEPLOYMENT_SHA = 'a84d88e7554fc1fa21bcbc4efae3c782a70d2b9d';
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

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

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
  it('dispatches the workflow on the ref, follows the run GitHub returns, and fails at the deadline naming the run', async () => {
    const failure = await failureOf(
      github.triggerBuild({ source, workflow: 'build.yml', ref: 'main', commit: OTHER_COMMIT, timeoutMs: 1500 }),
    );
    // The example run stays queued, so the wait ends at the deadline.
    expect(failure.type).toBe(FailureType.BuildFailed);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('did not finish');
    expect(failure.message).toContain('https://github.com/octo-org/octo-repo/actions/runs/30433642');
    const c = calls();
    expect(c[0]).toBe(`GET ${repoPath}/actions/workflows/build.yml/runs`);
    expect(mock.requests[0]!.query).toMatchObject({ head_sha: OTHER_COMMIT, event: 'workflow_dispatch' });
    expect(c[1]).toBe(`POST ${repoPath}/actions/workflows/build.yml/dispatches`);
    expect(mock.requests[1]!.body).toEqual({ ref: 'main', return_run_details: true });
    // The dispatch answered workflow_run_id 1: that run is polled until the deadline.
    expect(c.slice(2).length).toBeGreaterThan(1);
    expect(new Set(c.slice(2))).toEqual(new Set([`GET ${repoPath}/actions/runs/1`]));
  });

  it('dispatches anyway when the only run for the commit was not started by a dispatch', async () => {
    const queuedRunCommit = 'acb5820ced9479c074f688cc328bf03f341a511d';
    // The example run is for this commit but was started by `push`, so it is not ours: dispatch.
    await failureOf(github.triggerBuild({ source, workflow: 'build.yml', ref: 'main', commit: queuedRunCommit, timeoutMs: 100 }));
    expect(calls()).toContain(`POST ${repoPath}/actions/workflows/build.yml/dispatches`);
  });
});

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
