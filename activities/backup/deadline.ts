/**
 * How long one outside call of a backup step may take. A dump or a restore takes as long as the
 * database is big, so the bound is what is left of the activity attempt's start-to-close timeout
 * (less a margin, so the attempt can still report why it failed), and six hours outside an
 * activity (a restore from the CLI). Nothing runs unbounded.
 */
import { attemptEndsAtMs } from '../activity-context.js';

export const OUTSIDE_ACTIVITY_MS = 6 * 60 * 60_000;
const MARGIN_MS = 30_000;
const AT_LEAST_MS = 10_000;

export function remainingAttemptMs(now: number = Date.now()): number {
  const end = attemptEndsAtMs();
  if (end === undefined) return OUTSIDE_ACTIVITY_MS;
  return Math.max(AT_LEAST_MS, end - now - MARGIN_MS);
}
