/**
 * The default backup store: a folder, `<root>/<app>/<environment>/<id>.dump` plus
 * `<id>.manifest.json`. Writes go to a temporary name and are renamed into place, so a reader
 * never sees half a file and a retried write simply replaces an earlier attempt's leftovers.
 */
import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultLogger } from '../activity-context.js';
import { assertSafeRef, assertSafeSegment, isSafeSegment, type BackupManifest, type BackupRef, type BackupStore, type StoredBackup } from './store.js';

const DUMP = '.dump';
const MANIFEST = '.manifest.json';

export interface DirectoryStoreOptions {
  /** Where a listing reports files it skipped; the activity's log inside an activity, else the console. */
  warn?: (message: string) => void;
}

/**
 * What one folder entry is: part of a backup (its id), a write still in progress, or a stray —
 * anything else a person or a tool left there (`X (1).dump`, `notes.txt`, a folder).
 */
export function classifyEntry(name: string, isFile: boolean): { kind: 'backup'; id: string } | { kind: 'partial' } | { kind: 'stray' } {
  if (isFile && name.includes('.partial-')) return { kind: 'partial' };
  const id = name.endsWith(DUMP) ? name.slice(0, -DUMP.length) : name.endsWith(MANIFEST) ? name.slice(0, -MANIFEST.length) : undefined;
  return isFile && id !== undefined && isSafeSegment(id) ? { kind: 'backup', id } : { kind: 'stray' };
}

export class DirectoryBackupStore implements BackupStore {
  readonly description: string;
  private readonly warn: (message: string) => void;

  constructor(readonly root: string, options: DirectoryStoreOptions = {}) {
    this.description = `directory ${root}`;
    this.warn = options.warn ?? ((message) => defaultLogger().warn(message));
  }

  private folder(app: string, environment: string): string {
    assertSafeSegment(app, 'app');
    assertSafeSegment(environment, 'environment');
    return join(this.root, app, environment);
  }

  dumpPath(ref: BackupRef): string {
    assertSafeRef(ref);
    return join(this.folder(ref.app, ref.environment), `${ref.id}${DUMP}`);
  }

  private manifestPath(ref: BackupRef): string {
    assertSafeRef(ref);
    return join(this.folder(ref.app, ref.environment), `${ref.id}${MANIFEST}`);
  }

  private async replace(target: string, write: (temp: string) => Promise<void>): Promise<void> {
    await mkdir(join(target, '..'), { recursive: true });
    const temp = `${target}.partial-${randomUUID().slice(0, 8)}`;
    try {
      await write(temp);
      await rename(temp, target);
    } finally {
      await rm(temp, { force: true });
    }
  }

  async put(ref: BackupRef, fromFile: string): Promise<{ size: number }> {
    const target = this.dumpPath(ref);
    await this.replace(target, (temp) => copyFile(fromFile, temp));
    return { size: (await stat(target)).size };
  }

  async get(ref: BackupRef, toFile: string): Promise<void> {
    const source = this.dumpPath(ref);
    try {
      await copyFile(source, toFile);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new Error(`backup ${ref.app}/${ref.environment}/${ref.id} has no dump in ${this.description}`);
      }
      throw err;
    }
  }

  async writeManifest(manifest: BackupManifest): Promise<void> {
    const target = this.manifestPath(manifest);
    await this.replace(target, (temp) => writeFile(temp, `${JSON.stringify(manifest, null, 2)}\n`));
  }

  async readManifest(ref: BackupRef): Promise<BackupManifest | undefined> {
    let text: string;
    try {
      text = await readFile(this.manifestPath(ref), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      return JSON.parse(text) as BackupManifest;
    } catch {
      throw new Error(`manifest of backup ${ref.app}/${ref.environment}/${ref.id} is not valid JSON`);
    }
  }

  async list(app: string, environment: string): Promise<StoredBackup[]> {
    const folder = this.folder(app, environment);
    let entries: Array<{ name: string; isFile(): boolean }>;
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const ids = new Set<string>();
    const strays: string[] = [];
    for (const entry of entries) {
      const what = classifyEntry(entry.name, entry.isFile());
      if (what.kind === 'backup') ids.add(what.id);
      else if (what.kind === 'stray') strays.push(entry.name);
    }
    // A file that is no backup must not stop listing, pruning or restoring the backups beside it;
    // it is never deleted either (it is not ours), only named, once per listing.
    if (strays.length > 0) {
      this.warn(
        `skipping ${strays.length === 1 ? 'a file' : `${strays.length} files`} in ${folder} that ${strays.length === 1 ? 'is' : 'are'} not a backup: ` +
          `${strays.sort().map((s) => JSON.stringify(s)).join(', ')} (backups are <id>.dump and <id>.manifest.json, ids of letters, digits, ".", "_" or "-")`,
      );
    }
    const backups: StoredBackup[] = [];
    for (const id of ids) {
      const ref = { app, environment, id };
      let manifest: BackupManifest | undefined;
      try {
        manifest = await this.readManifest(ref);
      } catch {
        manifest = undefined; // unreadable: listed, but it never counts as verified
      }
      const stats = await stat(this.dumpPath(ref)).catch(() => stat(this.manifestPath(ref)));
      backups.push({ id, manifest, storedAt: stats.mtimeMs });
    }
    // Ids sort by time only to the second: within one, the manifest's snapshot time decides.
    const takenAt = (b: StoredBackup) => (b.manifest ? Date.parse(b.manifest.takenAt) || b.storedAt : b.storedAt);
    return backups.sort((a, b) => takenAt(b) - takenAt(a) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  }

  async delete(ref: BackupRef): Promise<void> {
    // Manifest first: a backup without a manifest is unverified, never one that looks good without its dump.
    await rm(this.manifestPath(ref), { force: true });
    await rm(this.dumpPath(ref), { force: true });
  }
}
