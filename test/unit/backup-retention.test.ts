import { describe, expect, it } from 'vitest';
import { chooseBackupsToDelete, type RetentionCandidate } from '../../core/backup-retention.js';

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
