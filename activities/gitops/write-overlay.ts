/**
 * writeOverlayImages: set the images in an overlay, commit, push. Idempotent — when this step's
 * commit is already on the branch (an attempt pushed and died before answering) that commit is
 * the answer; when the branch already holds the images otherwise, the head is returned and nothing
 * is committed. A late attempt, whose environment has gone on to a later step, writes nothing
 * (step-fence.ts). A lost race (someone pushed first) means: fetch, reset to the new head, check
 * the fence and apply the edit again, push again, with a bounded, jittered backoff. Nothing is
 * ever force-pushed.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { describeImages } from '../../core/images.js';
import { editOverlayImages, exactImageEdit, imageEditFor, readOverlayImages as readImages } from '../../core/overlay.js';
import type { WriteOverlayInput, WriteOverlayResult } from '../types.js';
import { currentActivity, defaultLogger, heartbeat, sleep } from '../activity-context.js';
import { commitMessage } from './commit-message.js';
import { PushConflictError, RollbackConflictError, StaleWriteError, toApplicationFailure } from './failures.js';
import type { KeyedLock } from './keyed-lock.js';
import { checkOverlayPath, locateKustomization } from './overlay-file.js';
import type { GitopsOptions } from './options.js';
import { remoteFor, type Remote } from './remote.js';
import { decideRollback } from './rollback-guard.js';
import { fenceVerdict, latestStepCommit, LOG_FORMAT, parseStepLog, type FenceVerdict } from './step-fence.js';
import { verifyWrittenOverlay } from './verify-edit.js';
import { directPush } from './write-mode.js';
import { openWorkspace, type Workspace } from './workspace.js';

export async function writeOverlay(input: WriteOverlayInput, options: GitopsOptions, lock: KeyedLock): Promise<WriteOverlayResult> {
  const where = `write ${input.overlay} on ${input.git.branch} of ${input.git.url}`;
  let remote: Remote | undefined;
  try {
    checkOverlayPath(input.overlay);
    remote = remoteFor(input.git, options.env);
    const r = remote;
    const attempt = () => writeWithRetries(input, options, r);
    if (options.serializeWritesInProcess === false) return await attempt();
    // Waiting for the lock heartbeats and ends with the activity, so a cancelled or timed-out
    // attempt never holds a place in the queue.
    return await lock.run(`${r.url}#${input.git.branch}`, attempt, {
      signal: currentActivity()?.cancellationSignal,
      whileWaiting: () => heartbeat({ waitingFor: 'another write of this branch in this worker' }),
    });
  } catch (err) {
    const failure = toApplicationFailure(err, where, remote?.redact ?? ((t) => t));
    (options.logger ?? defaultLogger()).warn(`overlay write failed: ${failure.message}`, { type: failure.type });
    throw failure;
  }
}

async function writeWithRetries(input: WriteOverlayInput, options: GitopsOptions, remote: Remote): Promise<WriteOverlayResult> {
  const log = options.logger ?? defaultLogger();
  const mode = options.writeMode ?? directPush;
  const maxAttempts = options.maxPushAttempts ?? 10;
  const message = commitMessage(input.context, input.images);
  const workspace = await openWorkspace(input.git, remote, { gitTimeoutMs: options.gitTimeoutMs, clones: options.clones });
  try {
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (attempt > 1) await workspace.resetToRemote();
      heartbeat({ attempt });
      const fence = await checkFence(workspace, input, options);
      if (fence.kind === 'stale') {
        throw new StaleWriteError(
          `${input.context.app}/${input.context.environment} has gone on to a later step (${fence.by.commit}: ${fence.by.step!.sequence} ${fence.by.step!.phase}); this late attempt of step ${input.context.step!.sequence} ${input.context.step!.phase} pushed nothing`,
        );
      }
      if (fence.kind === 'already-landed') {
        log.info(`${input.overlay}: this step's commit ${fence.commit} is already on ${input.git.branch} (an earlier attempt pushed it); nothing to commit`);
        return { commit: fence.commit, changed: true, recovered: true };
      }
      const edit = await applyEdit(workspace, input, options);
      if (!edit && !input.context.step) {
        const head = await workspace.head();
        log.info(`${input.overlay} already holds ${describeImages(input.images)} at ${head}; nothing to commit`);
        return { commit: head, changed: false };
      }
      // A step that finds its images already in place still lands its mark, as an empty commit:
      // without it, a late attempt of an earlier step (which wrote other images) would find no
      // later step on the branch and land over this one.
      await workspace.commit(edit ? [edit] : [], edit ? message : commitMessage(input.context, input.images, { unchanged: true }));
      await options.beforePush?.({ dir: workspace.dir, attempt });
      const published = await mode.publish(workspace);
      if (published.outcome === 'landed') {
        log.info(`${input.context.kind} ${input.context.app} to ${input.context.environment}: ${input.overlay} now at ${published.commit}${edit ? '' : ' (images were already in place)'}`, {
          attempt,
          releaseId: input.context.releaseId,
        });
        return { commit: published.commit, changed: edit !== undefined };
      }
      log.warn(`push to ${input.git.branch} lost a race (attempt ${attempt}/${maxAttempts}); fetching and applying again`);
      heartbeat({ attempt });
      if (attempt < maxAttempts) await sleep(backoffMs(attempt, options.maxBackoffMs ?? 2000));
    }
    throw new PushConflictError(
      `${input.git.branch} kept moving: ${maxAttempts} pushes lost the race (nothing was force-pushed; a later retry will fetch again)`,
    );
  } finally {
    await workspace.dispose();
  }
}

/**
 * Writes the edit into the work tree and checks it there (read back, the intended change and
 * nothing else, `kustomize build` renders it); returns the file's repository path, or undefined
 * when nothing changes. A failed check throws: nothing is committed.
 */
async function applyEdit(workspace: Workspace, input: WriteOverlayInput, options: GitopsOptions): Promise<string | undefined> {
  const file = await locateKustomization(workspace.dir, input.overlay, input.git.branch);
  const before = await readFile(file.absolute, 'utf8');
  if (input.guard) {
    const current = readImages(before, file.path, input.images.map((i) => i.name));
    const decision = decideRollback(current, input.images, input.guard);
    if (decision.kind === 'nothing-to-undo') return undefined;
    if (decision.kind === 'conflict') {
      const by = await lastCommitTouching(workspace, file.path, options);
      throw new RollbackConflictError(
        `${file.path}: not rolled back — ${decision.detail}${by ? `; last changed by ${by.commit} (${by.author}: "${by.subject}")` : ''}. Nothing was written; a person decides what runs here`,
      );
    }
  }
  // A rollback point is the whole entry: fields it does not have are removed, not kept.
  const edits = input.images.map(input.exact ? exactImageEdit : imageEditFor);
  const edit = editOverlayImages(before, file.path, edits);
  if (!edit.changed) return undefined;
  await writeFile(file.absolute, edit.text);
  await verifyWrittenOverlay({ dir: workspace.dir, file, before, edits, kustomize: options.kustomize, timeoutMs: options.renderTimeoutMs });
  return file.path;
}

/**
 * The fence for this attempt, from the branch history this clone has, deepened (within a bound)
 * until the environment's newest Slipway commit is in view. Writes without a step (older
 * workflows, the CLI) are not fenced.
 */
async function checkFence(workspace: Workspace, input: WriteOverlayInput, options: GitopsOptions): Promise<FenceVerdict> {
  const step = input.context.step;
  if (!step) return { kind: 'go' };
  const { app, environment } = input.context;
  const verdict = await searchHistory(workspace, options, async (maxCount) => {
    const commits = parseStepLog(await workspace.git(['log', `--format=${LOG_FORMAT}`, `--max-count=${maxCount}`, 'HEAD']));
    return latestStepCommit(commits, app, environment) ? fenceVerdict(step, app, environment, commits) : undefined;
  });
  return verdict ?? { kind: 'go' };
}

/** The newest commit that changed `path`, for a message naming who changed the overlay. */
async function lastCommitTouching(workspace: Workspace, path: string, options: GitopsOptions): Promise<{ commit: string; author: string; subject: string } | undefined> {
  return searchHistory(workspace, options, async () => {
    const out = (await workspace.git(['log', '--max-count=1', '--format=%H%x1f%an <%ae>%x1f%s', 'HEAD', '--', path])).trim();
    if (!out) return undefined;
    const [commit, author, subject] = out.split('\x1f');
    // In a shallow clone the boundary commit looks as if it added every file: not an answer yet.
    return (await isShallowBoundary(workspace, commit!)) ? undefined : { commit: commit!, author: author!, subject: subject! };
  });
}

async function isShallowBoundary(workspace: Workspace, commit: string): Promise<boolean> {
  const shallow = await readFile(`${workspace.dir}/.git/shallow`, 'utf8').catch(() => '');
  return shallow.split('\n').includes(commit);
}

/**
 * Looks for something in the branch history, deepening the shallow clone (8, 64, 512… commits,
 * up to maxFenceScan) until `look` finds it or the whole history is in view.
 */
async function searchHistory<T>(workspace: Workspace, options: GitopsOptions, look: (maxCount: number) => Promise<T | undefined>): Promise<T | undefined> {
  const maxCommits = options.maxFenceScan ?? 1000;
  for (let depth = 1; ; depth *= 8) {
    const found = await look(maxCommits);
    if (found !== undefined || depth >= maxCommits) return found;
    if ((await workspace.git(['rev-parse', '--is-shallow-repository'])).trim() !== 'true') return undefined;
    heartbeat({ deepeningHistory: depth * 8 });
    await workspace.git(['fetch', '--quiet', '--no-tags', `--deepen=${Math.min(maxCommits, depth * 8)}`, 'origin', workspace.branch]);
  }
}

/** Full jitter over an exponential ceiling: racing writers spread out instead of colliding again. */
function backoffMs(attempt: number, max: number): number {
  return Math.random() * Math.min(max, 50 * 2 ** attempt);
}
