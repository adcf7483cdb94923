/**
 * The condition a metric check's value must meet, as written in slipway.yaml: `< 0.01`, `<= 5`,
 * `> 0.99`, `>= 100`, or `between 0.1 and 0.5` (both ends included). Parsed once when the file is
 * read (a bad one is a config error with its line) and again by the activity; pure, no I/O.
 */

export type Condition =
  | { op: '<' | '<=' | '>' | '>='; threshold: number }
  | { op: 'between'; low: number; high: number };

/** A decimal number as people write thresholds: 0.01, -3, 1e-3, .5 (no NaN, no Infinity, no hex). */
const NUMBER = String.raw`[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?`;
const COMPARISON = new RegExp(String.raw`^\s*(<=|>=|<|>)\s*(${NUMBER})\s*$`);
const BETWEEN = new RegExp(String.raw`^\s*between\s+(${NUMBER})\s+and\s+(${NUMBER})\s*$`, 'i');

export const CONDITION_FORMS = '"< 0.01", "<= 0.01", "> 0.99", ">= 0.99" or "between 0.1 and 0.5"';

/** The condition, or a sentence saying what is wrong with the text. */
export function parseCondition(text: string): { condition: Condition } | { problem: string } {
  const comparison = COMPARISON.exec(text);
  if (comparison) {
    const threshold = Number(comparison[2]);
    if (!Number.isFinite(threshold)) return { problem: `the threshold in "${text}" is out of range` };
    return { condition: { op: comparison[1] as '<' | '<=' | '>' | '>=', threshold } };
  }
  const between = BETWEEN.exec(text);
  if (between) {
    const [low, high] = [Number(between[1]), Number(between[2])];
    if (!Number.isFinite(low) || !Number.isFinite(high)) return { problem: `a bound in "${text}" is out of range` };
    if (low > high) return { problem: `"${text}" is empty: the lower bound is above the upper one` };
    return { condition: { op: 'between', low, high } };
  }
  return { problem: `expected a condition like ${CONDITION_FORMS}, got "${text}"` };
}

/** For callers that have validated the text already (the config schema did). */
export function conditionOf(text: string): Condition {
  const parsed = parseCondition(text);
  if ('problem' in parsed) throw new Error(parsed.problem);
  return parsed.condition;
}

/** Whether the value meets the condition. NaN meets none (the verdict treats it as no data before asking). */
export function meets(condition: Condition, value: number): boolean {
  switch (condition.op) {
    case '<':
      return value < condition.threshold;
    case '<=':
      return value <= condition.threshold;
    case '>':
      return value > condition.threshold;
    case '>=':
      return value >= condition.threshold;
    case 'between':
      return value >= condition.low && value <= condition.high;
  }
}

/** The condition written back in its canonical form ("< 0.01", "between 0.1 and 0.5"). */
export function formatCondition(condition: Condition): string {
  return condition.op === 'between' ? `between ${condition.low} and ${condition.high}` : `${condition.op} ${condition.threshold}`;
}

/** How a value that does not meet the condition stands to it, for failure messages: "0.31 >= 0.01". */
export function describeMiss(condition: Condition, value: number): string {
  // Rounded for reading, unless rounding would make it look as if it met the condition.
  const rounded = formatValue(value);
  const shown = Number.isFinite(value) && meets(condition, Number(rounded)) ? String(value) : rounded;
  switch (condition.op) {
    case '<':
      return `${shown} >= ${condition.threshold}`;
    case '<=':
      return `${shown} > ${condition.threshold}`;
    case '>':
      return `${shown} <= ${condition.threshold}`;
    case '>=':
      return `${shown} < ${condition.threshold}`;
    case 'between':
      return `${shown} ${value < condition.low ? `< ${condition.low}` : `> ${condition.high}`}`;
  }
}

/** A sample value as people read it: at most six significant digits, Prometheus' words for the infinities. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(Number(value.toPrecision(6)));
}
