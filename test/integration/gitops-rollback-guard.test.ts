/**
 * Rollbacks as the promotion workflow's compensation writes them (exact entries, guarded by what
 * the promotion wrote), with the real git CLI and kustomize on real bare repositories: the
 * rollback point is the whole entry, and a rollback never reverts somebody else's commit.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitopsActivities } from '../../activities/gitops/index.js';
import { FailureType, type WriteOverlayInput, type WriteStep } from '../../activities/types.js';
import type { ImageSetting } from '../../core/images.js';
import { seedGitopsRepo, type SeededRepo } from '../../infra/examples/seed-repo.js';
import { failureOf } from '../support/failures.js';

const run = promisify(execFile);
const STAGING = '1.2/overlays/staging';
const FILE = `${STAGING}/kustomization.yaml`;
const EPOCH = '0194c1de-7a1b-7cc2-9d55-3c1f2f7e0a22';
const quiet = { info: () => {}, warn: () => {} };

let root: string;
let count = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'slipway-rollback-guard-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const bare = async (repo: SeededRepo, ...args: string[]) => (await run('git', ['--git-dir', repo.barePath, ...args])).stdout;
const overlayText = (repo: SeededRepo) => bare(repo, 'show', `main:${FILE}`);

/** A commit by someone other than Slipway: replaces the staging overlay's images: block. */
async function commitByHand(repo: SeededRepo, images: string, author = 'On Call <oncall@todoapp.example>', subject = 'hotfix: pin the backend'): Promise<string> {
  const work = await mkdtemp(join(root, 'hand-'));
  const git = (...args: string[]) => run('git', args, { cwd: work }).then((r) => r.stdout.trim());
  await git('clone', '--quiet', repo.barePath, '.');
  const text = (await overlayText(repo)).replace(/images:\n[\s\S]*$/, `images:\n${images}`);
  await writeFile(join(work, FILE), text);
  const [name, email] = author.split(/ <|>/);
  await run('git', ['-c', `user.name=${name}`, '-c', `user.email=${email}`, 'commit', '--quiet', '-am', subject], { cwd: work });
  await git('push', '--quiet', 'origin', 'HEAD:main');
  const head = await git('rev-parse', 'HEAD');
  await rm(work, { recursive: true, force: true });
  return head;
}

async function repoWith(images: string): Promise<SeededRepo> {
  const repo = await seedGitopsRepo(root, { name: `repo-${++count}.git` });
  await commitByHand(repo, images, 'TodoApp Team <team@todoapp.example>', 'set up the overlay');
  return repo;
}

const step = (sequence: number, phase: WriteStep['phase']): WriteStep => ({ epoch: EPOCH, sequence, phase });

function promote(repo: SeededRepo, images: ImageSetting[], sequence: number): WriteOverlayInput {
  return {
    git: repo.git,
    overlay: STAGING,
    images,
    context: { app: 'todoapp', environment: 'staging', releaseId: 'release/todoapp/bad', sourceCommit: 'bad0001', kind: 'promote', step: step(sequence, 'write') },
  };
}

/** The compensation as the promotion workflow sends it: exact, guarded by what was written. */
function undo(repo: SeededRepo, rollbackPoint: ImageSetting[], wrote: ImageSetting[], landed: boolean, sequence: number): WriteOverlayInput {
  return {
    git: repo.git,
    overlay: STAGING,
    images: rollbackPoint,
    context: { app: 'todoapp', environment: 'staging', releaseId: 'release/todoapp/bad', sourceCommit: 'bad0001', kind: 'rollback', undo: true, step: step(sequence, 'compensation') },
    exact: true,
    guard: { wrote, landed },
  };
}

describe('issue 19 item 2: the rollback point is the whole entry', () => {
  it('an entry whose tag came from the base gets no tag back: the rollback removes the tag the promotion added', async () => {
    const repo = await repoWith('  - name: todoapp/frontend\n  - name: todoapp/backend\n    newTag: 8c1f2e3\n');
    const gitops = createGitopsActivities({ logger: quiet });
    const original = await overlayText(repo);
    const names = ['todoapp/frontend', 'todoapp/backend'];
    const point = (await gitops.readOverlayImages({ git: repo.git, overlay: STAGING, imageNames: names })).images;
    expect(point).toEqual([{ name: 'todoapp/frontend' }, { name: 'todoapp/backend', newTag: '8c1f2e3' }]);
    const wrote = names.map((name) => ({ name, newTag: 'bad0001' }));
    await gitops.writeOverlayImages(promote(repo, wrote, 1));

    const restored = await gitops.writeOverlayImages(undo(repo, point, wrote, true, 1));

    expect(restored.changed).toBe(true);
    expect(await overlayText(repo)).toBe(original);
  });

  it('a newName the promotion changed is restored', async () => {
    const repo = await repoWith('  - name: todoapp/frontend\n    newName: registry.example/todoapp/frontend\n    newTag: 8c1f2e3\n');
    const gitops = createGitopsActivities({ logger: quiet });
    const original = await overlayText(repo);
    const point = (await gitops.readOverlayImages({ git: repo.git, overlay: STAGING, imageNames: ['todoapp/frontend'] })).images;
    const wrote = [{ name: 'todoapp/frontend', newName: 'mirror.example/todoapp/frontend', newTag: 'bad0001' }];
    await gitops.writeOverlayImages(promote(repo, wrote, 2));
    await gitops.writeOverlayImages(undo(repo, point, wrote, true, 2));
    expect(await overlayText(repo)).toBe(original);
  });
});

describe('issue 19 item 3: a rollback never reverts somebody else\'s commit', () => {
  it('a hotfix committed after the promotion is kept: RollbackConflict naming the commit and its author, nothing written', async () => {
    const repo = await repoWith('  - name: todoapp/frontend\n    newTag: 8c1f2e3\n  - name: todoapp/backend\n    newTag: 8c1f2e3\n');
    const gitops = createGitopsActivities({ logger: quiet });
    const names = ['todoapp/frontend', 'todoapp/backend'];
    const point = (await gitops.readOverlayImages({ git: repo.git, overlay: STAGING, imageNames: names })).images;
    const wrote = names.map((name) => ({ name, newTag: 'bad0001' }));
    await gitops.writeOverlayImages(promote(repo, wrote, 3));
    const hotfix = await commitByHand(repo, '  - name: todoapp/frontend\n    newTag: bad0001\n  - name: todoapp/backend\n    newTag: hotfix7\n');
    const before = await overlayText(repo);

    const failure = await failureOf(gitops.writeOverlayImages(undo(repo, point, wrote, true, 3)));

    expect(failure.type).toBe(FailureType.RollbackConflict);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(hotfix);
    expect(failure.message).toContain('On Call <oncall@todoapp.example>');
    expect(failure.message).toContain('hotfix: pin the backend');
    expect(await overlayText(repo)).toBe(before);
    expect((await bare(repo, 'rev-parse', 'main')).trim()).toBe(hotfix);
  });

  it('an overlay someone already reverted after our write landed is a conflict too, never "rolled back"', async () => {
    const repo = await repoWith('  - name: todoapp/frontend\n    newTag: 8c1f2e3\n');
    const gitops = createGitopsActivities({ logger: quiet });
    const point = [{ name: 'todoapp/frontend', newTag: '8c1f2e3' }];
    const wrote = [{ name: 'todoapp/frontend', newTag: 'bad0001' }];
    await gitops.writeOverlayImages(promote(repo, wrote, 4));
    await commitByHand(repo, '  - name: todoapp/frontend\n    newTag: 8c1f2e3\n', 'Ops <ops@todoapp.example>', 'revert the bad build');
    const failure = await failureOf(gitops.writeOverlayImages(undo(repo, point, wrote, true, 4)));
    expect(failure.type).toBe(FailureType.RollbackConflict);
    expect(failure.message).toMatch(/already back at .*someone else reverted it.*Ops <ops@todoapp\.example>/);
  });

  it('a write that never landed leaves nothing to undo: no file change, the step marked, changed false', async () => {
    const repo = await repoWith('  - name: todoapp/frontend\n    newTag: 8c1f2e3\n');
    const gitops = createGitopsActivities({ logger: quiet });
    const original = await overlayText(repo);
    const result = await gitops.writeOverlayImages(undo(repo, [{ name: 'todoapp/frontend', newTag: '8c1f2e3' }], [{ name: 'todoapp/frontend', newTag: 'bad0001' }], false, 5));
    expect(result.changed).toBe(false);
    expect(await overlayText(repo)).toBe(original);
    expect((await bare(repo, 'log', '-1', '--format=%(trailers:key=Slipway-Step,valueonly)', 'main')).trim()).toBe(`5 compensation (${EPOCH})`);
  });
});
