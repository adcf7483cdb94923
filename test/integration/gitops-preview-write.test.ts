/**
 * Tier: integration (real git CLI, real bare repositories on disk, real kustomize; no Temporal).
 * Pull-request previews written into and removed from the TodoApp GitOps repository, whose `main`
 * gains a template overlay (a copy of production at 1.2/overlays/preview-template) and is then
 * protected by a pre-receive hook, so any push to it would be refused: previews live on a branch
 * of their own, started from main. A preview is checked by rendering it again here with kustomize,
 * from a fresh clone of what was pushed.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runProgram } from '../../activities/bounded-process.js';
import { createPreviewWriteActivities, PREVIEW_MARKER } from '../../activities/gitops/index.js';
import type { GitopsOptions } from '../../activities/gitops/options.js';
import { FailureType, type WritePreviewOverlayInput, type WritePreviewOverlayResult } from '../../activities/types.js';
import { seedGitopsRepo, type SeededRepo } from '../../infra/examples/seed-repo.js';
import { kustomizePath } from '../../infra/kustomize.js';
import { failureOf } from '../support/failures.js';
import { protectMain } from '../support/protected-repo.js';

const run = promisify(execFile);
const IMAGES = ['todoapp/frontend', 'todoapp/backend', 'todoapp/backend-todos', 'todoapp/broadcaster'];
const TEMPLATE = '1.2/overlays/preview-template';
const PREVIEWS = '1.2/overlays/previews';
const BRANCH = 'previews';
const SHA1 = '3f2a9c1d4e5f60718293a4b5c6d7e8f901234567';
const SHA2 = '9e8d7c6b5a4f30211203f4e5d6c7b8a9f0e1d2c3';
const quiet = { info: () => {}, warn: () => {} };
const WRITER = { GIT_AUTHOR_NAME: 'Writer', GIT_AUTHOR_EMAIL: 'w@example.com', GIT_COMMITTER_NAME: 'Writer', GIT_COMMITTER_EMAIL: 'w@example.com' };

const previews = (options: GitopsOptions = {}) => createPreviewWriteActivities({ logger: quiet, maxBackoffMs: 20, ...options });

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'slipway-preview-write-test-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

type Repo = SeededRepo & { main: string };

let repoCount = 0;
/**
 * The example repository with a template overlay on main (production's folder, copied), changed
 * further by `edit` in the same commit; main is protected once that commit is on it.
 */
async function repoWithTemplate(edit: (work: string) => Promise<void> = async () => {}): Promise<Repo> {
  const repo = await seedGitopsRepo(root, { name: `repo-${++repoCount}.git` });
  const work = await mkdtemp(join(root, 'work-'));
  const git = async (...args: string[]) => (await run('git', args, { cwd: work, env: { ...process.env, ...WRITER } })).stdout.trim();
  await git('clone', '--quiet', repo.barePath, '.');
  await cp(join(work, '1.2/overlays/production'), join(work, TEMPLATE), { recursive: true });
  await edit(work);
  await git('add', '--all');
  await git('-c', 'commit.gpgsign=false', 'commit', '--quiet', '-m', 'a preview template');
  await git('push', '--quiet', 'origin', 'HEAD:main');
  const main = await git('rev-parse', 'HEAD');
  await rm(work, { recursive: true, force: true });
  protectMain(repo.barePath);
  return { ...repo, main };
}

async function bare(repo: SeededRepo, ...args: string[]): Promise<string> {
  return (await run('git', ['--git-dir', repo.barePath, ...args])).stdout.trim();
}

async function branchHead(repo: SeededRepo, branch: string): Promise<string | undefined> {
  return (await bare(repo, 'for-each-ref', '--format=%(objectname)', `refs/heads/${branch}`)) || undefined;
}

/** The files under `path` at `ref`, with their blob ids. */
async function tree(repo: SeededRepo, ref: string, path: string): Promise<Record<string, string>> {
  const out = await bare(repo, 'ls-tree', '-r', ref, '--', `${path}/`);
  return Object.fromEntries(
    out
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [meta, file] = line.split('\t');
        return [file!.slice(path.length + 1), meta!.split(' ')[2]!];
      }),
  );
}

const pr = (number: number) => `${PREVIEWS}/pr-${number}`;

function input(repo: SeededRepo, number: number, sha: string, over: Partial<WritePreviewOverlayInput> = {}): WritePreviewOverlayInput {
  return {
    git: { ...repo.git, branch: BRANCH },
    template: TEMPLATE,
    path: pr(number),
    namespace: `todoapp-pr-${number}`,
    images: IMAGES.map((name) => ({ name, newTag: sha })),
    context: { app: 'todoapp', number, headSha: sha, releaseId: `preview/todoapp/${number}` },
    ...over,
  };
}

type Manifest = {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: { template?: { spec?: { containers?: Array<{ image: string }> } }; jobTemplate?: { spec: { template: { spec: { containers: Array<{ image: string }> } } } } };
};

/** `kustomize build` of `path` in a fresh clone of `branch`: what Argo CD would render from it. */
async function render(repo: SeededRepo, branch: string, path: string): Promise<Manifest[]> {
  const work = await mkdtemp(join(root, 'render-'));
  try {
    await run('git', ['clone', '--quiet', '--branch', branch, repo.bareUrl, work]);
    const result = await runProgram({ file: kustomizePath(), args: ['build', join(work, path)], timeoutMs: 60_000 });
    if (result.end.kind !== 'exited' || result.end.code !== 0) throw new Error(`kustomize build ${path} failed: ${result.stderr}`);
    return parseAllDocuments(result.stdout).map((d) => d.toJS() as Manifest);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function images(manifests: Manifest[]): string[] {
  return manifests.flatMap((m) => [...(m.spec?.template?.spec?.containers ?? []), ...(m.spec?.jobTemplate?.spec.template.spec.containers ?? [])].map((c) => c.image));
}

describe('writePreviewOverlay', () => {
  it('writes the preview on a new branch started from main, which stays untouched; it renders in its namespace with the pull request\'s tags', async () => {
    const repo = await repoWithTemplate();
    const result = await previews().writePreviewOverlay(input(repo, 12, SHA1));

    expect(result).toEqual({ commit: await branchHead(repo, BRANCH), changed: true, path: pr(12) });
    expect(await branchHead(repo, 'main')).toBe(repo.main);
    expect(await bare(repo, 'rev-parse', `${result.commit}^`)).toBe(repo.main);
    // Only the preview's folder changed: the template's other files as they are, the new kustomization, the marker.
    expect(await bare(repo, 'diff', '--name-only', repo.main, result.commit)).toBe(
      [PREVIEW_MARKER, 'backup-cronjob.yaml', 'broadcaster-discord.yaml', 'kustomization.yaml'].map((f) => `${pr(12)}/${f}`).join('\n'),
    );
    const template = await tree(repo, 'main', TEMPLATE);
    const preview = await tree(repo, BRANCH, pr(12));
    expect(preview['backup-cronjob.yaml']).toBe(template['backup-cronjob.yaml']);
    expect(preview['broadcaster-discord.yaml']).toBe(template['broadcaster-discord.yaml']);
    expect(await bare(repo, 'show', `${BRANCH}:${pr(12)}/kustomization.yaml`)).toContain('- ../../../base');
    expect(await bare(repo, 'show', `${BRANCH}:${pr(12)}/${PREVIEW_MARKER}`)).toMatch(/^app: todoapp\npullRequest: 12$/m);

    const message = await bare(repo, 'log', '-1', '--format=%B', result.commit);
    expect(message.split('\n')[0]).toBe('preview todoapp#12: 3f2a9c1');
    expect(message).toContain('\nSlipway-App: todoapp\nSlipway-Preview: 12\nSlipway-Source-Commit: 3f2a9c1d4e5f60718293a4b5c6d7e8f901234567\nSlipway-Release: preview/todoapp/12');

    const manifests = await render(repo, BRANCH, pr(12));
    expect(manifests.filter((m) => m.kind === 'Deployment').map((m) => m.metadata.name).sort()).toEqual(['backend', 'backend-todos', 'broadcaster', 'frontend']);
    for (const m of manifests) expect(`${m.kind}/${m.metadata.name} in ${m.metadata.namespace}`).toBe(`${m.kind}/${m.metadata.name} in todoapp-pr-12`);
    const todoapp = images(manifests).filter((i) => i.startsWith('todoapp/'));
    expect(todoapp.sort()).toEqual(IMAGES.map((name) => `${name}:${SHA1}`).sort());
    // The template's own file, copied, is part of the preview: production's backup CronJob.
    expect(manifests.some((m) => m.kind === 'CronJob' && m.metadata.name === 'postgres-backup')).toBe(true);
  });

  it('written again with the same input, it commits nothing and answers with the branch head', async () => {
    const repo = await repoWithTemplate();
    const first = await previews().writePreviewOverlay(input(repo, 12, SHA1));
    const count = await bare(repo, 'rev-list', '--count', BRANCH);
    const again = await previews().writePreviewOverlay(input(repo, 12, SHA1));
    expect(again).toEqual({ commit: first.commit, changed: false, path: pr(12) });
    expect(await branchHead(repo, BRANCH)).toBe(first.commit);
    expect(await bare(repo, 'rev-list', '--count', BRANCH)).toBe(count);
  });

  it('a new head commit updates the preview in one commit on top of the last', async () => {
    const repo = await repoWithTemplate();
    const first = await previews().writePreviewOverlay(input(repo, 12, SHA1));
    const second = await previews().writePreviewOverlay(input(repo, 12, SHA2));
    expect(second.changed).toBe(true);
    expect(second.commit).toBe(await branchHead(repo, BRANCH));
    expect(await bare(repo, 'rev-parse', `${second.commit}^`)).toBe(first.commit);
    expect(await bare(repo, 'diff', '--name-only', first.commit, second.commit)).toBe(`${pr(12)}/kustomization.yaml`);
    expect((await bare(repo, 'log', '-1', '--format=%s', second.commit))).toBe('preview todoapp#12: 9e8d7c6');
    expect(images(await render(repo, BRANCH, pr(12))).filter((i) => i.startsWith('todoapp/')).sort()).toEqual(IMAGES.map((name) => `${name}:${SHA2}`).sort());
  });

  it('a retry after a push whose answer was lost finds the preview there and commits nothing', async () => {
    const repo = await repoWithTemplate();
    // The push lands, then the attempt dies before it can answer.
    const lossy = previews({
      beforePush: async ({ dir }) => {
        await run('git', ['push', '--quiet', 'origin', `HEAD:refs/heads/${BRANCH}`], { cwd: dir });
        throw new Error('connection reset after the push');
      },
    });
    const lost = await failureOf(lossy.writePreviewOverlay(input(repo, 12, SHA1)));
    expect(lost.nonRetryable).toBe(false);
    const landed = await branchHead(repo, BRANCH);
    expect(landed).toBeDefined();

    const retry = await previews().writePreviewOverlay(input(repo, 12, SHA1));
    expect(retry).toEqual({ commit: landed, changed: false, path: pr(12) });
    expect(await bare(repo, 'rev-list', '--count', `${repo.main}..${BRANCH}`)).toBe('1');
  });

  it('two writers racing for a branch both land, neither losing the other\'s preview — when they start it, and when it exists', async () => {
    const repo = await repoWithTemplate();
    const other = previews();
    // Writer a has committed (from main: the branch does not exist yet) when b starts and lands; a's push then loses the race.
    let rival: Promise<unknown> | undefined;
    const attempts: number[] = [];
    const a = previews({
      beforePush: async ({ attempt }) => {
        attempts.push(attempt);
        if (attempt === 1) await (rival = other.writePreviewOverlay(input(repo, 22, SHA2)));
      },
    });
    const ra = await a.writePreviewOverlay(input(repo, 21, SHA1));
    const rb = (await rival) as WritePreviewOverlayResult;
    expect(attempts).toEqual([1, 2]);
    expect(rb.changed && ra.changed).toBe(true);
    expect(await bare(repo, 'rev-parse', `${ra.commit}^`)).toBe(rb.commit);
    expect(await bare(repo, 'rev-parse', `${rb.commit}^`)).toBe(repo.main);
    expect(await branchHead(repo, BRANCH)).toBe(ra.commit);
    expect(Object.keys(await tree(repo, BRANCH, pr(21)))).toContain('kustomization.yaml');
    expect(images(await render(repo, BRANCH, pr(22))).filter((i) => i.startsWith('todoapp/')).sort()).toEqual(IMAGES.map((name) => `${name}:${SHA2}`).sort());

    // Once it exists: a's update of #21 loses to b's removal of #22, and lands after it.
    let removal: Promise<unknown> | undefined;
    attempts.length = 0;
    const a2 = previews({
      beforePush: async ({ attempt }) => {
        attempts.push(attempt);
        if (attempt === 1) await (removal = other.removePreviewOverlay({ git: { ...repo.git, branch: BRANCH }, path: pr(22), context: { app: 'todoapp', number: 22 } }));
      },
    });
    const update = await a2.writePreviewOverlay(input(repo, 21, SHA2));
    const removed = (await removal) as { commit: string; changed: boolean };
    expect(attempts).toEqual([1, 2]);
    expect(removed.changed).toBe(true);
    expect(await bare(repo, 'rev-parse', `${update.commit}^`)).toBe(removed.commit);
    expect(await tree(repo, BRANCH, pr(22))).toEqual({});
    expect(images(await render(repo, BRANCH, pr(21))).filter((i) => i.startsWith('todoapp/')).sort()).toEqual(IMAGES.map((name) => `${name}:${SHA2}`).sort());
    expect(await branchHead(repo, 'main')).toBe(repo.main);
  });

  it('a template holding a symlink, or a subfolder, is refused non-retryably, and nothing is pushed', async () => {
    const linked = await repoWithTemplate((work) => symlink('../production/backup-cronjob.yaml', join(work, TEMPLATE, 'extra.yaml')));
    const link = await failureOf(previews().writePreviewOverlay(input(linked, 12, SHA1)));
    expect(link.type).toBe(FailureType.PreviewTemplateUnsupported);
    expect(link.nonRetryable).toBe(true);
    expect(link.message).toContain('extra.yaml is a symlink');
    expect(await branchHead(linked, BRANCH)).toBeUndefined();

    const nested = await repoWithTemplate(async (work) => {
      await mkdir(join(work, TEMPLATE, 'more'));
      await writeFile(join(work, TEMPLATE, 'more', 'patch.yaml'), 'kind: ConfigMap\n');
    });
    const folder = await failureOf(previews().writePreviewOverlay(input(nested, 12, SHA1)));
    expect(folder.type).toBe(FailureType.PreviewTemplateUnsupported);
    expect(folder.nonRetryable).toBe(true);
    expect(folder.message).toContain('more is a subfolder');
    expect(await branchHead(nested, BRANCH)).toBeUndefined();
  });

  it('a preview that does not render, or renders without an image it sets, is refused and nothing is pushed', async () => {
    const broken = await repoWithTemplate((work) => writeFile(join(work, TEMPLATE, 'kustomization.yaml'), 'resources:\n- ../../base\n- missing.yaml\nimages:\n- name: todoapp/frontend\n  newTag: x\n'));
    const fails = await failureOf(previews().writePreviewOverlay(input(broken, 12, SHA1, { images: [{ name: 'todoapp/frontend', newTag: SHA1 }] })));
    expect(fails.type).toBe(FailureType.OverlayEditInvalid);
    expect(fails.nonRetryable).toBe(true);
    expect(fails.message).toContain(`kustomize build ${pr(12)} fails`);
    // Paths as the repository has them, not as the worker's clone does.
    expect(fails.message).not.toContain('/clone-');
    expect(await branchHead(broken, BRANCH)).toBeUndefined();

    const unused = await repoWithTemplate((work) => writeFile(join(work, TEMPLATE, 'kustomization.yaml'), 'resources:\n- ../../base\nimages:\n- name: todoapp/frontend\n  newTag: x\n- name: todoapp/retired\n  newTag: x\n'));
    const missing = await failureOf(
      previews().writePreviewOverlay(input(unused, 12, SHA1, { images: [{ name: 'todoapp/frontend', newTag: SHA1 }, { name: 'todoapp/retired', newTag: SHA1 }] })),
    );
    expect(missing.type).toBe(FailureType.OverlayEditInvalid);
    expect(missing.message).toContain('no container of the render runs todoapp/retired');
    expect(await branchHead(unused, BRANCH)).toBeUndefined();
  });

  it('a folder that is not this pull request\'s preview is not written over', async () => {
    const repo = await repoWithTemplate();
    const staging = await failureOf(previews().writePreviewOverlay(input(repo, 12, SHA1, { path: '1.2/overlays/staging' })));
    expect(staging.type).toBe(FailureType.PreviewFolderTaken);
    expect(staging.nonRetryable).toBe(true);
    expect(staging.message).toContain(`holds no ${PREVIEW_MARKER}`);
    expect(await branchHead(repo, BRANCH)).toBeUndefined();

    // Another pull request's preview at the path (a name pattern that gave two pull requests one folder).
    await previews().writePreviewOverlay(input(repo, 13, SHA1));
    const head = await branchHead(repo, BRANCH);
    const theirs = await failureOf(previews().writePreviewOverlay(input(repo, 12, SHA1, { path: pr(13) })));
    expect(theirs.type).toBe(FailureType.PreviewFolderTaken);
    expect(theirs.message).toContain('is the preview of todoapp#13');
    expect(await branchHead(repo, BRANCH)).toBe(head);
  });

  it('a path with ".." is refused before any git command', async () => {
    const clones = await mkdtemp(join(root, 'clones-'));
    // No repository there: a git command would fail on that, not on the path.
    const git = { url: join(root, 'no-such-repo.git'), branch: BRANCH, author: { name: 'Slipway', email: 'slipway@example.com' } };
    const activities = previews({ clones: { root: clones } });
    const base = { git, template: TEMPLATE, namespace: 'todoapp-pr-12', images: [], context: { app: 'todoapp', number: 12, headSha: SHA1 } };
    const write = await failureOf(activities.writePreviewOverlay({ ...base, path: `${PREVIEWS}/../previews/pr-12` }));
    expect(write.type).toBe(FailureType.InvalidConfig);
    expect(write.nonRetryable).toBe(true);
    expect(write.message).toContain('written without ".."');
    const remove = await failureOf(activities.removePreviewOverlay({ git, path: '../pr-12', context: { app: 'todoapp', number: 12 } }));
    expect(remove.type).toBe(FailureType.InvalidConfig);
    expect(remove.message).toContain('written without ".."');
    expect(await readdir(clones)).toEqual([]);
  });
});

describe('removePreviewOverlay', () => {
  const removal = (repo: SeededRepo, number: number, path = pr(number)) => ({ git: { ...repo.git, branch: BRANCH }, path, context: { app: 'todoapp', number } });

  it('removes the folder in one commit, leaving the other previews; a second removal changes nothing', async () => {
    const repo = await repoWithTemplate();
    await previews().writePreviewOverlay(input(repo, 12, SHA1));
    const before = (await previews().writePreviewOverlay(input(repo, 13, SHA1))).commit;

    const removed = await previews().removePreviewOverlay(removal(repo, 12));
    expect(removed).toEqual({ commit: await branchHead(repo, BRANCH), changed: true });
    expect(await bare(repo, 'rev-parse', `${removed.commit}^`)).toBe(before);
    expect(await tree(repo, BRANCH, pr(12))).toEqual({});
    expect(Object.keys(await tree(repo, BRANCH, pr(13))).sort()).toEqual([PREVIEW_MARKER, 'backup-cronjob.yaml', 'broadcaster-discord.yaml', 'kustomization.yaml']);
    expect((await bare(repo, 'diff', '--name-only', before, removed.commit)).split('\n').every((f) => f.startsWith(`${pr(12)}/`))).toBe(true);
    const message = await bare(repo, 'log', '-1', '--format=%B', removed.commit);
    expect(message.split('\n')[0]).toBe('preview todoapp#12: removed');
    expect(message).toContain('\nSlipway-App: todoapp\nSlipway-Preview: 12');

    const again = await previews().removePreviewOverlay(removal(repo, 12));
    expect(again).toEqual({ commit: removed.commit, changed: false });
    expect(await branchHead(repo, BRANCH)).toBe(removed.commit);
    expect(await branchHead(repo, 'main')).toBe(repo.main);
  });

  it('a branch that does not exist is nothing to remove, and is not made', async () => {
    const repo = await repoWithTemplate();
    expect(await previews().removePreviewOverlay(removal(repo, 12))).toEqual({ commit: '', changed: false });
    expect(await branchHead(repo, BRANCH)).toBeUndefined();
  });

  it('a folder that is not this pull request\'s preview is refused and left as it is', async () => {
    const repo = await repoWithTemplate();
    await previews().writePreviewOverlay(input(repo, 13, SHA1));
    const head = await branchHead(repo, BRANCH);

    const production = await failureOf(previews().removePreviewOverlay(removal(repo, 12, '1.2/overlays/production')));
    expect(production.type).toBe(FailureType.PreviewFolderTaken);
    expect(production.nonRetryable).toBe(true);
    const template = await failureOf(previews().removePreviewOverlay(removal(repo, 12, TEMPLATE)));
    expect(template.type).toBe(FailureType.PreviewFolderTaken);
    const theirs = await failureOf(previews().removePreviewOverlay(removal(repo, 12, pr(13))));
    expect(theirs.type).toBe(FailureType.PreviewFolderTaken);
    expect(theirs.message).toContain('is the preview of todoapp#13');

    expect(await branchHead(repo, BRANCH)).toBe(head);
    expect(Object.keys(await tree(repo, BRANCH, '1.2/overlays/production'))).toContain('kustomization.yaml');
    expect(Object.keys(await tree(repo, BRANCH, pr(13)))).toContain(PREVIEW_MARKER);
  });
});
