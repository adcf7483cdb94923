/**
 * Whether a backup that restored correctly is still not one to call verified: a dump of an empty
 * database, or of one that lost most of its rows since the last verified backup, is a faithful copy
 * of a disaster. Recorded as flagged, such a backup never counts towards retention, so it can never
 * push out the good backup from before. Pure, so the rule is tested without a database.
 */

/** A drop of more than half the rows since the previous verified backup flags the new one. */
export const DEFAULT_MAX_SHRINK = 0.5;

export interface FlagInput {
  /** Row count per table of the new backup (the source's, read in the dump's snapshot). */
  tables: Record<string, number>;
  /** The newest verified backup before this one, when there is one. */
  previous?: { id: string; tables: Record<string, number> };
  /** The largest fraction (0–1) of the total row count that may disappear between two backups. */
  maxShrink: number;
}

const total = (tables: Record<string, number>) => Object.values(tables).reduce((a, b) => a + b, 0);

/** Why the backup is flagged, or undefined when nothing is suspicious. */
export function whyFlagged({ tables, previous, maxShrink }: FlagInput): string | undefined {
  const count = Object.keys(tables).length;
  if (count === 0) return 'the database is empty: it has no tables';
  const rows = total(tables);
  if (rows === 0) return `the database is empty: ${count} table${count === 1 ? '' : 's'}, no rows`;
  if (!previous) return undefined;
  const before = total(previous.tables);
  const allowed = Math.min(1, Math.max(0, maxShrink));
  if (before === 0 || rows >= before * (1 - allowed)) return undefined;
  const lost = Math.round(((before - rows) / before) * 100);
  return (
    `the database shrank from ${before} to ${rows} rows (-${lost}%) since backup ${previous.id}, ` +
    `more than the ${Math.round(allowed * 100)}% allowed (maxShrink)`
  );
}
