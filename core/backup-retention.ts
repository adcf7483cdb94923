/**
 * Which backups retention deletes. Pure, so the rule is tested without a store or a database.
 *
 * The rule: the newest `keep` verified backups stay. Older verified ones go. A backup that was
 * never verified (its verification failed, or its worker died) never counts towards `keep`: it is
 * deleted once it is older than the grace period and older than the newest verified backup, so a
 * backup still being taken or verified is never pulled from under its workflow. The last verified
 * backup is never deleted, whatever `keep` says.
 */
export interface RetentionCandidate {
  id: string;
  /** When the backup was taken, epoch ms. */
  takenAt: number;
  verified: boolean;
}

export interface RetentionChoice {
  keep: string[];
  delete: string[];
}

export const UNVERIFIED_GRACE_MS = 24 * 60 * 60_000;

export function chooseBackupsToDelete(
  backups: readonly RetentionCandidate[],
  keep: number,
  now: number,
  unverifiedGraceMs: number = UNVERIFIED_GRACE_MS,
): RetentionChoice {
  // Newest first; the id breaks ties so the choice never depends on listing order.
  const newestFirst = [...backups].sort((a, b) => b.takenAt - a.takenAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const verified = newestFirst.filter((b) => b.verified);
  const keptVerified = verified.slice(0, Math.max(1, Math.floor(keep) || 1));
  const newestVerifiedAt = verified[0]?.takenAt;

  const kept: string[] = [];
  const deleted: string[] = [];
  for (const backup of newestFirst) {
    if (backup.verified) {
      (keptVerified.includes(backup) ? kept : deleted).push(backup.id);
      continue;
    }
    const stale =
      newestVerifiedAt !== undefined && backup.takenAt < newestVerifiedAt && now - backup.takenAt > unverifiedGraceMs;
    (stale ? deleted : kept).push(backup.id);
  }
  return { keep: kept, delete: deleted };
}
