/**
 * A writer of the GitOps repository can commit symlinks; none of them may make Slipway read or
 * write outside its clone. Real bare repositories, the real git CLI and kustomize: each repository
 * here holds the TodoApp overlays plus one symlink, and a folder outside every clone holds a copy of
 * the staging overlay for the symlink to point at.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitopsActivities } from '../../activities/gitops/index.js';
import { FailureType, type WriteOverlayInput } from '../../activities/types.js';
import { seedGitopsRepo, todoappExampleDir, type SeededRepo } from '../../infra/examples/seed-repo.js';
import { failureOf } from '../support/failures.js';

const run = promisify(execFile);
const IMAGES = ['todoapp/frontend', 'todoapp/backend', 'todoapp/backend-todos', 'todoapp/broadcaster'];
const STAGING = '1.2/overlays/staging';
const quiet = { info: () => {}, warn: () => {} };
const gitops = createGitopsActivities({ logger: quiet });

let root: string;
/** Outside every clone: what an escaping symlink points at. */
let outside: string;
let outsideFile: string;
let outsideText: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'slipway-symlink-test-'));
  outside = await mkdtemp(join(tmpdir(), 'slipway-symlink-outside-'));
  // A whole copy of the example's 1.2 tree, so the staging overlay there renders as it does in the repo.
  await cp(join(todoappExampleDir(), '1.2'), join(outside, '1.2'), { recursive: true });
  outsideFile = join(outside, STAGING, 'kustomization.yaml');
  outsideText = await readFile(outsideFile, 'utf8');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

let repoCount = 0;
/** A fresh TodoApp repository, changed by `edit` in a work tree and pushed as a second commit. */
async function repoWith(edit: (work: string) => Promise<void>): Promise<SeededRepo & { head: string }> {
  const repo = await seedGitopsRepo(root, { name: `repo-${++repoCount}.git` });
  const work = await mkdtemp(join(tmpdir(), 'slipway-symlink-work-'));
  const env = { ...process.env, GIT_AUTHOR_NAME: 'Writer', GIT_AUTHOR_EMAIL: 'w@example.com', GIT_COMMITTER_NAME: 'Writer', GIT_COMMITTER_EMAIL: 'w@example.com' };
  const git = async (...args: string[]) => (await run('git', args, { cwd: work, env })).stdout.trim();
  try {
    await git('clone', '--quiet', repo.barePath, '.');
    await edit(work);
    await git('add', '--all');
    await git('-c', 'commit.gpgsign=false', 'commit', '--quiet', '-m', 'a symlink');
    await git('push', '--quiet', 'origin', 'HEAD:main');
    return { ...repo, head: await git('rev-parse', 'HEAD') };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function branchHead(repo: SeededRepo): Promise<string> {
  return (await run('git', ['--git-dir', repo.barePath, 'rev-parse', 'main'])).stdout.trim();
}

function writeInput(repo: SeededRepo, overlay: string): WriteOverlayInput {
  const sha = '3f2a9c1d4e5f60718293a4b5c6d7e8f901234567';
  return {
    git: repo.git,
    overlay,
    images: IMAGES.map((name) => ({ name, newTag: sha })),
    context: { app: 'todoapp', environment: 'staging', releaseId: `release/todoapp/${sha}`, sourceCommit: sha, kind: 'promote' },
  };
}

/** Replaces `path` (inside the work tree) with a symlink to `target`. */
async function linkAt(work: string, path: string, target: string): Promise<void> {
  await rm(join(work, path), { recursive: true, force: true });
  await symlink(target, join(work, path));
}

/** A write and a read of `overlay` are both refused as leaving the repository, and nothing moved. */
async function expectRefused(repo: SeededRepo & { head: string }, overlay: string, named: string): Promise<void> {
  const write = await failureOf(gitops.writeOverlayImages(writeInput(repo, overlay)));
  expect(write.type).toBe(FailureType.OverlayOutsideRepository);
  expect(write.nonRetryable).toBe(true);
  expect(write.message).toContain(named);
  expect(write.message).toMatch(/outside the repository/);

  const read = await failureOf(gitops.readOverlayImages({ git: repo.git, overlay, imageNames: IMAGES }));
  expect(read.type).toBe(FailureType.OverlayOutsideRepository);
  expect(read.message).toContain(named);

  // Nothing was written where the link points, and nothing was pushed.
  expect(await readFile(outsideFile, 'utf8')).toBe(outsideText);
  expect(await branchHead(repo)).toBe(repo.head);
}

describe('symlinks that leave the clone are refused before anything is read or written', () => {
  it('a kustomization.yaml that is a symlink to a file outside the repository', async () => {
    const repo = await repoWith((work) => linkAt(work, `${STAGING}/kustomization.yaml`, outsideFile));
    await expectRefused(repo, STAGING, `${STAGING}/kustomization.yaml`);
  });

  it('an overlay folder that is a symlink to a folder outside the repository', async () => {
    const repo = await repoWith((work) => linkAt(work, '1.2/overlays/canary', join(outside, STAGING)));
    await expectRefused(repo, '1.2/overlays/canary', '1.2/overlays/canary');
  });

  it('an overlay path that passes through a symlinked folder outside the repository', async () => {
    const repo = await repoWith((work) => linkAt(work, 'elsewhere', outside));
    await expectRefused(repo, `elsewhere/${STAGING}`, `elsewhere/${STAGING}`);
  });

  it('a relative symlink that climbs out of the clone', async () => {
    // Deep enough to leave any clone folder, wherever the worker keeps them, and reach the root.
    const climb = `${'../'.repeat(64)}${outsideFile.slice(1)}`;
    const repo = await repoWith((work) => linkAt(work, `${STAGING}/kustomization.yaml`, climb));
    await expectRefused(repo, STAGING, `${STAGING}/kustomization.yaml`);
  });

  it("a symlink into the clone's own .git folder", async () => {
    const repo = await repoWith((work) => linkAt(work, `${STAGING}/kustomization.yaml`, '../../../.git/config'));
    const write = await failureOf(gitops.writeOverlayImages(writeInput(repo, STAGING)));
    expect(write.type).toBe(FailureType.OverlayOutsideRepository);
    expect(write.message).toContain(`${STAGING}/kustomization.yaml`);
    expect(await branchHead(repo)).toBe(repo.head);
  });
});

describe('symlinks that stay inside the repository', () => {
  it('an overlay reached through an in-repository symlink is edited and committed at its real path', async () => {
    const repo = await repoWith((work) => linkAt(work, 'staging-current', STAGING));
    const result = await gitops.writeOverlayImages(writeInput(repo, 'staging-current'));
    expect(result.changed).toBe(true);
    const show = (path: string) => run('git', ['--git-dir', repo.barePath, 'show', `main:${path}`]).then((r) => r.stdout);
    expect(await show(`${STAGING}/kustomization.yaml`)).toContain('newTag: 3f2a9c1d4e5f60718293a4b5c6d7e8f901234567');
    // The link itself is unchanged: still a symlink (mode 120000) to the same folder.
    const tree = (await run('git', ['--git-dir', repo.barePath, 'ls-tree', 'main', 'staging-current'])).stdout;
    expect(tree).toMatch(/^120000 blob /);
    expect(await show('staging-current')).toBe(STAGING);
    const read = await gitops.readOverlayImages({ git: repo.git, overlay: 'staging-current', imageNames: IMAGES });
    expect(read.images.map((i) => i.newTag)).toEqual(IMAGES.map(() => '3f2a9c1d4e5f60718293a4b5c6d7e8f901234567'));
  });
});
