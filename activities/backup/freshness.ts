/**
 * Whether a backup schedule has fallen behind: no verified backup within twice its period. Pure,
 * so the rule is tested without a store or a clock.
 *
 * "Twice the period" is read off the schedule's own firings rather than a fixed length, so a
 * weekday schedule is not overdue on a Monday and jitter in when a run starts cannot decide it:
 * the schedule is overdue when its newest verified backup is older than the firing before the
 * latest one, that is, when the last two scheduled runs produced none. One failed run is within
 * the period's grace; the second in a row alerts. An environment with no verified backup at all
 * is overdue from its first failed run: nothing protects it.
 */
import { cronMatches, parseCron, type CronSpec } from '../../core/cron.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Far enough back for the rarest cron (29 February) to have fired twice. */
const LOOKBACK_MS = 9 * 366 * DAY;

export interface FreshnessInput {
  /** `app/environment`, for the message. */
  where: string;
  /** The schedule's five-field cron (UTC). */
  schedule: string;
  newestVerified?: { id: string; takenAt: number };
  now: number;
}

export interface Freshness {
  overdue: boolean;
  /** For people, when overdue. */
  message?: string;
}

/**
 * The latest minute at or before `at` that the spec fires, looking back no further than
 * `earliest`. Skips whole days and hours that cannot match, so even a yearly cron costs a few
 * thousand steps, not a scan of every minute.
 */
export function latestFiring(spec: CronSpec, at: number, earliest: number): number | undefined {
  const firstHour = Math.min(...spec.hours);
  const firstMinute = Math.min(...spec.minutes);
  let t = Math.floor(at / MINUTE) * MINUTE;
  while (t >= earliest) {
    const day = t - (t % DAY);
    const hour = t - (t % HOUR);
    // A probe at the spec's first hour and minute matches exactly when the day does.
    if (!cronMatches(spec, new Date(day + firstHour * HOUR + firstMinute * MINUTE))) {
      t = day - MINUTE;
      continue;
    }
    if (!cronMatches(spec, new Date(hour + firstMinute * MINUTE))) {
      t = hour - MINUTE;
      continue;
    }
    if (cronMatches(spec, new Date(t))) return t;
    t -= MINUTE;
  }
  return undefined;
}

export function scheduleFreshness({ where, schedule, newestVerified, now }: FreshnessInput): Freshness {
  const label = `${schedule} UTC`;
  if (!newestVerified) return { overdue: true, message: `${where} has no verified backup at all (schedule ${label})` };
  const spec = parseCron(schedule);
  const latest = latestFiring(spec, now, now - LOOKBACK_MS);
  const before = latest === undefined ? undefined : latestFiring(spec, latest - MINUTE, latest - LOOKBACK_MS);
  if (latest === undefined || before === undefined || newestVerified.takenAt >= before) return { overdue: false };
  return {
    overdue: true,
    message:
      `no verified backup of ${where} since ${new Date(newestVerified.takenAt).toISOString()} (${newestVerified.id}): ` +
      `the runs scheduled at ${new Date(before).toISOString()} and ${new Date(latest).toISOString()} (${label}) produced none`,
  };
}
