/**
 * Tier: integration (real git CLI, real bare repositories on disk, real kustomize; no Temporal).
 * Pull-request mode's write against a bare repository whose `main` refuses every direct push
 * through a pre-receive hook, as a protected branch does: the verified commit lands on the
 * write's own branch and never on main; a retried write finds its branch and commit; commits a
 * person pushed to the branch are reported and kept; and the hook is real — a direct-push write
 * to main is refused by it.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitopsActivities, createPullRequestWriteActivities, pullRequestBranch } from '../../activities/gitops/index.js';
import { FailureType, type CommitContext, type WriteOverlayInput } from '../../activities/types.js';
import { seedGitopsRepo, type SeededRepo } from '../../infra/examples/seed-repo.js';
import { failureOf } from '../support/failures.js';
import { protectMain } from '../support/protected-repo.js';

const run = promisify(execFile);
const IMAGES = ['todoapp/frontend', 'todoapp/backend', 'todoapp/backend-todos', 'todoapp/broadcaster'];
const PRODUCTION = '1.2/overlays/production';
const SHA = '3f2a9c1d4e5f60718293a4b5c6d7e8f901234567';
const quiet = { info: () => {}, warn: () => {} };
const PERSON = { GIT_AUTHOR_NAME: 'Alice', GIT_AUTHOR_EMAIL: 'alice@example.com', GIT_COMMITTER_NAME: 'Alice', GIT_COMMITTER_EMAIL: 'alice@example.com' };

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'slipway-gitops-pr-test-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let repoCount = 0;
/** The example GitOps repository, with `main` protected by a pre-receive hook once it is seeded. */
async function protectedRepo(): Promise<SeededRepo> {
  const repo = await seedGitopsRepo(root, { name: `protected-${++repoCount}.git` });
  protectMain(repo.barePath);
  return repo;
}

async function bare(repo: SeededRepo, ...args: string[]): Promise<string> {
  return (await run('git', ['--git-dir', repo.barePath, ...args])).stdout.trim();
}

const context = (over: Partial<CommitContext> = {}): CommitContext => ({
  app: 'todoapp',
  environment: 'production',
  releaseId: `release/todoapp/${SHA}`,
  version: 'v1.4.0',
  sourceCommit: SHA,
  kind: 'promote',
  step: { epoch: 'env-run-1', sequence: 3, phase: 'write' },
  ...over,
});

const input = (repo: SeededRepo, over: Partial<CommitContext> = {}): WriteOverlayInput => ({
  git: repo.git,
  overlay: PRODUCTION,
  images: IMAGES.map((name) => ({ name, newTag: SHA })),
  context: context(over),
});

/** A person's commit on `branch`, pushed the ordinary way (the hook lets side branches through). */
async function personPushes(repo: SeededRepo, branch: string, file: string, text: string): Promise<string> {
  const work = await mkdtemp(join(root, 'person-'));
  const env = { ...process.env, ...PERSON };
  const git = async (...args: string[]) => (await run('git', args, { cwd: work, env })).stdout.trim();
  await git('clone', '--quiet', '--branch', branch, repo.bareUrl, '.');
  await writeFile(join(work, file), text);
  await git('add', file);
  await git('-c', 'commit.gpgsign=false', 'commit', '--quiet', '-m', `note for ${branch}`);
  await git('push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`);
  const head = await git('rev-parse', 'HEAD');
  await rm(work, { recursive: true, force: true });
  return head;
}

describe('pull-request mode against a main protected by a pre-receive hook', () => {
  it('the hook is real: a direct-push write to main is refused, GitPermissionDenied, and main does not move', async () => {
    const repo = await protectedRepo();
    const failure = await failureOf(createGitopsActivities({ logger: quiet }).writeOverlayImages(input(repo)));
    expect(failure.type).toBe(FailureType.GitPermissionDenied);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/pre-receive hook declined|protected branch/);
    expect(await bare(repo, 'rev-parse', 'main')).toBe(repo.commit);
  });

  it('lands the verified commit on the write\'s own branch, on top of main, and never pushes main', async () => {
    const repo = await protectedRepo();
    const result = await createPullRequestWriteActivities({ logger: quiet }).writeOverlayBranch(input(repo));

    const branch = pullRequestBranch(context());
    expect(branch).toBe(`slipway/release-todoapp-${SHA}/production`);
    expect(result).toEqual({ base: 'main', branch, on: 'branch', commit: await bare(repo, 'rev-parse', branch), head: await bare(repo, 'rev-parse', branch), changed: true, recovered: false, pushedByOthers: [] });
    expect(await bare(repo, 'rev-parse', 'main')).toBe(repo.commit);
    expect(await bare(repo, 'rev-parse', `${branch}^`)).toBe(repo.commit);
    expect(await bare(repo, 'diff', '--name-only', `main..${branch}`)).toBe(`${PRODUCTION}/kustomization.yaml`);
    expect(await bare(repo, 'show', `${branch}:${PRODUCTION}/kustomization.yaml`)).toContain(`newTag: ${SHA}`);
    const message = await bare(repo, 'log', '-1', '--format=%B', branch);
    expect(message.split('\n')[0]).toBe('promote todoapp to production: 3f2a9c1 (v1.4.0)');
    expect(message).toContain('Slipway-Step: 3 write (env-run-1)');
    expect((await bare(repo, 'for-each-ref', '--format=%(refname)', 'refs/heads')).split('\n').sort()).toEqual(['refs/heads/main', `refs/heads/${branch}`]);
  });

  it('a retried write finds its branch and its commit, and makes no second commit', async () => {
    const repo = await protectedRepo();
    const activities = createPullRequestWriteActivities({ logger: quiet });
    const first = await activities.writeOverlayBranch(input(repo));
    const retried = await activities.writeOverlayBranch(input(repo));
    expect(retried).toEqual({ ...first, recovered: true });
    expect(await bare(repo, 'rev-list', '--count', `main..${first.branch}`)).toBe('1');
    expect(await bare(repo, 'rev-parse', 'main')).toBe(repo.commit);
  });

  it('a branch a person pushed to is reported with their commits and kept, not overwritten', async () => {
    const repo = await protectedRepo();
    const activities = createPullRequestWriteActivities({ logger: quiet });
    const first = await activities.writeOverlayBranch(input(repo));
    const theirs = await personPushes(repo, first.branch, 'NOTES.md', 'replicas: 3 for the launch\n');

    const retried = await activities.writeOverlayBranch(input(repo));
    expect(retried).toMatchObject({ on: 'branch', commit: first.commit, head: theirs, recovered: true });
    expect(retried.pushedByOthers).toEqual([{ commit: theirs, author: 'Alice <alice@example.com>', subject: `note for ${first.branch}` }]);
    expect(await bare(repo, 'rev-parse', first.branch)).toBe(theirs);
    expect(await bare(repo, 'rev-list', '--count', `main..${first.branch}`)).toBe('2');
    expect(await bare(repo, 'rev-parse', 'main')).toBe(repo.commit);
  });

  it('a branch of that name without this write\'s commit is left as it is: PullRequestBranchTaken, nothing pushed', async () => {
    const repo = await protectedRepo();
    const branch = pullRequestBranch(context());
    await bare(repo, 'branch', branch, 'main');
    const theirs = await personPushes(repo, branch, 'NOTES.md', 'my own work\n');

    const failure = await failureOf(createPullRequestWriteActivities({ logger: quiet }).writeOverlayBranch(input(repo)));
    expect(failure.type).toBe(FailureType.PullRequestBranchTaken);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(branch);
    expect(failure.message).toContain(`its head ${theirs.slice(0, 7)} by Alice <alice@example.com>`);
    expect(await bare(repo, 'rev-parse', branch)).toBe(theirs);
    expect(await bare(repo, 'rev-parse', 'main')).toBe(repo.commit);
  });

  it('a late attempt of an earlier step finds a later step of the environment on the branch and pushes nothing (StaleWrite)', async () => {
    const repo = await protectedRepo();
    const activities = createPullRequestWriteActivities({ logger: quiet });
    const later = await activities.writeOverlayBranch(input(repo, { step: { epoch: 'env-run-1', sequence: 3, phase: 'compensation' }, kind: 'promote' }));
    const failure = await failureOf(activities.writeOverlayBranch(input(repo)));
    expect(failure.type).toBe(FailureType.StaleWrite);
    expect(await bare(repo, 'rev-parse', later.branch)).toBe(later.commit);
  });

  it('once the pull request is merged, a retried write finds its commit on main and pushes no branch', async () => {
    const repo = await protectedRepo();
    const activities = createPullRequestWriteActivities({ logger: quiet });
    const first = await activities.writeOverlayBranch(input(repo));
    // The merge, as GitHub makes it past the protection (update-ref runs no hook); the branch is deleted.
    await bare(repo, 'update-ref', 'refs/heads/main', first.commit, repo.commit);
    await bare(repo, 'update-ref', '-d', `refs/heads/${first.branch}`);

    const retried = await activities.writeOverlayBranch(input(repo));
    expect(retried).toEqual({ base: 'main', branch: first.branch, on: 'base', commit: first.commit, head: first.commit, changed: true, recovered: true, pushedByOthers: [] });
    expect(await bare(repo, 'for-each-ref', '--format=%(refname)', 'refs/heads')).toBe('refs/heads/main');
  });

  it('two writers racing for the new branch end with one branch and one commit', async () => {
    const repo = await protectedRepo();
    let raced = false;
    const racing = createPullRequestWriteActivities({
      logger: quiet,
      maxBackoffMs: 10,
      // Just before this writer's first push, the other writer's attempt of the same step lands.
      beforePush: async () => {
        if (raced) return;
        raced = true;
        await createPullRequestWriteActivities({ logger: quiet }).writeOverlayBranch(input(repo));
      },
    });
    const result = await racing.writeOverlayBranch(input(repo));
    expect(raced).toBe(true);
    expect(result).toMatchObject({ on: 'branch', recovered: true });
    expect(await bare(repo, 'rev-list', '--count', `main..${result.branch}`)).toBe('1');
    expect(await bare(repo, 'rev-parse', result.branch)).toBe(result.commit);
  });
});
