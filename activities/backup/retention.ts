/**
 * Which backups pruning deletes, by count and by age. Pure, so the rule is tested without a store.
 *
 * The count rule is core/backup-retention's: the newest `keep` verified backups stay, the newest
 * verified backup always stays, and a backup that never verified (failed, flagged, or still being
 * taken) never counts and goes only once it is stale. On top of it, age: a verified backup younger
 * than `keepDays` stays even beyond the count. A verified backup is deleted only when it is both
 * beyond the count and older than the age, so neither setting alone can empty the history.
 */
import { chooseBackupsToDelete, UNVERIFIED_GRACE_MS, type RetentionCandidate, type RetentionChoice } from '../../core/backup-retention.js';

export interface RetentionRule {
  /** How many verified backups to keep at least (below 1 counts as 1). */
  keep: number;
  /** Verified backups younger than this many days are kept whatever `keep` says (0: by count only). */
  keepDays?: number;
}

const DAY_MS = 24 * 60 * 60_000;

export function chooseBackupsToPrune(
  backups: readonly RetentionCandidate[],
  rule: RetentionRule,
  now: number,
  unverifiedGraceMs: number = UNVERIFIED_GRACE_MS,
): RetentionChoice {
  const byCount = new Set(chooseBackupsToDelete(backups, rule.keep, now, unverifiedGraceMs).delete);
  const minAgeMs = Math.max(0, rule.keepDays ?? 0) * DAY_MS;
  const young = (b: RetentionCandidate) => b.verified && now - b.takenAt < minAgeMs;
  // The same order as the count rule (newest first, ties by id), so listings never depend on the store.
  const newestFirst = [...backups].sort((a, b) => b.takenAt - a.takenAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const keep: string[] = [];
  const remove: string[] = [];
  for (const backup of newestFirst) (byCount.has(backup.id) && !young(backup) ? remove : keep).push(backup.id);
  return { keep, delete: remove };
}
