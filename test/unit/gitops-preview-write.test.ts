/**
 * The pure parts of the preview writes (activities/gitops/preview-*.ts): input checks, the marker
 * file, commit messages, the render check and the failure types.
 */
import { describe, expect, it } from 'vitest';
import { PreviewInputError } from '../../core/preview-name.js';
import { previewCommitMessage, previewRemovalMessage } from '../../activities/gitops/preview-commit-message.js';
import { PreviewFolderTakenError, PreviewTemplateUnsupportedError, previewMarker, readPreviewMarker } from '../../activities/gitops/preview-folder.js';
import { checkBranchName, checkPreviewRemoval, checkPreviewWrite, previewFolder } from '../../activities/gitops/preview-input.js';
import { previewRenderProblems, splitImage } from '../../activities/gitops/preview-render.js';
import { previewFailure } from '../../activities/gitops/preview-write.js';
import { FailureType, type WritePreviewOverlayInput } from '../../activities/types.js';

const SHA = '3f2a9c1d4e5f60718293a4b5c6d7e8f901234567';
const write = (over: Partial<WritePreviewOverlayInput> = {}, context: Partial<WritePreviewOverlayInput['context']> = {}): WritePreviewOverlayInput => ({
  git: { url: '/srv/gitops.git', branch: 'previews', author: { name: 'Slipway', email: 's@example.com' } },
  template: 'overlays/preview-template',
  path: 'overlays/previews/pr-12',
  namespace: 'todoapp-pr-12',
  images: [{ name: 'todoapp/frontend', newTag: SHA }],
  ...over,
  context: { app: 'todoapp', number: 12, headSha: SHA, ...context },
});

describe('previewFolder', () => {
  it('takes a relative folder and writes it without a trailing slash', () => {
    expect(previewFolder('1.2/overlays/previews/pr-12/', 'preview folder')).toBe('1.2/overlays/previews/pr-12');
  });

  it.each([
    ['a ".." anywhere, even one that stays inside', 'overlays/previews/../previews/pr-12', 'written without ".."'],
    ['a leading ".."', '../pr-12', 'written without ".."'],
    ['the repository itself', '.', 'empty or "." segment'],
    ['an empty path', '', 'must be a folder'],
    ['an absolute path', '/etc', 'not absolute'],
    ['an empty segment', 'a//b', 'empty or "." segment'],
    ['the .git folder', '.git/hooks', '.git folder'],
    ['the .git folder, in other case', 'a/.GIT', '.git folder'],
    ['a backslash', 'a\\..\\b', 'backslash'],
    ['a newline', 'a\nb', 'control character'],
  ])('refuses %s', (_what, path, message) => {
    expect(() => previewFolder(path, 'preview folder')).toThrow(message);
  });
});

describe('checkBranchName', () => {
  it.each(['previews', 'slipway/previews', 'v1.2-previews'])('takes %s', (name) => {
    expect(checkBranchName(name, 'branch')).toBe(name);
  });
  it.each(['-f', 'a..b', 'a b', '.hidden', 'a/.hidden', 'x.lock', 'a/', '/a', 'a@{1}', 'a~1', 'a:b', '', 'a.'])('refuses %j', (name) => {
    expect(() => checkBranchName(name, 'branch')).toThrow(/is not a branch name/);
  });
});

describe('checkPreviewWrite', () => {
  it('returns the folders as written', () => {
    expect(checkPreviewWrite(write({ path: 'overlays/previews/pr-12/' }))).toEqual({ template: 'overlays/preview-template', path: 'overlays/previews/pr-12' });
  });

  it('refuses a preview inside its template, and a template inside its preview', () => {
    expect(() => checkPreviewWrite(write({ path: 'overlays/preview-template/pr-12' }))).toThrow(/must be apart/);
    expect(() => checkPreviewWrite(write({ path: 'overlays' }))).toThrow(/must be apart/);
    expect(() => checkPreviewWrite(write({ path: 'overlays/preview-template' }))).toThrow(/must be apart/);
  });

  it('refuses a namespace Kubernetes does not take, a pull request number that is not one, a head that is no commit id', () => {
    expect(() => checkPreviewWrite(write({ namespace: 'PR_12' }))).toThrow(/namespace "PR_12" is not a DNS-1123 label/);
    expect(() => checkPreviewWrite(write({}, { number: 0 }))).toThrow(/positive whole number, got 0/);
    expect(() => checkPreviewWrite(write({}, { number: 1.5 }))).toThrow(/positive whole number/);
    expect(() => checkPreviewWrite(write({}, { headSha: 'main' }))).toThrow(/is not a commit id/);
    expect(() => checkPreviewWrite(write({}, { app: 'todo\nSlipway-Preview: 1' }))).toThrow(/is not an app name/);
  });

  it('refuses a base branch that is no branch name, and images without names', () => {
    expect(() => checkPreviewWrite(write({ baseBranch: '--upload-pack=x' }))).toThrow(/the base branch "--upload-pack=x" is not a branch name/);
    expect(() => checkPreviewWrite(write({ images: [{ name: '' }] }))).toThrow(/each with a name/);
  });

  it('a removal checks its folder and pull request the same way', () => {
    const git = write().git;
    expect(checkPreviewRemoval({ git, path: 'overlays/previews/pr-12', context: { app: 'todoapp', number: 12 } })).toBe('overlays/previews/pr-12');
    expect(() => checkPreviewRemoval({ git, path: '.', context: { app: 'todoapp', number: 12 } })).toThrow(/"\." segment/);
    expect(() => checkPreviewRemoval({ git, path: 'overlays/previews/pr-12', context: { app: 'todoapp', number: -3 } })).toThrow(/positive whole number/);
  });
});

describe('the preview marker', () => {
  it('reads back the pull request it was written for', () => {
    const text = previewMarker({ app: 'todoapp', number: 12 }, 'overlays/preview-template');
    expect(text).toMatch(/^# The preview of pull request #12 of todoapp, written by Slipway from overlays\/preview-template\./);
    expect(readPreviewMarker(text)).toEqual({ app: 'todoapp', number: 12 });
  });

  it.each([
    ['a kustomization', 'resources:\n- ../base\n'],
    ['a number as text', 'app: todoapp\npullRequest: "12"\n'],
    ['no app', 'pullRequest: 12\n'],
    ['YAML that does not parse', 'app: [todoapp\n'],
    ['a list', '- app: todoapp\n'],
    ['nothing', ''],
  ])('is not read from %s', (_what, text) => {
    expect(readPreviewMarker(text)).toBeUndefined();
  });
});

describe('preview commit messages', () => {
  const base = { pullRequest: { app: 'todoapp', number: 12 }, headSha: SHA, path: 'p/pr-12', template: 'p/template', namespace: 'todoapp-pr-12', images: [{ name: 'todoapp/frontend', newTag: SHA }] };

  it('names the pull request and its head in the subject, and carries the trailers', () => {
    expect(previewCommitMessage({ ...base, releaseId: 'preview/todoapp/12' })).toBe(
      'preview todoapp#12: 3f2a9c1\n\ntodoapp/frontend:3f2a9c1d4e5f\np/pr-12, from p/template, in namespace todoapp-pr-12\n\n' +
        `Slipway-App: todoapp\nSlipway-Preview: 12\nSlipway-Source-Commit: ${SHA}\nSlipway-Release: preview/todoapp/12\n`,
    );
  });

  it('has no release trailer without a release, and no Slipway-Environment (a preview is no environment step)', () => {
    const message = previewCommitMessage(base);
    expect(message).not.toContain('Slipway-Release');
    expect(message).not.toContain('Slipway-Environment');
  });

  it('a newline in an input cannot forge a trailer', () => {
    const message = previewCommitMessage({ ...base, releaseId: 'r\nSlipway-Preview: 99' });
    expect(message.match(/^Slipway-Preview: /gm)).toHaveLength(1);
  });

  it('a removal says so in its subject', () => {
    expect(previewRemovalMessage({ app: 'todoapp', number: 12 }, 'p/pr-12')).toBe("preview todoapp#12: removed\n\np/pr-12: the preview's folder, removed\n\nSlipway-App: todoapp\nSlipway-Preview: 12\n");
  });
});

describe('splitImage', () => {
  it.each([
    ['todoapp/frontend', { name: 'todoapp/frontend' }],
    ['todoapp/frontend:1.2', { name: 'todoapp/frontend', tag: '1.2' }],
    ['localhost:5000/todoapp/frontend', { name: 'localhost:5000/todoapp/frontend' }],
    ['localhost:5000/todoapp/frontend:abc', { name: 'localhost:5000/todoapp/frontend', tag: 'abc' }],
    ['todoapp/frontend@sha256:00ff', { name: 'todoapp/frontend', digest: 'sha256:00ff' }],
    ['todoapp/frontend:abc@sha256:00ff', { name: 'todoapp/frontend', tag: 'abc', digest: 'sha256:00ff' }],
  ])('%s', (reference, parts) => {
    expect(splitImage(reference)).toEqual(parts);
  });
});

describe('previewRenderProblems', () => {
  const deployment = (namespace: string | undefined, image: string, kind = 'Deployment') => ({
    kind,
    metadata: { name: 'frontend', ...(namespace ? { namespace } : {}) },
    spec: { template: { spec: { initContainers: [{ name: 'init', image: 'busybox:1' }], containers: [{ name: 'web', image }] } } },
  });
  const cronJob = (image: string) => ({ kind: 'CronJob', metadata: { name: 'tick', namespace: 'pr-12' }, spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'tick', image }] } } } } } });
  const tagged = [{ name: 'todoapp/frontend', newTag: SHA }];

  it('finds nothing wrong with the preview asked for (cluster-wide objects have no namespace)', () => {
    const objects = [deployment('pr-12', `todoapp/frontend:${SHA}`), cronJob(`todoapp/frontend:${SHA}`), { kind: 'ClusterRole', metadata: { name: 'reader' } }];
    expect(previewRenderProblems(objects, 'pr-12', tagged)).toEqual([]);
  });

  it('names an object in another namespace, and one running containers without a namespace', () => {
    expect(previewRenderProblems([deployment('production', `todoapp/frontend:${SHA}`)], 'pr-12', tagged)).toEqual(['Deployment/frontend is in namespace "production", not pr-12']);
    expect(previewRenderProblems([{ kind: 'Service', metadata: { name: 'web', namespace: 'default' } }], 'pr-12', [])).toEqual(['Service/web is in namespace "default", not pr-12']);
    expect(previewRenderProblems([deployment(undefined, `todoapp/frontend:${SHA}`, 'Rollout')], 'pr-12', tagged)).toEqual(['Rollout/frontend runs containers but has no namespace (not pr-12)']);
  });

  it('names a container still running another tag, also in a CronJob', () => {
    expect(previewRenderProblems([deployment('pr-12', `todoapp/frontend:${SHA}`), cronJob('todoapp/frontend:latest')], 'pr-12', tagged)).toEqual([
      `CronJob/tick container tick runs todoapp/frontend:latest, not todoapp/frontend:${SHA}`,
    ]);
  });

  it('names an image no container runs', () => {
    expect(previewRenderProblems([deployment('pr-12', 'nginx:1')], 'pr-12', tagged)).toEqual(['no container of the render runs todoapp/frontend (the template\'s images set it, but nothing uses it)']);
  });

  it('compares what kustomize makes of newName and digest', () => {
    const renamed = [{ name: 'todoapp/frontend', newName: 'registry.example.com/todo/frontend', newTag: SHA }];
    expect(previewRenderProblems([deployment('pr-12', `registry.example.com/todo/frontend:${SHA}`)], 'pr-12', renamed)).toEqual([]);
    expect(previewRenderProblems([deployment('pr-12', `todoapp/frontend:${SHA}`)], 'pr-12', renamed)).toEqual([
      `Deployment/frontend container web runs todoapp/frontend:${SHA}, not registry.example.com/todo/frontend:${SHA}`,
    ]);
    const pinned = [{ name: 'todoapp/frontend', digest: 'sha256:00ff' }];
    expect(previewRenderProblems([deployment('pr-12', 'todoapp/frontend@sha256:00ff')], 'pr-12', pinned)).toEqual([]);
    expect(previewRenderProblems([deployment('pr-12', 'todoapp/frontend@sha256:aaaa')], 'pr-12', pinned)).toHaveLength(1);
  });
});

describe('previewFailure', () => {
  const redact = (text: string) => text.replaceAll('s3cret', '***');

  it.each([
    [new PreviewTemplateUnsupportedError('x is a symlink s3cret'), FailureType.PreviewTemplateUnsupported],
    [new PreviewFolderTakenError('holds no marker s3cret'), FailureType.PreviewFolderTaken],
    [new PreviewInputError('bad pattern s3cret'), FailureType.InvalidConfig],
  ])('%s is non-retryable, with its type, redacted', (err, type) => {
    const failure = previewFailure(err, 'write the preview p', redact);
    expect(failure.type).toBe(type);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/^write the preview p: /);
    expect(failure.message).not.toContain('s3cret');
  });

  it('anything else is classified as the other GitOps writes classify it', () => {
    const failure = previewFailure(new Error('socket hang up'), 'write the preview p', redact);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.type).toBe('GitopsError');
  });
});
