/**
 * Overlay writes fenced by step (activities/gitops/step-fence.ts), with the real git CLI on real
 * bare repositories: a late attempt of a write cannot land after a later step of the same
 * environment (its compensation, the next promotion), and a retried write whose earlier attempt
 * pushed finds that attempt's commit instead of answering with someone else's. No Temporal: the
 * attempts are the activity function called as two replicas of a worker would.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitopsActivities } from '../../activities/gitops/index.js';
import { FailureType, type CommitContext, type WriteOverlayInput, type WriteStep } from '../../activities/types.js';
import { seedGitopsRepo, type SeededRepo } from '../../infra/examples/seed-repo.js';
import { failureOf } from '../support/failures.js';

const run = promisify(execFile);
const IMAGES = ['todoapp/frontend', 'todoapp/backend', 'todoapp/backend-todos', 'todoapp/broadcaster'];
const STAGING = '1.2/overlays/staging';
const PRODUCTION = '1.2/overlays/production';
const EPOCH = '0194c1de-7a1b-7cc2-9d55-3c1f2f7e0a11';
const quiet = { info: () => {}, warn: () => {} };

let root: string;
let repoCount = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'slipway-fenced-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const freshRepo = () => seedGitopsRepo(root, { name: `repo-${++repoCount}.git` });
const bare = async (repo: SeededRepo, ...args: string[]) => (await run('git', ['--git-dir', repo.barePath, ...args])).stdout;
const tagsAt = async (repo: SeededRepo, overlay = STAGING) => (await bare(repo, 'show', `main:${overlay}/kustomization.yaml`)).match(/newTag: \S+/g);
const commitCount = async (repo: SeededRepo) => Number((await bare(repo, 'rev-list', '--count', 'main')).trim());

function step(sequence: number, phase: WriteStep['phase'], epoch = EPOCH): WriteStep {
  return { epoch, sequence, phase };
}

function writeOf(repo: SeededRepo, tag: string, s: WriteStep | undefined, over: Partial<CommitContext> = {}, overlay = STAGING): WriteOverlayInput {
  return {
    git: repo.git,
    overlay,
    images: IMAGES.map((name) => ({ name, newTag: tag })),
    context: {
      app: 'todoapp',
      environment: overlay === STAGING ? 'staging' : 'production',
      releaseId: `release/todoapp/${tag}`,
      sourceCommit: tag,
      kind: 'promote',
      ...(s ? { step: s } : {}),
      ...over,
    },
  };
}

describe('issue 13 item 2: a late attempt cannot land after a later step of its environment', () => {
  it('an attempt whose push is delayed past its timeout, while the compensation lands, is refused (StaleWrite) and the rolled-back images stay', async () => {
    const repo = await freshRepo();
    const original = await tagsAt(repo);
    // Replica B: the compensation of step 5, run by the workflow after it gave up on the write.
    const replicaB = createGitopsActivities({ logger: quiet });
    let compensated: Promise<unknown> | undefined;
    // Replica A: the write of step 5, stalled just before its push (a GC pause, a slow link).
    const replicaA = createGitopsActivities({
      logger: quiet,
      beforePush: async ({ attempt }) => {
        if (attempt !== 1) return;
        compensated = replicaB.writeOverlayImages(writeOf(repo, '8c1f2e3', step(5, 'compensation'), { kind: 'rollback', undo: true }));
        await compensated;
      },
    });

    const late = await failureOf(replicaA.writeOverlayImages(writeOf(repo, 'bad0001', step(5, 'write'))));
    expect(late.type).toBe(FailureType.StaleWrite);
    expect(late.nonRetryable).toBe(true);
    expect(late.message).toMatch(/later step .*5 compensation.*pushed nothing/);
    await compensated;
    // Nothing of the late write is on the branch: the overlay is as the compensation left it.
    expect(await tagsAt(repo)).toEqual(original);
    expect(await bare(repo, 'log', '--format=%s', 'main')).not.toMatch(/bad0001/);
  });

  it('an attempt that starts only after the next promotion landed pushes nothing', async () => {
    const repo = await freshRepo();
    const gitops = createGitopsActivities({ logger: quiet });
    const next = await gitops.writeOverlayImages(writeOf(repo, 'good006', step(6, 'write')));
    const late = await failureOf(gitops.writeOverlayImages(writeOf(repo, 'old0005', step(5, 'write'))));
    expect(late.type).toBe(FailureType.StaleWrite);
    expect((await bare(repo, 'rev-parse', 'main')).trim()).toBe(next.commit);
  });

  it('the fence looks past other environments\' and apps\' commits, and ignores another run chain', async () => {
    const repo = await freshRepo();
    const gitops = createGitopsActivities({ logger: quiet });
    await gitops.writeOverlayImages(writeOf(repo, 'good009', step(9, 'write')));
    // Twenty commits of production (another environment) on top.
    for (let i = 0; i < 20; i++) await gitops.writeOverlayImages(writeOf(repo, `prod${String(i).padStart(3, '0')}`, step(100 + i, 'write'), {}, PRODUCTION));
    const late = await failureOf(gitops.writeOverlayImages(writeOf(repo, 'old0008', step(8, 'write'))));
    expect(late.type).toBe(FailureType.StaleWrite);
    // A new run chain of the environment (its workflow was started afresh) starts its own order.
    const fresh = await gitops.writeOverlayImages(writeOf(repo, 'new0001', step(1, 'write', '0194c1de-0000-7000-8000-000000000001')));
    expect(fresh.changed).toBe(true);
    // Writes without a step (older workflows, the CLI) are not fenced.
    expect((await gitops.writeOverlayImages(writeOf(repo, 'cli0001', undefined))).changed).toBe(true);
  });

  it('each write names its step in a Slipway-Step trailer', async () => {
    const repo = await freshRepo();
    const gitops = createGitopsActivities({ logger: quiet });
    await gitops.writeOverlayImages(writeOf(repo, 'good012', step(12, 'write')));
    expect((await bare(repo, 'log', '-1', '--format=%(trailers:key=Slipway-Step,valueonly)', 'main')).trim()).toBe(`12 write (${EPOCH})`);
  });
});

describe('issue 13 item 11: a retried write finds the commit its earlier attempt made', () => {
  it('a rollback retried after its attempt pushed and died answers with its own commit (changed), not the head another app moved on', async () => {
    const repo = await freshRepo();
    const gitops = createGitopsActivities({ logger: quiet });
    await gitops.writeOverlayImages(writeOf(repo, 'bad0003', step(3, 'write')));
    const rollback = writeOf(repo, '8c1f2e3', step(3, 'compensation'), { kind: 'rollback', undo: true });
    const first = await gitops.writeOverlayImages(rollback); // the attempt that "died" after pushing
    // Meanwhile another environment's promotion lands on top.
    const other = await gitops.writeOverlayImages(writeOf(repo, 'prod777', step(40, 'write'), {}, PRODUCTION));
    const before = await commitCount(repo);

    const retried = await gitops.writeOverlayImages(rollback);

    expect(retried).toEqual({ commit: first.commit, changed: true, recovered: true });
    expect(retried.commit).not.toBe(other.commit);
    expect(await commitCount(repo)).toBe(before);
  });

  it('a promote retried after its push landed makes no second commit and reports the step\'s commit', async () => {
    const repo = await freshRepo();
    const gitops = createGitopsActivities({ logger: quiet });
    const input = writeOf(repo, 'good021', step(21, 'write'));
    const first = await gitops.writeOverlayImages(input);
    // Someone edits the overlay by hand after it: the retry still must not write again.
    await gitops.writeOverlayImages(writeOf(repo, 'hand001', undefined));
    const retried = await gitops.writeOverlayImages(input);
    expect(retried).toEqual({ commit: first.commit, changed: true, recovered: true });
    expect(await tagsAt(repo)).toEqual(IMAGES.map(() => 'newTag: hand001'));
  });

  it('a step whose images are already in place changes no file but lands its mark, so a late earlier step is still fenced', async () => {
    const repo = await freshRepo();
    const original = await tagsAt(repo);
    const gitops = createGitopsActivities({ logger: quiet });
    const result = await gitops.writeOverlayImages(writeOf(repo, '8c1f2e3', step(2, 'write')));
    expect(result.changed).toBe(false);
    expect(result.commit).toBe((await bare(repo, 'rev-parse', 'main')).trim());
    expect((await bare(repo, 'diff', '--name-only', `${repo.commit}..main`)).trim()).toBe('');
    expect((await bare(repo, 'log', '-1', '--format=%s', 'main')).trim()).toMatch(/\(already in place\)$/);
    // Its retry finds the mark rather than making another.
    expect(await gitops.writeOverlayImages(writeOf(repo, '8c1f2e3', step(2, 'write')))).toEqual({ commit: result.commit, changed: true, recovered: true });
    // Step 1's late attempt, which would write other images, is refused.
    expect((await failureOf(gitops.writeOverlayImages(writeOf(repo, 'old0001', step(1, 'write'))))).type).toBe(FailureType.StaleWrite);
    expect(await tagsAt(repo)).toEqual(original);
  });
});
