/**
 * Durations as people write them in slipway.yaml: `90s`, `2m`, `24h`, `1h30m`, `7d`.
 * Pure: used by config validation, workflows and activities alike.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

/**
 * The longest duration accepted: a year and a day covers every soak, approval, freeze window and
 * timeout people mean, while `9…9d` (Infinity, or a timer Temporal refuses) is a typo, not a policy.
 */
export const MAX_DURATION_MS = 366 * UNIT_MS.d!;

/** Parses a duration string into milliseconds, or returns undefined when it is not one (or is over the maximum). */
export function parseDuration(text: string): number | undefined {
  const parsed = readDuration(text);
  return typeof parsed === 'number' ? parsed : undefined;
}

/** Why a text is not an accepted duration, or undefined when it is one. */
export function durationProblem(text: string): string | undefined {
  const parsed = readDuration(text);
  return typeof parsed === 'string' ? parsed : undefined;
}

function readDuration(text: string): number | string {
  const trimmed = text.trim();
  const shown = trimmed.length > 40 ? `${trimmed.slice(0, 20)}…${trimmed.slice(-10)}` : trimmed;
  if (trimmed === '' || !/^(\d+(?:\.\d+)?(ms|s|m|h|d))+$/.test(trimmed)) return `expected a duration like 30s, 5m, 24h or 1h30m, got "${shown}"`;
  let total = 0;
  for (const match of trimmed.matchAll(PART)) total += Number(match[1]) * UNIT_MS[match[2]!]!;
  // Infinity is over the maximum too.
  if (!(total <= MAX_DURATION_MS)) return `"${shown}" is longer than the longest duration allowed, ${formatDuration(MAX_DURATION_MS)}`;
  return Math.round(total);
}

/** Formats milliseconds compactly (`1h30m`, `45s`, `250ms`) for status lines and messages. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  let rest = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, seconds] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= seconds) {
      parts.push(`${Math.floor(rest / seconds)}${unit}`);
      rest %= seconds;
    }
  }
  return parts.join('');
}
