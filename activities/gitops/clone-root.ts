/**
 * Where the throw-away clones live, and how they are kept from piling up. A worker killed in the
 * middle of a write leaves its clone behind (no `finally` runs after SIGKILL), so:
 *
 * - each worker process clones under its own folder, `<root>/<pid>/`;
 * - at start-up a worker removes the folders of processes that are gone, and its own (a restarted
 *   container's worker has the same pid as the one before it, and nothing of its own exists yet);
 * - before a clone the space they take is looked at, and a clone that would go over the bound
 *   fails retryably (another worker, or this one later, can take the step) instead of filling the disk.
 *   Walking every clone's files is not free, so a measurement serves the clones of the next two
 *   seconds: the bound is approximate by what those clones add.
 */
import { lstat, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const DEFAULT_CLONE_ROOT = join(tmpdir(), 'slipway-gitops');
/** GitOps clones are shallow and small; this leaves room for many at once. */
export const DEFAULT_MAX_CLONE_BYTES = 1024 * 1024 * 1024;

export class CloneSpaceExhaustedError extends Error {
  override name = 'CloneSpaceExhaustedError';
}

export interface CloneRootOptions {
  root?: string;
  maxBytes?: number;
}

/** Removes what killed workers (and this process's previous life) left; returns the folders removed. */
export async function sweepAbandonedClones(root = DEFAULT_CLONE_ROOT): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of entries) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    if (pid !== process.pid && isAlive(pid)) continue;
    await rm(join(root, name), { recursive: true, force: true });
    removed.push(join(root, name));
  }
  return removed;
}

/** A new empty folder for one clone, under this process's folder, within the space bound. */
export async function newCloneFolder(options: CloneRootOptions = {}): Promise<string> {
  const root = options.root ?? DEFAULT_CLONE_ROOT;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_CLONE_BYTES;
  let used = await usedBytes(root);
  if (used > maxBytes) {
    await sweepAbandonedClones(root);
    used = await usedBytes(root, { fresh: true });
  }
  if (used > maxBytes) {
    throw new CloneSpaceExhaustedError(
      `the worker's clones already take ${mib(used)} under ${root} (bound ${mib(maxBytes)}); no new clone is made until they are cleaned`,
    );
  }
  const mine = join(root, String(process.pid));
  await mkdir(mine, { recursive: true });
  return mkdtemp(join(mine, 'clone-'));
}

const MEASUREMENT_LASTS_MS = 2_000;
const measurements = new Map<string, { at: number; bytes: number }>();

/** What the clones under `root` take, measured at most every MEASUREMENT_LASTS_MS unless `fresh`. */
async function usedBytes(root: string, options: { fresh?: boolean } = {}): Promise<number> {
  const last = measurements.get(root);
  if (!options.fresh && last && Date.now() - last.at < MEASUREMENT_LASTS_MS) return last.bytes;
  const bytes = await sizeOf(root);
  measurements.set(root, { at: Date.now(), bytes });
  return bytes;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function sizeOf(path: string): Promise<number> {
  let info;
  try {
    info = await lstat(path);
  } catch {
    return 0; // gone meanwhile (another clone's dispose)
  }
  if (!info.isDirectory()) return info.size;
  let entries: string[];
  try {
    entries = await readdir(path);
  } catch {
    return 0;
  }
  let total = 0;
  for (const name of entries) total += await sizeOf(join(path, name));
  return total;
}

function mib(bytes: number): string {
  return bytes < 1024 * 1024 ? `${Math.round(bytes / 1024)} KiB` : `${Math.round(bytes / (1024 * 1024))} MiB`;
}
