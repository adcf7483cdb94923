/**
 * A five-field cron expression (minute hour day-of-month month day-of-week), evaluated in UTC.
 * Pure and allocation-light so workflows can evaluate freeze windows deterministically.
 * Supports `*`, lists, ranges, steps and three-letter month/day names.
 */
export interface CronSpec {
  minutes: Set<number>;
  hours: Set<number>;
  daysOfMonth: Set<number>;
  months: Set<number>;
  daysOfWeek: Set<number>;
  /** True when day-of-month was `*`: cron ORs the two day fields only when both are restricted. */
  anyDayOfMonth: boolean;
  anyDayOfWeek: boolean;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

export class CronError extends Error {}

function parseValue(token: string, names: string[] | undefined, offset: number, label: string): number {
  const upper = token.toUpperCase();
  if (names) {
    const index = names.indexOf(upper);
    if (index >= 0) return index + offset;
  }
  if (!/^\d+$/.test(token)) throw new CronError(`${label}: "${token}" is not a number${names ? ' or a name' : ''}`);
  return Number(token);
}

function parseField(field: string, min: number, max: number, label: string, names?: string[], offset = 0): Set<number> {
  const values = new Set<number>();
  for (const part of field.split(',')) {
    const [rangePart, stepPart] = part.split('/');
    const step = stepPart === undefined ? 1 : Number(stepPart);
    if (!Number.isInteger(step) || step < 1) throw new CronError(`${label}: bad step in "${part}"`);
    let lo: number;
    let hi: number;
    if (rangePart === '*') {
      lo = min;
      hi = max;
    } else if (rangePart!.includes('-')) {
      const [a, b] = rangePart!.split('-');
      lo = parseValue(a!, names, offset, label);
      hi = parseValue(b!, names, offset, label);
    } else {
      lo = parseValue(rangePart!, names, offset, label);
      hi = stepPart === undefined ? lo : max;
    }
    if (lo < min || hi > (label === 'day-of-week' ? 7 : max) || lo > hi) {
      throw new CronError(`${label}: "${part}" is outside ${min}-${max}`);
    }
    for (let v = lo; v <= hi; v += step) values.add(label === 'day-of-week' && v === 7 ? 0 : v);
  }
  return values;
}

/** Parses a cron expression; throws CronError naming the field that is wrong. */
export function parseCron(expression: string): CronSpec {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) {
    throw new CronError(`expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`);
  }
  const [minute, hour, dom, month, dow] = fields as [string, string, string, string, string];
  return {
    minutes: parseField(minute, 0, 59, 'minute'),
    hours: parseField(hour, 0, 23, 'hour'),
    daysOfMonth: parseField(dom, 1, 31, 'day-of-month'),
    months: parseField(month, 1, 12, 'month', MONTHS, 1),
    daysOfWeek: parseField(dow, 0, 6, 'day-of-week', DAYS, 0),
    anyDayOfMonth: dom === '*',
    anyDayOfWeek: dow === '*',
  };
}

/** Whether the minute starting at `date` (UTC) matches the spec. */
export function cronMatches(spec: CronSpec, date: Date): boolean {
  if (!spec.minutes.has(date.getUTCMinutes()) || !spec.hours.has(date.getUTCHours())) return false;
  return dayMatches(spec, date);
}

/** Whether the day of `date` (UTC) can fire at all: month and the two day fields. */
function dayMatches(spec: CronSpec, date: Date): boolean {
  if (!spec.months.has(date.getUTCMonth() + 1)) return false;
  const domOk = spec.daysOfMonth.has(date.getUTCDate());
  const dowOk = spec.daysOfWeek.has(date.getUTCDay());
  if (spec.anyDayOfMonth || spec.anyDayOfWeek) return domOk && dowOk;
  return domOk || dowOk;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * The latest time at or before `at` (to the minute) that the spec fires, looking back at most
 * `lookbackMs`. A day that cannot fire is skipped whole, then an hour, so the walk costs at most
 * a step per day looked back plus 24 + 60 within the day that fires — not one per minute: a
 * month-long freeze window is evaluated inside a workflow task in a few hundred steps.
 */
export function previousFiring(spec: CronSpec, at: number, lookbackMs: number): number | undefined {
  const limit = at - lookbackMs;
  let t = Math.floor(at / MINUTE) * MINUTE;
  while (t >= limit) {
    const date = new Date(t);
    if (!dayMatches(spec, date)) {
      t = Math.floor(t / DAY) * DAY - MINUTE; // the last minute of the day before
    } else if (!spec.hours.has(date.getUTCHours())) {
      t = Math.floor(t / HOUR) * HOUR - MINUTE; // the last minute of the hour before
    } else if (!spec.minutes.has(date.getUTCMinutes())) {
      t -= MINUTE;
    } else {
      return t;
    }
  }
  return undefined;
}
