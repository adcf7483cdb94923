/**
 * The gitops activities against real bare repositories with the real git CLI: edits, idempotent
 * replays, rollbacks, bad overlays, and concurrent writers to one branch.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { createGitopsActivities, isAncestor, remoteBranchHead } from '../../activities/gitops/index.js';
import { toApplicationFailure } from '../../activities/gitops/failures.js';
import { KustomizeNotFoundError, findKustomize } from '../../activities/gitops/kustomize.js';
import type { CommitContext, GitTarget, WriteOverlayInput } from '../../activities/types.js';
import type { ImageSetting } from '../../core/images.js';
import { OverlayError } from '../../core/overlay.js';
import { seedGitopsRepo, type SeededRepo } from '../../infra/examples/seed-repo.js';
import { kustomizePath } from '../../infra/kustomize.js';
import { failureOf } from '../support/failures.js';

const run = promisify(execFile);
const IMAGES = ['todoapp/frontend', 'todoapp/backend', 'todoapp/backend-todos', 'todoapp/broadcaster'];
const STAGING = '1.2/overlays/staging';
const PRODUCTION = '1.2/overlays/production';
const quiet = { info: () => {}, warn: () => {} };

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'slipway-gitops-test-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let repoCount = 0;
async function freshRepo(): Promise<SeededRepo> {
  return seedGitopsRepo(root, { name: `repo-${++repoCount}.git` });
}

/** Runs git against a bare repository. */
async function bare(repo: SeededRepo, ...args: string[]): Promise<string> {
  return (await run('git', ['--git-dir', repo.barePath, ...args])).stdout;
}

function context(sourceCommit: string, over: Partial<CommitContext> = {}): CommitContext {
  return { app: 'todoapp', environment: 'staging', releaseId: `release/todoapp/${sourceCommit}`, version: 'v1.4.0', sourceCommit, kind: 'promote', ...over };
}

function tagged(tag: string): ImageSetting[] {
  return IMAGES.map((name) => ({ name, newTag: tag }));
}

function write(git: GitTarget, overlay: string, images: ImageSetting[], ctx: CommitContext): WriteOverlayInput {
  return { git, overlay, images, context: ctx };
}

describe('writeOverlayImages', () => {
  it('changes only the tag values, commits with the release in the message, and reads back', async () => {
    const repo = await freshRepo();
    const gitops = createGitopsActivities({ logger: quiet });
    const before = await bare(repo, 'show', `main:${STAGING}/kustomization.yaml`);
    const sha = '3f2a9c1d4e5f60718293a4b5c6d7e8f901234567';

    const result = await gitops.writeOverlayImages(write(repo.git, STAGING, tagged(sha), context(sha)));

    expect(result.changed).toBe(true);
    expect(result.commit).toBe((await bare(repo, 'rev-parse', 'main')).trim());
    const after = await bare(repo, 'show', `main:${STAGING}/kustomization.yaml`);
    expect(after).toBe(before.replaceAll('newTag: 8c1f2e3', `newTag: ${sha}`));
    expect(after).not.toBe(before);
    // Only the overlay file changed in the commit.
    expect((await bare(repo, 'diff', '--name-only', `${repo.commit}..main`)).trim()).toBe(`${STAGING}/kustomization.yaml`);

    const message = await bare(repo, 'log', '-1', '--format=%B', 'main');
    expect(message.split('\n')[0]).toBe('promote todoapp to staging: 3f2a9c1 (v1.4.0)');
    expect(message).toContain(`Slipway-Release: release/todoapp/${sha}`);
    expect(message).toContain(`Slipway-Source-Commit: ${sha}`);
    expect(message).toContain('Slipway-Kind: promote');
    // Real git trailers: tools can query them.
    expect((await bare(repo, 'log', '-1', '--format=%(trailers:key=Slipway-Release,valueonly)', 'main')).trim()).toBe(`release/todoapp/${sha}`);
    expect((await bare(repo, 'log', '-1', '--format=%an <%ae>|%P', 'main')).trim()).toBe(`Slipway <slipway@example.com>|${repo.commit}`);

    const read = await gitops.readOverlayImages({ git: repo.git, overlay: STAGING, imageNames: IMAGES });
    expect(read).toEqual({ commit: result.commit, images: tagged(sha) });
  });

  it('replaying the same write makes no second commit and returns the head', async () => {
    const repo = await freshRepo();
    const gitops = createGitopsActivities({ logger: quiet });
    const input = write(repo.git, STAGING, tagged('aaaa111'), context('aaaa111'));
    const first = await gitops.writeOverlayImages(input);
    const again = await gitops.writeOverlayImages(input);
    expect(again).toEqual({ commit: first.commit, changed: false });
    expect((await bare(repo, 'rev-list', '--count', 'main')).trim()).toBe('2');
  });

  it('a rollback restores the exact previous images in a new commit; history only grows', async () => {
    const repo = await freshRepo();
    const gitops = createGitopsActivities({ logger: quiet });
    const previous = await gitops.readOverlayImages({ git: repo.git, overlay: PRODUCTION, imageNames: IMAGES });
    const fileBefore = await bare(repo, 'show', `main:${PRODUCTION}/kustomization.yaml`);

    const promoted = await gitops.writeOverlayImages(
      write(repo.git, PRODUCTION, tagged('bbbb222'), context('bbbb222', { environment: 'production' })),
    );
    const rolledBack = await gitops.writeOverlayImages(
      write(repo.git, PRODUCTION, previous.images, context('5b7a9d0', { environment: 'production', kind: 'rollback', version: 'v1.3.0' })),
    );

    expect(rolledBack.changed).toBe(true);
    expect(rolledBack.commit).not.toBe(promoted.commit);
    expect(await bare(repo, 'show', `main:${PRODUCTION}/kustomization.yaml`)).toBe(fileBefore);
    expect((await gitops.readOverlayImages({ git: repo.git, overlay: PRODUCTION, imageNames: IMAGES })).images).toEqual(previous.images);
    expect((await bare(repo, 'log', '-1', '--format=%s', 'main')).trim()).toBe('rollback todoapp in production to 5b7a9d0 (v1.3.0)');
    expect(await isAncestor(repo.git, promoted.commit, rolledBack.commit)).toBe(true);
    expect(await isAncestor(repo.git, repo.commit, rolledBack.commit)).toBe(true);
    expect(await isAncestor(repo.git, rolledBack.commit, promoted.commit)).toBe(false);
    expect((await bare(repo, 'rev-list', '--count', 'main')).trim()).toBe('3');
  });

  it('issue 19 item 6: rollback commits name the build deployed now and the build undone in distinct trailers', async () => {
    const repo = await freshRepo();
    const gitops = createGitopsActivities({ logger: quiet });
    const good = '1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
    const bad = '2222222bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
    const trailer = async (key: string) => (await bare(repo, 'log', '-1', `--format=%(trailers:key=${key},valueonly)`, 'main')).trim();
    const deployedAndUndone = async () => ({
      source: await trailer('Slipway-Source-Commit'),
      version: await trailer('Slipway-Version'),
      undoesCommit: await trailer('Slipway-Undoes-Commit'),
      undoesVersion: await trailer('Slipway-Undoes-Version'),
    });

    await gitops.writeOverlayImages(write(repo.git, PRODUCTION, tagged(good), context(good, { environment: 'production', version: '1.3.0' })));
    await gitops.writeOverlayImages(write(repo.git, PRODUCTION, tagged(bad), context(bad, { environment: 'production', version: '1.4.0' })));

    // The compensation of the failed 1.4.0, told which build it puts back.
    await gitops.writeOverlayImages(
      write(repo.git, PRODUCTION, tagged(good), context(bad, { environment: 'production', version: '1.4.0', kind: 'rollback', undo: true, counterpart: { commit: good, version: '1.3.0' } })),
    );
    expect(await deployedAndUndone()).toEqual({ source: good, version: '1.3.0', undoesCommit: bad, undoesVersion: '1.4.0' });
    expect((await bare(repo, 'log', '-1', '--format=%s', 'main')).trim()).toBe('rollback todoapp in production: undo 2222222 (1.4.0), back to 1111111 (1.3.0)');

    // Promote 1.4.0 again, then an undo that does not know what it puts back: it must not claim the undone build is deployed.
    await gitops.writeOverlayImages(write(repo.git, PRODUCTION, tagged(bad), context(bad, { environment: 'production', version: '1.4.0' })));
    await gitops.writeOverlayImages(write(repo.git, PRODUCTION, tagged(good), context(bad, { environment: 'production', version: '1.4.0', kind: 'rollback', undo: true })));
    expect(await deployedAndUndone()).toEqual({ source: '', version: '', undoesCommit: bad, undoesVersion: '1.4.0' });

    // `slipway rollback --to`: the source is the build gone back to; the one it replaces is the undone one.
    await gitops.writeOverlayImages(write(repo.git, PRODUCTION, tagged(bad), context(bad, { environment: 'production', version: '1.4.0' })));
    await gitops.writeOverlayImages(
      write(repo.git, PRODUCTION, tagged(good), context(good, { environment: 'production', version: '1.3.0', kind: 'rollback', counterpart: { commit: bad, version: '1.4.0' } })),
    );
    expect(await deployedAndUndone()).toEqual({ source: good, version: '1.3.0', undoesCommit: bad, undoesVersion: '1.4.0' });
  });

  it('an image missing from the overlay fails non-retryably, naming overlay and image, without touching the repo', async () => {
    const repo = await freshRepo();
    const gitops = createGitopsActivities({ logger: quiet });
    const failure = await failureOf(
      gitops.writeOverlayImages(write(repo.git, STAGING, [...tagged('cccc333'), { name: 'todoapp/worker', newTag: 'cccc333' }], context('cccc333'))),
    );
    expect(failure.type).toBe('InvalidOverlay');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(`${STAGING}/kustomization.yaml`);
    expect(failure.message).toContain('todoapp/worker');
    expect(await remoteBranchHead(repo.git)).toBe(repo.commit);
  });

  it('an overlay that does not parse fails non-retryably and the remote head stays where it was', async () => {
    const repo = await freshRepo();
    // Break the staging overlay in a commit of its own.
    const work = await mkdtemp(join(tmpdir(), 'slipway-break-'));
    await run('git', ['clone', '--quiet', repo.barePath, work]);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(work, STAGING, 'kustomization.yaml'), 'images:\n  - name: todoapp/frontend\n    newTag: [unclosed\n');
    await run('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-am', 'break staging'], { cwd: work });
    await run('git', ['push', '--quiet', 'origin', 'HEAD:main'], { cwd: work });
    await rm(work, { recursive: true, force: true });
    const head = await remoteBranchHead(repo.git);

    const gitops = createGitopsActivities({ logger: quiet });
    const failure = await failureOf(gitops.writeOverlayImages(write(repo.git, STAGING, tagged('dddd444'), context('dddd444'))));
    expect(failure.type).toBe('InvalidOverlay');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(`${STAGING}/kustomization.yaml`);
    expect(await remoteBranchHead(repo.git)).toBe(head);
  });

  it('a missing overlay folder is OverlayNotFound; a path leaving the repo is InvalidConfig', async () => {
    const repo = await freshRepo();
    const gitops = createGitopsActivities({ logger: quiet });
    const missing = await failureOf(gitops.writeOverlayImages(write(repo.git, '1.2/overlays/qa', tagged('e'), context('e'))));
    expect(missing.type).toBe('OverlayNotFound');
    expect(missing.nonRetryable).toBe(true);
    expect(missing.message).toContain('1.2/overlays/qa');
    const readMissing = await failureOf(gitops.readOverlayImages({ git: repo.git, overlay: '1.2/base/nope', imageNames: IMAGES }));
    expect(readMissing.type).toBe('OverlayNotFound');
    const outside = await failureOf(gitops.writeOverlayImages(write(repo.git, '../etc', tagged('e'), context('e'))));
    expect(outside.type).toBe('InvalidConfig');
    expect(outside.nonRetryable).toBe(true);
    expect(await remoteBranchHead(repo.git)).toBe(repo.commit);
  });

  it('works with a plain path remote, relative ones included', async () => {
    const repo = await freshRepo();
    const gitops = createGitopsActivities({ logger: quiet });
    for (const url of [repo.barePath, relative(process.cwd(), repo.barePath)]) {
      const git = { ...repo.git, url };
      const result = await gitops.writeOverlayImages(write(git, STAGING, tagged(`path${url.length}`), context(`path${url.length}`)));
      expect(result.changed).toBe(true);
      expect(await remoteBranchHead(git)).toBe(result.commit);
    }
  });

  it('isAncestor is false for a commit that is not in the branch history', async () => {
    const repo = await freshRepo();
    const other = await freshRepo();
    const gitops = createGitopsActivities({ logger: quiet });
    const written = await gitops.writeOverlayImages(write(other.git, STAGING, tagged('9999aaa'), context('9999aaa')));
    expect(await isAncestor(repo.git, written.commit, repo.commit)).toBe(false);
    expect(await isAncestor(repo.git, repo.commit, repo.commit)).toBe(true);
  });

  it('an unknown branch is a non-retryable InvalidConfig', async () => {
    const repo = await freshRepo();
    const gitops = createGitopsActivities({ logger: quiet });
    const failure = await failureOf(gitops.readOverlayImages({ git: { ...repo.git, branch: 'nope' }, overlay: STAGING, imageNames: IMAGES }));
    expect(failure.type).toBe('InvalidConfig');
    expect(failure.nonRetryable).toBe(true);
  });

  it('a hook rejecting the push is a non-retryable GitPermissionDenied', async () => {
    const repo = await freshRepo();
    const { writeFile, chmod } = await import('node:fs/promises');
    const hook = join(repo.barePath, 'hooks', 'pre-receive');
    await writeFile(hook, '#!/bin/sh\necho "main is protected: changes need a pull request" >&2\nexit 1\n');
    await chmod(hook, 0o755);
    const gitops = createGitopsActivities({ logger: quiet });
    const failure = await failureOf(gitops.writeOverlayImages(write(repo.git, STAGING, tagged('ffff555'), context('ffff555'))));
    expect(failure.type).toBe('GitPermissionDenied');
    expect(failure.nonRetryable).toBe(true);
    expect(await remoteBranchHead(repo.git)).toBe(repo.commit);
  });
});

/** Clones the repository, lets `change` edit the work tree, commits and pushes; returns the new head. */
async function pushChange(repo: SeededRepo, message: string, change: (work: string) => Promise<void>): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'slipway-change-'));
  try {
    await run('git', ['clone', '--quiet', repo.barePath, work]);
    await change(work);
    await run('git', ['add', '-A'], { cwd: work });
    await run('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', message], { cwd: work });
    await run('git', ['push', '--quiet', 'origin', 'HEAD:main'], { cwd: work });
    return (await run('git', ['rev-parse', 'HEAD'], { cwd: work })).stdout.trim();
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

describe('every edit is checked before it is committed', () => {
  it('issue 19 item 1: a promotion into an overlay `kustomize edit set image` wrote lands and renders; the rollback gives that file back', async () => {
    const repo = await freshRepo();
    const kustomize = kustomizePath();
    const pins = IMAGES.map((name, i) => `${name}@sha256:${String(i + 1).repeat(64)}`);
    await pushChange(repo, 'pin digests with kustomize', async (work) => {
      for (const pin of pins) await run(kustomize, ['edit', 'set', 'image', pin], { cwd: join(work, STAGING) });
    });
    const kustomized = await bare(repo, 'show', `main:${STAGING}/kustomization.yaml`);
    // kustomize writes each entry with its keys sorted: the digest is the first key.
    expect(kustomized).toContain(`- digest: sha256:${'1'.repeat(64)}\n  name: todoapp/frontend\n`);
    const gitops = createGitopsActivities({ logger: quiet });
    const previous = await gitops.readOverlayImages({ git: repo.git, overlay: STAGING, imageNames: IMAGES });
    const sha = '4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e';

    const promoted = await gitops.writeOverlayImages(write(repo.git, STAGING, tagged(sha), context(sha)));
    expect(promoted.changed).toBe(true);
    expect(await renderedImages(repo, kustomize, STAGING)).toEqual(IMAGES.map((name) => `${name}:${sha}`));

    const rolledBack = await gitops.writeOverlayImages(write(repo.git, STAGING, previous.images, context('5b7a9d0', { kind: 'rollback' })));
    expect(rolledBack.changed).toBe(true);
    expect(await bare(repo, 'show', `main:${STAGING}/kustomization.yaml`)).toBe(kustomized);
    expect(await renderedImages(repo, kustomize, STAGING)).toEqual(pins);
  });

  it('an edit that does not render is not committed: a non-retryable OverlayEditInvalid naming the file and why', async () => {
    const repo = await freshRepo();
    const head = await pushChange(repo, 'point staging at a base that is not there', async (work) => {
      const file = join(work, STAGING, 'kustomization.yaml');
      await writeFile(file, (await readFile(file, 'utf8')).replace('../../base', '../../no-such-base'));
    });
    const gitops = createGitopsActivities({ logger: quiet });
    const failure = await failureOf(gitops.writeOverlayImages(write(repo.git, STAGING, tagged('eeee666'), context('eeee666'))));
    expect(failure.type).toBe('OverlayEditInvalid');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(`${STAGING}/kustomization.yaml: kustomize build ${STAGING} fails with the edit`);
    expect(failure.message).toContain('no-such-base');
    expect(failure.message).toContain('(it did not render before the edit either)');
    expect(failure.message).toContain('nothing was committed');
    expect(await remoteBranchHead(repo.git)).toBe(head);
  });

  it('an edit that fails its own check is a non-retryable OverlayEditInvalid; one refused (aliases) an InvalidOverlay', () => {
    const file = `${STAGING}/kustomization.yaml`;
    const invalid = toApplicationFailure(new OverlayError(file, 'edit-invalid', 'the edit would not be the intended change: …'), `write ${STAGING}`, (t) => t);
    expect({ type: invalid.type, nonRetryable: invalid.nonRetryable }).toEqual({ type: 'OverlayEditInvalid', nonRetryable: true });
    expect(invalid.message).toBe(`write ${STAGING}: ${file}: the edit would not be the intended change: …; nothing was committed`);
    const refused = toApplicationFailure(new OverlayError(file, 'unsupported', 'images entry "a" is an alias (*a)'), `write ${STAGING}`, (t) => t);
    expect({ type: refused.type, nonRetryable: refused.nonRetryable }).toEqual({ type: 'InvalidOverlay', nonRetryable: true });
  });

  it('a worker without kustomize commits nothing: a non-retryable KustomizeNotFound', async () => {
    const repo = await freshRepo();
    const gitops = createGitopsActivities({ logger: quiet, kustomize: join(root, 'no-such-kustomize') });
    const failure = await failureOf(gitops.writeOverlayImages(write(repo.git, STAGING, tagged('ffff777'), context('ffff777'))));
    expect(failure.type).toBe('KustomizeNotFound');
    expect(failure.nonRetryable).toBe(true);
    expect(await remoteBranchHead(repo.git)).toBe(repo.commit);
    // Found through SLIPWAY_KUSTOMIZE, else the PATH; neither holding one is an error that says so.
    expect(findKustomize({ SLIPWAY_KUSTOMIZE: kustomizePath() })).toBe(kustomizePath());
    expect(findKustomize({ PATH: dirname(kustomizePath()) })).toBe(join(dirname(kustomizePath()), 'kustomize'));
    expect(() => findKustomize({ PATH: root })).toThrow(KustomizeNotFoundError);
    expect(() => findKustomize({ SLIPWAY_KUSTOMIZE: join(root, 'nope') })).toThrow(/SLIPWAY_KUSTOMIZE=.*not an executable file/);
  });
});

/** The images of the Deployments an overlay renders to at the branch head, in IMAGES order. */
async function renderedImages(repo: SeededRepo, kustomize: string, overlay: string): Promise<string[]> {
  const work = await mkdtemp(join(tmpdir(), 'slipway-render-'));
  try {
    await run('git', ['clone', '--quiet', repo.barePath, work]);
    const { stdout } = await run(kustomize, ['build', join(work, overlay)], { maxBuffer: 16 * 1024 * 1024 });
    const images = parseAllDocuments(stdout)
      .map((d) => d.toJS() as { kind: string; spec?: { template?: { spec?: { containers?: Array<{ image: string }> } } } })
      .filter((r) => r.kind === 'Deployment')
      .map((r) => r.spec!.template!.spec!.containers![0]!.image);
    return IMAGES.map((name) => images.find((i) => i.startsWith(`${name}:`) || i.startsWith(`${name}@`))!);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

describe('racing writers', () => {
  it('a push that loses the race is re-applied on the new head, and both changes land', async () => {
    const repo = await freshRepo();
    const rival = createGitopsActivities({ logger: quiet });
    let rivalCommit = '';
    const gitops = createGitopsActivities({
      logger: quiet,
      // Before our first push, someone else pushes to the same branch.
      beforePush: async ({ attempt }) => {
        if (attempt === 1) {
          rivalCommit = (await rival.writeOverlayImages(write(repo.git, PRODUCTION, tagged('0000aaa'), context('0000aaa', { environment: 'production' })))).commit;
        }
      },
    });
    const ours = await gitops.writeOverlayImages(write(repo.git, STAGING, tagged('1111bbb'), context('1111bbb')));
    expect(ours.changed).toBe(true);
    expect((await bare(repo, 'rev-parse', 'main~1')).trim()).toBe(rivalCommit);
    expect((await gitops.readOverlayImages({ git: repo.git, overlay: PRODUCTION, imageNames: IMAGES })).images).toEqual(tagged('0000aaa'));
    expect((await gitops.readOverlayImages({ git: repo.git, overlay: STAGING, imageNames: IMAGES })).images).toEqual(tagged('1111bbb'));
  });

  it('losing every attempt ends in a retryable GitPushConflict, without force', async () => {
    const repo = await freshRepo();
    let n = 0;
    const gitops = createGitopsActivities({
      logger: quiet,
      maxPushAttempts: 3,
      maxBackoffMs: 10,
      beforePush: async () => {
        // Each time, another clone moves main first.
        const work = await mkdtemp(join(tmpdir(), 'slipway-rival-'));
        await run('git', ['clone', '--quiet', repo.barePath, work]);
        await run('git', ['-c', 'user.name=r', '-c', 'user.email=r@r', 'commit', '--quiet', '--allow-empty', '-m', `rival ${++n}`], { cwd: work });
        await run('git', ['push', '--quiet', 'origin', 'HEAD:main'], { cwd: work });
        await rm(work, { recursive: true, force: true });
      },
    });
    const failure = await failureOf(gitops.writeOverlayImages(write(repo.git, STAGING, tagged('2222ccc'), context('2222ccc'))));
    expect(failure.type).toBe('GitPushConflict');
    expect(failure.nonRetryable).toBe(false);
    expect(n).toBe(3);
    // Every rival commit survived: nothing was overwritten.
    expect((await bare(repo, 'log', '--format=%s', 'main')).split('\n').filter((s) => s.startsWith('rival'))).toHaveLength(3);
  });

  it('8 concurrent promotions of 8 overlays on one branch all land, in one process and from separate instances', async () => {
    const repo = await freshRepo();
    // Eight more overlays, each a copy of staging with its own namespace.
    const work = await mkdtemp(join(tmpdir(), 'slipway-eight-'));
    await run('git', ['clone', '--quiet', repo.barePath, work]);
    for (let i = 0; i < 8; i++) await run('cp', ['-r', join(work, STAGING), join(work, `1.2/overlays/team-${i}`)]);
    await run('git', ['add', '.'], { cwd: work });
    await run('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', 'eight overlays'], { cwd: work });
    await run('git', ['push', '--quiet', 'origin', 'HEAD:main'], { cwd: work });
    await rm(work, { recursive: true, force: true });
    const base = (await remoteBranchHead(repo.git))!;

    const shared = createGitopsActivities({ logger: quiet });
    const sameProcess = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        shared.writeOverlayImages(write(repo.git, `1.2/overlays/team-${i}`, tagged(`aaaa00${i}`), context(`aaaa00${i}`, { environment: `team-${i}` }))),
      ),
    );
    // Separate instances do not share the in-process queue: they race at the remote like separate workers.
    let conflicts = 0;
    const counting = { info: () => {}, warn: (m: string) => void (m.includes('lost a race') && conflicts++) };
    const separate = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        createGitopsActivities({ logger: counting, maxBackoffMs: 500 }).writeOverlayImages(
          write(repo.git, `1.2/overlays/team-${i}`, tagged(`bbbb00${i}`), context(`bbbb00${i}`, { environment: `team-${i}` })),
        ),
      ),
    );

    for (const result of [...sameProcess, ...separate]) expect(result.changed).toBe(true);
    expect((await bare(repo, 'rev-list', '--count', `${base}..main`)).trim()).toBe('16');
    expect(new Set([...sameProcess, ...separate].map((r) => r.commit)).size).toBe(16);
    // History is linear: every commit has one parent, no lost update.
    expect((await bare(repo, 'rev-list', '--min-parents=2', 'main')).trim()).toBe('');
    for (let i = 0; i < 8; i++) {
      const read = await shared.readOverlayImages({ git: repo.git, overlay: `1.2/overlays/team-${i}`, imageNames: IMAGES });
      expect(read.images).toEqual(tagged(`bbbb00${i}`));
    }
    // Each write is still an ancestor of the head, and the separate writers really raced.
    const head = (await remoteBranchHead(repo.git))!;
    for (const r of sameProcess) expect(await isAncestor(repo.git, r.commit, head)).toBe(true);
    expect(conflicts).toBeGreaterThan(0);
  });
});
