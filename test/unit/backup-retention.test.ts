import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listBackups } from '../../client/backups.js';
import { chooseBackupsToDelete, type RetentionCandidate } from '../../core/backup-retention.js';
import { createBackupActivities, DirectoryBackupStore } from '../../activities/backup/index.js';
import { chooseBackupsToPrune } from '../../activities/backup/retention.js';
import { whyFlagged } from '../../activities/backup/flags.js';
import { scheduleFreshness } from '../../activities/backup/freshness.js';

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 0, 10, 12);
const b = (id: string, hoursAgo: number, verified = true): RetentionCandidate => ({ id, takenAt: NOW - hoursAgo * HOUR, verified });

describe('chooseBackupsToDelete', () => {
  it('keeps the newest N verified backups and deletes older verified ones', () => {
    const choice = chooseBackupsToDelete([b('d1', 96), b('d4', 24), b('d2', 72), b('d3', 48)], 2, NOW);
    expect(choice.keep).toEqual(['d4', 'd3']);
    expect(choice.delete).toEqual(['d2', 'd1']);
  });

  it('does not count unverified backups towards keep', () => {
    // The two newest are unverified (say, corrupt): the two newest verified ones must still be kept.
    const choice = chooseBackupsToDelete([b('v1', 72), b('v2', 48), b('bad1', 30, false), b('bad2', 26, false)], 2, NOW);
    expect(choice.keep).toEqual(expect.arrayContaining(['v1', 'v2']));
    expect(choice.delete).not.toContain('v1');
    expect(choice.delete).not.toContain('v2');
  });

  it('never deletes the last verified backup, even when every newer one is corrupt', () => {
    const choice = chooseBackupsToDelete([b('only', 200), b('bad1', 100, false), b('bad2', 50, false), b('bad3', 1, false)], 1, NOW);
    expect(choice.keep).toContain('only');
    expect(choice.delete).not.toContain('only');
  });

  it('treats keep below 1 as 1 so the last verified backup survives', () => {
    const choice = chooseBackupsToDelete([b('a', 10), b('b', 5)], 0, NOW);
    expect(choice).toEqual({ keep: ['b'], delete: ['a'] });
  });

  it('deletes stale unverified backups older than the newest verified one, after the grace period', () => {
    const choice = chooseBackupsToDelete([b('old-bad', 48, false), b('good', 24), b('recent-bad', 30, false)], 5, NOW, 36 * HOUR);
    expect(choice.delete).toEqual(['old-bad']);
    expect(choice.keep).toEqual(['good', 'recent-bad']);
  });

  it('keeps an unverified backup newer than the newest verified one (it may still be in progress)', () => {
    const choice = chooseBackupsToDelete([b('good', 300), b('in-progress', 200, false)], 1, NOW, 0);
    expect(choice.delete).toEqual([]);
  });

  it('deletes nothing when no backup is verified', () => {
    const choice = chooseBackupsToDelete([b('x', 500, false), b('y', 400, false)], 1, NOW, 0);
    expect(choice.delete).toEqual([]);
  });

  it('orders ties by id, independent of listing order', () => {
    const one = chooseBackupsToDelete([b('a', 1), b('b', 1), b('c', 1)], 2, NOW);
    const two = chooseBackupsToDelete([b('c', 1), b('a', 1), b('b', 1)], 2, NOW);
    expect(one).toEqual(two);
    expect(one.delete).toEqual(['a']);
  });
});

describe('chooseBackupsToPrune: by count and by age', () => {
  const DAY = 24 * HOUR;
  const rule = (keep: number, keepDays: number) => ({ keep, keepDays });

  it('deletes a verified backup only when it is both beyond the count and older than keepDays', () => {
    const backups = [b('d1', 1 * 24), b('d2', 2 * 24), b('d5', 5 * 24), b('d9', 9 * 24), b('d30', 30 * 24)];
    expect(chooseBackupsToPrune(backups, rule(2, 7), NOW)).toEqual({ keep: ['d1', 'd2', 'd5'], delete: ['d9', 'd30'] });
    // Within the count, age does not matter.
    expect(chooseBackupsToPrune(backups, rule(10, 7), NOW).delete).toEqual([]);
    // keepDays 0: by count alone.
    expect(chooseBackupsToPrune(backups, rule(2, 0), NOW).delete).toEqual(['d5', 'd9', 'd30']);
  });

  it('never deletes the newest verified backup, however old it is and however small keep is', () => {
    const backups = [b('ancient', 400 * 24), b('older', 500 * 24), b('bad', 1, false), b('flagged', 2, false)];
    for (const [keep, keepDays] of [[0, 0], [1, 0], [1, 30]] as const) {
      const choice = chooseBackupsToPrune(backups, rule(keep, keepDays), NOW);
      expect(choice.keep).toContain('ancient');
      expect(choice.delete).toContain('older');
    }
  });

  it('unverified (failed or flagged) backups never count towards keep or keepDays', () => {
    const backups = [b('flagged-new', 1, false), b('v-8d', 8 * 24), b('v-9d', 9 * 24)];
    const choice = chooseBackupsToPrune(backups, rule(1, 7), NOW);
    expect(choice).toEqual({ keep: ['flagged-new', 'v-8d'], delete: ['v-9d'] });
    // The newest verified one stays even when every younger backup is unverified and keepDays is 0.
    expect(chooseBackupsToPrune(backups, rule(1, 0), NOW, DAY).keep).toContain('v-8d');
  });
});

describe('pruneBackups on a real store', () => {
  let dir: string;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('honours keepDays: young verified backups beyond the count stay, the old ones go', async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-prune-'));
    const store = new DirectoryBackupStore(dir);
    const now = Date.now();
    const ids: string[] = [];
    for (const daysAgo of [0, 2, 4, 10, 20]) {
      const takenAt = new Date(now - daysAgo * 24 * HOUR - 60_000);
      const id = `${takenAt.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-d${daysAgo}`;
      ids.push(id);
      await store.writeManifest({
        formatVersion: 1, app: 'todoapp', environment: 'production', id, takenAt: takenAt.toISOString(), database: 'todo',
        serverVersion: '15', pgDumpVersion: '15', format: 'pg_dump-custom', size: 1, sha256: 'x', tables: { 'public.t': 1 }, verified: true,
      });
    }
    const activities = createBackupActivities({ store, env: {} });
    const pruned = await activities.pruneBackups({ app: 'todoapp', environment: 'production', keep: 1, keepDays: 7 });
    expect(pruned.deleted.sort()).toEqual([ids[3], ids[4]].sort());
    expect((await store.list('todoapp', 'production')).map((x) => x.id)).toEqual(ids.slice(0, 3));
  });
});

describe('stray files in a backup folder', () => {
  let dir: string;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('are skipped with one warning per listing naming them, and never break listing or pruning, nor get deleted', async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-stray-'));
    const warnings: string[] = [];
    const store = new DirectoryBackupStore(dir, { warn: (m) => warnings.push(m) });
    const now = Date.now();
    const ids: string[] = [];
    for (const daysAgo of [0, 10, 20]) {
      const takenAt = new Date(now - daysAgo * 24 * HOUR - 60_000);
      const id = `${takenAt.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-d${daysAgo}`;
      ids.push(id);
      await store.writeManifest({
        formatVersion: 1, app: 'todoapp', environment: 'production', id, takenAt: takenAt.toISOString(), database: 'todo',
        serverVersion: '15', pgDumpVersion: '15', format: 'pg_dump-custom', size: 1, sha256: 'x', tables: { 'public.t': 1 }, verified: true,
      });
    }
    const folder = join(dir, 'todoapp', 'production');
    // What a person or a file manager leaves behind: a copy, a note, a folder.
    await writeFile(join(folder, `${ids[0]} (1).dump`), 'copied by hand');
    await writeFile(join(folder, 'X (1).manifest.json'), '{}');
    await writeFile(join(folder, 'notes.txt'), 'why we restored on tuesday');
    await mkdir(join(folder, 'old.dump'));

    expect((await store.list('todoapp', 'production')).map((b) => b.id)).toEqual(ids);
    expect(warnings).toHaveLength(1);
    for (const name of [`${ids[0]} (1).dump`, 'X (1).manifest.json', 'notes.txt', 'old.dump']) expect(warnings[0]).toContain(JSON.stringify(name));
    expect(warnings[0]).toContain(folder);

    expect((await listBackups(store, 'todoapp', 'production')).map((b) => [b.id, b.verified])).toEqual(ids.map((id) => [id, true]));
    expect(warnings).toHaveLength(2);

    const activities = createBackupActivities({ store, env: {} });
    const pruned = await activities.pruneBackups({ app: 'todoapp', environment: 'production', keep: 1, keepDays: 0 });
    expect(pruned).toEqual({ kept: [ids[0]], deleted: [ids[1], ids[2]] });
    expect((await readdir(folder)).sort()).toEqual([`${ids[0]} (1).dump`, `${ids[0]}.manifest.json`, 'X (1).manifest.json', 'notes.txt', 'old.dump'].sort());
  });
});

describe('whyFlagged: an empty or shrunken database is not a backup to call verified', () => {
  const previous = { id: '20260109T030000Z-aaaaaaaa', tables: { 'public.users': 100, 'public.todos': 900 } };

  it('flags a database with no tables, or with tables and no rows', () => {
    expect(whyFlagged({ tables: {}, maxShrink: 0.5 })).toMatch(/the database is empty: it has no tables/);
    expect(whyFlagged({ tables: { 'public.users': 0, 'public.todos': 0 }, previous, maxShrink: 0.5 })).toMatch(
      /the database is empty: 2 tables, no rows/,
    );
  });

  it('flags a total row count that fell by more than maxShrink against the previous verified backup', () => {
    expect(whyFlagged({ tables: { 'public.users': 100, 'public.todos': 300 }, previous, maxShrink: 0.5 })).toBe(
      'the database shrank from 1000 to 400 rows (-60%) since backup 20260109T030000Z-aaaaaaaa, more than the 50% allowed (maxShrink)',
    );
    expect(whyFlagged({ tables: { 'public.users': 100, 'public.todos': 450 }, previous, maxShrink: 0.5 })).toBeUndefined();
    expect(whyFlagged({ tables: { 'public.users': 100, 'public.todos': 300 }, previous, maxShrink: 0.7 })).toBeUndefined();
    // maxShrink 1: only an empty database is flagged.
    expect(whyFlagged({ tables: { 'public.users': 1 }, previous, maxShrink: 1 })).toBeUndefined();
  });

  it('does not flag growth, or a first backup that has rows', () => {
    expect(whyFlagged({ tables: { 'public.users': 5000 }, previous, maxShrink: 0 })).toBeUndefined();
    expect(whyFlagged({ tables: { 'public.users': 1 }, maxShrink: 0.5 })).toBeUndefined();
  });
});

describe('scheduleFreshness: twice the period without a verified backup is overdue', () => {
  const at = (iso: string) => Date.parse(iso);
  const daily = '30 2 * * *';

  it('one missed run is within twice the period; two are not', () => {
    const now = at('2026-01-10T02:45:00Z'); // the run of 01-10 02:30 is failing
    const fromYesterday = { id: 'y', takenAt: at('2026-01-09T02:31:10Z') };
    expect(scheduleFreshness({ where: 'todoapp/production', schedule: daily, newestVerified: fromYesterday, now }).overdue).toBe(false);
    const fromTheDayBefore = { id: 'd', takenAt: at('2026-01-08T02:31:10Z') };
    const late = scheduleFreshness({ where: 'todoapp/production', schedule: daily, newestVerified: fromTheDayBefore, now });
    expect(late.overdue).toBe(true);
    expect(late.message).toBe(
      'no verified backup of todoapp/production since 2026-01-08T02:31:10.000Z (d): the runs scheduled at 2026-01-09T02:30:00.000Z and 2026-01-10T02:30:00.000Z (30 2 * * * UTC) produced none',
    );
  });

  it('is overdue when the environment has no verified backup at all', () => {
    const result = scheduleFreshness({ where: 'todoapp/production', schedule: daily, now: at('2026-01-10T02:45:00Z') });
    expect(result).toMatchObject({ overdue: true, message: expect.stringMatching(/todoapp\/production has no verified backup at all \(schedule 30 2 \* \* \* UTC\)/) });
  });

  it('follows irregular schedules by their firings, not a fixed period', () => {
    const weekdays = '0 3 * * 1-5';
    const monday = at('2026-01-12T03:10:00Z'); // the runs before were Friday 01-09 and Thursday 01-08
    expect(scheduleFreshness({ where: 'todoapp/production', schedule: weekdays, newestVerified: { id: 'fri', takenAt: at('2026-01-09T03:01:00Z') }, now: monday }).overdue).toBe(false);
    expect(scheduleFreshness({ where: 'todoapp/production', schedule: weekdays, newestVerified: { id: 'thu', takenAt: at('2026-01-08T03:01:00Z') }, now: monday }).overdue).toBe(true);
    const yearly = '0 0 29 2 *';
    const result = scheduleFreshness({ where: 'todoapp/production', schedule: yearly, newestVerified: { id: 'leap', takenAt: at('2024-02-29T00:05:00Z') }, now: at('2028-03-01T00:00:00Z') });
    expect(result.overdue).toBe(false);
    const twoLeapDaysAgo = { id: 'old-leap', takenAt: at('2024-02-28T23:00:00Z') };
    expect(scheduleFreshness({ where: 'todoapp/production', schedule: yearly, newestVerified: twoLeapDaysAgo, now: at('2028-03-01T00:00:00Z') }).message).toMatch(
      /the runs scheduled at 2024-02-29T00:00:00.000Z and 2028-02-29T00:00:00.000Z/,
    );
  });
});
