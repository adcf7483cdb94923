/**
 * writeOverlayImages: set the images in an overlay, commit, push. Idempotent — when the branch
 * already holds the images, the head is returned and nothing is committed. A lost race (someone
 * pushed first) means: fetch, reset to the new head, apply the edit again, push again, with a
 * bounded, jittered backoff. Nothing is ever force-pushed.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { describeImages } from '../../core/images.js';
import { editOverlayImages, imageEditFor } from '../../core/overlay.js';
import type { WriteOverlayInput, WriteOverlayResult } from '../types.js';
import { defaultLogger, heartbeat, sleep } from '../activity-context.js';
import { commitMessage } from './commit-message.js';
import { PushConflictError, toApplicationFailure } from './failures.js';
import type { KeyedLock } from './keyed-lock.js';
import { checkOverlayPath, locateKustomization } from './overlay-file.js';
import type { GitopsOptions } from './options.js';
import { remoteFor, type Remote } from './remote.js';
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
    return options.serializeWritesInProcess === false ? await attempt() : await lock.run(`${r.url}#${input.git.branch}`, attempt);
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
  const workspace = await openWorkspace(input.git, remote);
  try {
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (attempt > 1) await workspace.resetToRemote();
      const edit = await applyEdit(workspace, input, options);
      if (!edit) {
        const head = await workspace.head();
        log.info(`${input.overlay} already holds ${describeImages(input.images)} at ${head}; nothing to commit`);
        return { commit: head, changed: false };
      }
      await workspace.commit([edit], message);
      await options.beforePush?.({ dir: workspace.dir, attempt });
      const published = await mode.publish(workspace);
      if (published.outcome === 'landed') {
        log.info(`${input.context.kind} ${input.context.app} to ${input.context.environment}: ${input.overlay} now at ${published.commit}`, {
          attempt,
          releaseId: input.context.releaseId,
        });
        return { commit: published.commit, changed: true };
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
  const edits = input.images.map(imageEditFor);
  const edit = editOverlayImages(before, file.path, edits);
  if (!edit.changed) return undefined;
  await writeFile(file.absolute, edit.text);
  await verifyWrittenOverlay({ dir: workspace.dir, file, before, edits, kustomize: options.kustomize, timeoutMs: options.renderTimeoutMs });
  return file.path;
}

/** Full jitter over an exponential ceiling: racing writers spread out instead of colliding again. */
function backoffMs(attempt: number, max: number): number {
  return Math.random() * Math.min(max, 50 * 2 ** attempt);
}
