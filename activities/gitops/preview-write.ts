/**
 * Pull-request previews in the GitOps repository: writePreviewOverlay makes (or brings up to date)
 * a preview's folder from the app's template overlay, and removePreviewOverlay removes it, each in
 * one commit pushed, never forced, to the branch previews live on.
 *
 * - The branch may not exist yet: the write then starts it from the base branch (named, or the
 *   repository's default), by a push that creates it — refused, like any push, if the branch
 *   appeared meanwhile, and then fetched and applied again.
 * - Idempotent: a write that finds exactly its files at the path commits nothing and answers with
 *   the head (so does the retry of an attempt whose push landed but whose answer was lost); a
 *   removal that finds no folder, or no branch, commits nothing.
 * - Checked before commit: the copied template and the new kustomization render with
 *   `kustomize build`, in the preview's namespace and with the pull request's images
 *   (preview-render.ts); a folder that is not this pull request's preview is neither written over
 *   nor removed (preview-folder.ts); input is checked before any git command (preview-input.ts).
 * - A lost race (someone pushed first): fetch, reset to the new head, check and apply again, push
 *   again, with a bounded, jittered backoff, as writeOverlayImages does.
 */
import { ApplicationFailure } from '@temporalio/common';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readOverlayImages } from '../../core/overlay.js';
import { PreviewInputError, previewOverlay } from '../../core/preview-overlay.js';
import { currentActivity, defaultLogger, heartbeat, sleep } from '../activity-context.js';
import {
  FailureType,
  type GitTarget,
  type PreviewWriteActivities,
  type RemovePreviewOverlayInput,
  type RemovePreviewOverlayResult,
  type WritePreviewOverlayInput,
  type WritePreviewOverlayResult,
} from '../types.js';
import { classifyGitFailure } from './classify.js';
import { InvalidGitopsInputError, OverlayEditInvalidError, PushConflictError, toApplicationFailure } from './failures.js';
import { GitCommandError, git } from './git.js';
import { KeyedLock } from './keyed-lock.js';
import { findKustomize } from './kustomize.js';
import type { GitopsOptions } from './options.js';
import { previewCommitMessage, previewRemovalMessage } from './preview-commit-message.js';
import {
  PreviewFolderTakenError,
  PreviewTemplateUnsupportedError,
  previewFolderState,
  previewMarker,
  readTemplate,
  removePreviewFolder,
  writePreviewFolder,
} from './preview-folder.js';
import { checkPreviewRemoval, checkPreviewWrite, type CheckedPreviewWrite } from './preview-input.js';
import { previewRenderProblems, renderPreview } from './preview-render.js';
import type { Redactor } from './redact.js';
import { remoteFor, type Remote } from './remote.js';
import { pushHeadTo } from './write-mode.js';
import { openWorkspace, type Workspace } from './workspace.js';

export { PREVIEW_MARKER } from './preview-folder.js';

/** One instance per worker: its writes of one branch queue instead of racing (other processes race, and lose nothing). */
export function createPreviewWriteActivities(options: GitopsOptions = {}): PreviewWriteActivities {
  const lock = new KeyedLock();
  return {
    writePreviewOverlay: (input) => writePreviewOverlay(input, options, lock),
    removePreviewOverlay: (input) => removePreviewOverlay(input, options, lock),
  };
}

export async function writePreviewOverlay(input: WritePreviewOverlayInput, options: GitopsOptions, lock: KeyedLock): Promise<WritePreviewOverlayResult> {
  const where = `write the preview ${input.path} on ${input.git?.branch} of ${input.git?.url}`;
  let remote: Remote | undefined;
  try {
    const checked = checkPreviewWrite(input);
    remote = remoteFor(input.git, options.env);
    const r = remote;
    return await serialized(lock, r, input.git.branch, options, () => writeWithRetries(input, checked, options, r));
  } catch (err) {
    throw reported(err, where, remote, options);
  }
}

export async function removePreviewOverlay(input: RemovePreviewOverlayInput, options: GitopsOptions, lock: KeyedLock): Promise<RemovePreviewOverlayResult> {
  const where = `remove the preview ${input.path} from ${input.git?.branch} of ${input.git?.url}`;
  let remote: Remote | undefined;
  try {
    const path = checkPreviewRemoval(input);
    remote = remoteFor(input.git, options.env);
    const r = remote;
    return await serialized(lock, r, input.git.branch, options, () => removeWithRetries(input, path, options, r));
  } catch (err) {
    throw reported(err, where, remote, options);
  }
}

// ---------------------------------------------------------------- write

async function writeWithRetries(input: WritePreviewOverlayInput, checked: CheckedPreviewWrite, options: GitopsOptions, remote: Remote): Promise<WritePreviewOverlayResult> {
  const log = options.logger ?? defaultLogger();
  const branch = input.git.branch;
  const start = await branchStart(input.git, input.baseBranch, remote, options);
  const message = previewCommitMessage({
    pullRequest: input.context,
    headSha: input.context.headSha,
    releaseId: input.context.releaseId,
    path: checked.path,
    template: checked.template,
    namespace: input.namespace,
    images: input.images,
  });
  let onBranch = start.exists;
  let workspace: PreviewWorkspace;
  try {
    workspace = await openPreviewWorkspace(input.git, start.from, remote, options);
  } catch (err) {
    // Deleted between the look and the clone: started again from the base, as if never there.
    if (!(start.exists && err instanceof GitCommandError && classifyGitFailure(err.output) === 'no-branch')) throw err;
    workspace = await openPreviewWorkspace(input.git, start.base, remote, options);
    onBranch = false;
  }
  try {
    for (let attempt = 1; attempt <= maxAttempts(options); attempt++) {
      if (attempt > 1) onBranch = (await syncWorkspace(workspace, branch, start.base)) === 'branch';
      heartbeat({ attempt });
      const changed = await applyPreview(workspace, input, checked, options, branch);
      if (!changed && onBranch) {
        const head = await workspace.head();
        log.info(`${checked.path} on ${branch} already holds the preview of ${input.context.app}#${input.context.number} at ${input.context.headSha}; nothing to commit`);
        return { commit: head, changed: false, path: checked.path };
      }
      // Not on the branch yet: the branch is pushed even when the base already holds these files, so it exists for Argo CD.
      if (changed) await workspace.commit([checked.path], message);
      await options.beforePush?.({ dir: workspace.dir, attempt });
      const published = await pushHeadTo(workspace, branch);
      if (published.outcome === 'landed') {
        log.info(`preview ${input.context.app}#${input.context.number}: ${checked.path} now at ${published.commit} on ${branch}${onBranch ? '' : ` (branch started from ${start.base})`}`, {
          attempt,
          releaseId: input.context.releaseId,
        });
        return { commit: published.commit, changed, path: checked.path };
      }
      await lostRace(branch, attempt, options);
    }
    throw kept(branch, options);
  } finally {
    await workspace.dispose();
  }
}

/**
 * Writes the preview's folder in the work tree and checks it (renders, in its namespace, with the
 * images); returns whether the tree now differs from its head at the path. A failed check throws:
 * nothing is committed.
 */
async function applyPreview(workspace: PreviewWorkspace, input: WritePreviewOverlayInput, checked: CheckedPreviewWrite, options: GitopsOptions, branch: string): Promise<boolean> {
  const template = await readTemplate(workspace.dir, checked.template, branch);
  await previewFolderState(workspace.dir, checked.path, input.context, branch);
  const kustomization = previewOverlay({ template: template.kustomization, templateDir: checked.template, previewDir: checked.path, namespace: input.namespace, images: input.images });
  await writePreviewFolder(workspace.dir, checked.path, {
    template: checked.template,
    templateFolder: template,
    kustomization,
    marker: previewMarker(input.context, checked.template),
  });
  const file = `${checked.path}/kustomization.yaml`;
  const kustomize = options.kustomize ?? findKustomize();
  const rendered = await renderPreview(kustomize, join(workspace.dir, checked.path), options.renderTimeoutMs ?? 60_000);
  if (!rendered.ok) {
    const output = rendered.output.split(`${workspace.dir}/`).join('');
    throw new OverlayEditInvalidError(file, `kustomize build ${checked.path} fails: ${output.split('\n').slice(-5).join(' | ')}`);
  }
  const wanted = readOverlayImages(kustomization, file, input.images.map((i) => i.name));
  const problems = previewRenderProblems(rendered.objects, input.namespace, wanted);
  if (problems.length > 0) {
    throw new OverlayEditInvalidError(file, `the render is not the preview asked for: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`);
  }
  // Forced: a template file the repository's .gitignore happens to match is still part of the preview.
  await workspace.git(['add', '--all', '--force', '--', checked.path]);
  return (await workspace.git(['diff', '--cached', '--name-only', '--', checked.path])).trim() !== '';
}

// ---------------------------------------------------------------- remove

async function removeWithRetries(input: RemovePreviewOverlayInput, path: string, options: GitopsOptions, remote: Remote): Promise<RemovePreviewOverlayResult> {
  const log = options.logger ?? defaultLogger();
  const branch = input.git.branch;
  const absent = (why: string): RemovePreviewOverlayResult => {
    log.info(`${path}: ${why}; nothing to remove`);
    return { commit: '', changed: false };
  };
  if (!(await remoteHead(input.git, remote, options))) return absent(`${branch} does not exist`);
  let workspace: PreviewWorkspace;
  try {
    workspace = await openPreviewWorkspace(input.git, branch, remote, options);
  } catch (err) {
    // Deleted between the look and the clone: as absent as before.
    if (err instanceof GitCommandError && classifyGitFailure(err.output) === 'no-branch') return absent(`${branch} does not exist`);
    throw err;
  }
  const message = previewRemovalMessage(input.context, path);
  try {
    for (let attempt = 1; attempt <= maxAttempts(options); attempt++) {
      if (attempt > 1 && (await syncWorkspace(workspace, branch)) === 'absent') return absent(`${branch} was deleted meanwhile`);
      heartbeat({ attempt });
      if ((await previewFolderState(workspace.dir, path, input.context, branch)) === 'absent') {
        const head = await workspace.head();
        log.info(`${path} is not on ${branch} at ${head}; nothing to remove`);
        return { commit: head, changed: false };
      }
      await removePreviewFolder(workspace.dir, path);
      await workspace.commit([path], message);
      await options.beforePush?.({ dir: workspace.dir, attempt });
      const published = await pushHeadTo(workspace, branch);
      if (published.outcome === 'landed') {
        log.info(`preview ${input.context.app}#${input.context.number}: ${path} removed from ${branch} in ${published.commit}`, { attempt });
        return { commit: published.commit, changed: true };
      }
      await lostRace(branch, attempt, options);
    }
    throw kept(branch, options);
  } finally {
    await workspace.dispose();
  }
}

// ---------------------------------------------------------------- the branch

/**
 * The clone, with only what these writes use of it: its push and reset follow the branch it was
 * cloned from, which for a new previews branch is the base — and the base is never pushed to.
 */
type PreviewWorkspace = Pick<Workspace, 'dir' | 'head' | 'commit' | 'git' | 'dispose'>;

async function openPreviewWorkspace(target: GitTarget, from: string, remote: Remote, options: GitopsOptions): Promise<PreviewWorkspace> {
  const { dir, head, commit, git: run, dispose } = await openWorkspace({ ...target, branch: from }, remote, { gitTimeoutMs: options.gitTimeoutMs, clones: options.clones });
  return { dir, head, commit, git: run, dispose };
}

interface BranchStart {
  exists: boolean;
  /** What the clone starts from: the branch, or the base when the branch does not exist. */
  from: string;
  /** What a branch that does not exist (yet, or any more) is started from. */
  base: string;
}

/** One look at the remote: the branch's head, and the default branch (HEAD) for a missing branch without a named base. */
async function branchStart(target: GitTarget, baseBranch: string | undefined, remote: Remote, options: GitopsOptions): Promise<BranchStart> {
  const out = await git(['ls-remote', '--symref', remote.url, 'HEAD', `refs/heads/${target.branch}`], outside(remote, options));
  const lines = out.split('\n').map((l) => l.split('\t'));
  const exists = lines.some(([, ref]) => ref === `refs/heads/${target.branch}`);
  const symref = lines.find(([left, ref]) => ref === 'HEAD' && left?.startsWith('ref: refs/heads/'))?.[0]?.slice('ref: refs/heads/'.length);
  const base = baseBranch ?? symref;
  if (!exists && !base) throw new InvalidGitopsInputError(`${target.branch} does not exist and the repository names no default branch to start it from; name the base branch`);
  if (!exists && base === target.branch) throw new InvalidGitopsInputError(`${target.branch} does not exist, and it is its own base branch`);
  return { exists, from: exists ? target.branch : base!, base: base ?? target.branch };
}

async function remoteHead(target: GitTarget, remote: Remote, options: GitopsOptions): Promise<string | undefined> {
  const out = await git(['ls-remote', '--heads', remote.url, `refs/heads/${target.branch}`], outside(remote, options));
  return out.split('\n').map((l) => l.split('\t')).find(([, ref]) => ref === `refs/heads/${target.branch}`)?.[0];
}

function outside(remote: Remote, options: GitopsOptions) {
  return { cwd: tmpdir(), env: remote.env, redact: remote.redact, timeoutMs: options.gitTimeoutMs };
}

/**
 * Moves the work tree to the branch's current head, or to the base's when the branch does not
 * exist (a write starts it) — 'absent' then, and nothing moved, when there is no base (a removal).
 */
async function syncWorkspace(workspace: PreviewWorkspace, branch: string, base?: string): Promise<'branch' | 'base' | 'absent'> {
  const tip = await workspace.git(['ls-remote', '--heads', 'origin', `refs/heads/${branch}`]);
  const exists = tip.split('\n').some((l) => l.split('\t')[1] === `refs/heads/${branch}`);
  if (!exists && base === undefined) return 'absent';
  const from = exists ? branch : base!;
  await workspace.git(['fetch', '--quiet', '--no-tags', '--depth=1', 'origin', `+refs/heads/${from}:refs/remotes/origin/${from}`]);
  await workspace.git(['reset', '--quiet', '--hard', `refs/remotes/origin/${from}`]);
  return exists ? 'branch' : 'base';
}

function maxAttempts(options: GitopsOptions): number {
  return options.maxPushAttempts ?? 10;
}

async function lostRace(branch: string, attempt: number, options: GitopsOptions): Promise<void> {
  (options.logger ?? defaultLogger()).warn(`push to ${branch} lost a race (attempt ${attempt}/${maxAttempts(options)}); fetching and applying again`);
  heartbeat({ attempt });
  // Full jitter over an exponential ceiling: racing writers spread out instead of colliding again.
  if (attempt < maxAttempts(options)) await sleep(Math.random() * Math.min(options.maxBackoffMs ?? 2000, 50 * 2 ** attempt));
}

function kept(branch: string, options: GitopsOptions): PushConflictError {
  return new PushConflictError(`${branch} kept moving: ${maxAttempts(options)} pushes lost the race (nothing was force-pushed; a later retry will fetch again)`);
}

async function serialized<T>(lock: KeyedLock, remote: Remote, branch: string, options: GitopsOptions, fn: () => Promise<T>): Promise<T> {
  if (options.serializeWritesInProcess === false) return fn();
  // Waiting heartbeats and ends with the activity: a cancelled attempt never holds a place in the queue.
  return lock.run(`${remote.url}#${branch}`, fn, {
    signal: currentActivity()?.cancellationSignal,
    whileWaiting: () => heartbeat({ waitingFor: 'another write of this branch in this worker' }),
  });
}

// ---------------------------------------------------------------- failures

function reported(err: unknown, where: string, remote: Remote | undefined, options: GitopsOptions): ApplicationFailure {
  const failure = previewFailure(err, where, remote?.redact ?? ((t) => t));
  (options.logger ?? defaultLogger()).warn(`preview write failed: ${failure.message}`, { type: failure.type });
  return failure;
}

/** The preview's own refusals, then the GitOps activities' classification (failures.ts) for the rest. */
export function previewFailure(err: unknown, where: string, redact: Redactor): ApplicationFailure {
  const message = (text: string) => redact(`${where}: ${text}`);
  if (err instanceof PreviewTemplateUnsupportedError) {
    return ApplicationFailure.create({ message: message(err.message), type: FailureType.PreviewTemplateUnsupported, nonRetryable: true });
  }
  if (err instanceof PreviewFolderTakenError) {
    return ApplicationFailure.create({ message: message(err.message), type: FailureType.PreviewFolderTaken, nonRetryable: true });
  }
  if (err instanceof PreviewInputError) {
    return ApplicationFailure.create({ message: message(err.message), type: FailureType.InvalidConfig, nonRetryable: true });
  }
  return toApplicationFailure(err, where, redact);
}
