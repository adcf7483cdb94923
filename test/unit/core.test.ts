import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { durationProblem, formatDuration, parseDuration } from '../../core/duration.js';
import { CronError, cronMatches, parseCron, previousFiring } from '../../core/cron.js';
import { activeFreeze } from '../../core/freeze.js';
import { matchTagGlob, nextPatchVersion, tagMatchesPattern, tagName, versionFromTag } from '../../core/version.js';
import { describeImages, imagesForCommit, sameImages } from '../../core/images.js';

const H = 3_600_000;

describe('durations', () => {
  it('parses and formats the units people write', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('7d')).toBe(7 * 24 * H);
    expect(parseDuration('10')).toBeUndefined();
    expect(parseDuration('5 minutes')).toBeUndefined();
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(42)).toBe('42ms');
  });
});

describe('duration limits', () => {
  it('refuses a duration over 366 days, however it is written, saying what the longest is', () => {
    expect(parseDuration('366d')).toBe(366 * 24 * H);
    expect(parseDuration('8784h')).toBe(366 * 24 * H);
    for (const text of [`${'9'.repeat(400)}d`, '367d', '200d200d', '9000h', `${'9'.repeat(30)}ms`]) {
      expect(parseDuration(text), text).toBeUndefined();
      expect(durationProblem(text), text).toMatch(/longer than the longest duration allowed, 366d/);
    }
    expect(durationProblem(`${'9'.repeat(400)}d`)!.length, 'the message does not repeat a huge input').toBeLessThan(200);
    expect(durationProblem('5 minutes')).toMatch(/expected a duration like/);
    expect(durationProblem('24h')).toBeUndefined();
  });
});

describe('cron', () => {
  it('matches fields with names, ranges, steps and Sunday as 7', () => {
    const friday17 = parseCron('0 17 * * FRI');
    expect(cronMatches(friday17, new Date('2026-11-27T17:00:00Z'))).toBe(true); // a Friday
    expect(cronMatches(friday17, new Date('2026-11-26T17:00:00Z'))).toBe(false);
    const weekdays = parseCron('*/15 9-17 * * 1-5');
    expect(cronMatches(weekdays, new Date('2026-11-24T09:45:00Z'))).toBe(true);
    expect(cronMatches(weekdays, new Date('2026-11-24T09:50:00Z'))).toBe(false);
    expect(cronMatches(parseCron('0 0 * * 7'), new Date('2026-11-29T00:00:00Z'))).toBe(true); // Sunday
  });

  it('ORs day-of-month and day-of-week when both are restricted, as cron does', () => {
    const spec = parseCron('0 0 1 * MON');
    expect(cronMatches(spec, new Date('2026-12-01T00:00:00Z'))).toBe(true); // the 1st (a Tuesday)
    expect(cronMatches(spec, new Date('2026-11-30T00:00:00Z'))).toBe(true); // a Monday
    expect(cronMatches(spec, new Date('2026-12-02T00:00:00Z'))).toBe(false);
  });

  it('finds the previous firing within the lookback', () => {
    const spec = parseCron('30 2 * * *');
    const at = Date.parse('2026-11-24T12:00:00Z');
    expect(new Date(previousFiring(spec, at, 24 * H)!).toISOString()).toBe('2026-11-24T02:30:00.000Z');
    expect(previousFiring(spec, at, H)).toBeUndefined();
  });

  it('finds the same previous firing as a minute-by-minute scan, for any cron and time', () => {
    const field = (lo: number, hi: number) =>
      fc.oneof(
        fc.constant('*'),
        fc.integer({ min: lo, max: hi }).map(String),
        fc.tuple(fc.integer({ min: lo, max: hi }), fc.integer({ min: 1, max: 7 })).map(([a, step]) => `${a}/${step}`),
        fc.tuple(fc.integer({ min: lo, max: hi }), fc.integer({ min: lo, max: hi })).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
      );
    const cron = fc.tuple(field(0, 59), field(0, 23), field(1, 31), field(1, 12), field(0, 6)).map((f) => f.join(' '));
    const naive = (spec: ReturnType<typeof parseCron>, at: number, lookback: number) => {
      for (let t = Math.floor(at / 60_000) * 60_000; t >= at - lookback; t -= 60_000) if (cronMatches(spec, new Date(t))) return t;
      return undefined;
    };
    fc.assert(
      fc.property(cron, fc.integer({ min: Date.parse('2024-01-01T00:00:00Z'), max: Date.parse('2030-01-01T00:00:00Z') }), fc.integer({ min: 0, max: 4 * 24 * H }), (expression, at, lookback) => {
        const spec = parseCron(expression);
        expect(previousFiring(spec, at, lookback)).toBe(naive(spec, at, lookback));
      }),
      { numRuns: 300 },
    );
  });

  it('issue 13 item 14: a freeze window of a year is evaluated in a bounded number of steps, not one per minute', () => {
    // Counts how often the walk looks at a minute, an hour or a day of the spec.
    const counted = (expression: string) => {
      const spec = parseCron(expression);
      const looks = { n: 0 };
      const counting = (set: Set<number>) => Object.assign(new Set(set), { has: (v: number) => (looks.n++, set.has(v)) });
      return { spec: { ...spec, minutes: counting(spec.minutes), hours: counting(spec.hours), months: counting(spec.months) }, looks };
    };
    const leap = counted('0 9 29 2 *'); // 29 February: fires once in four years
    expect(previousFiring(leap.spec, Date.parse('2027-02-01T00:00:00Z'), 366 * 24 * H)).toBeUndefined(); // 2026 has none
    expect(leap.looks.n).toBeLessThan(1_000); // a minute-by-minute scan looks 527,040 times
    expect(new Date(previousFiring(parseCron('0 9 29 2 *'), Date.parse('2028-03-01T12:00:00Z'), 366 * 24 * H)!).toISOString()).toBe('2028-02-29T09:00:00.000Z');
    const weekly = counted('59 23 * * 5');
    previousFiring(weekly.spec, Date.parse('2026-12-01T00:00:00Z'), 30 * 24 * H);
    expect(weekly.looks.n).toBeLessThan(200);
  });

  it('names the bad field', () => {
    expect(() => parseCron('0 17 * *')).toThrow(/expected 5 fields/);
    expect(() => parseCron('61 * * * *')).toThrow(CronError);
    expect(() => parseCron('0 0 * * FUNDAY')).toThrow(/day-of-week/);
  });
});

describe('freeze windows', () => {
  const weekend = [{ cron: '0 17 * * FRI', durationMs: 64 * H, reason: 'weekend' }];

  it('is frozen from Friday 17:00 for 64 hours and open otherwise', () => {
    expect(activeFreeze(weekend, Date.parse('2026-11-27T16:59:00Z'))).toBeUndefined();
    const saturday = activeFreeze(weekend, Date.parse('2026-11-28T10:00:00Z'));
    expect(new Date(saturday!.until).toISOString()).toBe('2026-11-30T09:00:00.000Z');
    expect(saturday!.window.reason).toBe('weekend');
    expect(activeFreeze(weekend, Date.parse('2026-11-30T09:00:00Z'))).toBeUndefined();
  });

  it('follows back-to-back windows to the moment the environment really opens', () => {
    const chained = [
      { cron: '0 9 * * *', durationMs: 2 * H },
      { cron: '0 11 * * *', durationMs: 2 * H },
    ];
    expect(new Date(activeFreeze(chained, Date.parse('2026-11-24T10:00:00Z'))!.until).toISOString()).toBe('2026-11-24T13:00:00.000Z');
  });
});

describe('versions and tags', () => {
  it('computes the next patch from existing tags in the format', () => {
    expect(nextPatchVersion(['v1.2.3', 'v1.10.0', 'v1.9.9', 'latest', 'x1.99.0'], 'v{version}')).toBe('1.10.1');
    expect(nextPatchVersion([], 'v{version}')).toBe('0.1.0');
    expect(tagName('release-{version}', '2.0.0')).toBe('release-2.0.0');
    expect(versionFromTag('v{version}', 'v2.3.4')).toBe('2.3.4');
    expect(versionFromTag('v{version}', 'v2.3')).toBeUndefined();
  });

  it('matches tag patterns with * only', () => {
    expect(tagMatchesPattern('v*.*.*', 'v1.4.0')).toBe(true);
    expect(tagMatchesPattern('v*.*.*', 'v1.4')).toBe(false);
    expect(tagMatchesPattern('v*.*.*', 'release-1.4.0')).toBe(false);
  });

  it('matches tags as the glob regex did (`*` is one or more characters other than /), for any pattern and tag', () => {
    // The regex the matcher replaces, as the oracle on inputs small enough for it.
    const regexMatch = (pattern: string, tag: string) =>
      new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]+')}$`).test(tag);
    const chars = (alphabet: string[], max: number) => fc.array(fc.constantFrom(...alphabet), { maxLength: max }).map((a) => a.join(''));
    const pattern = chars(['v', '1', '2', '.', '-', '/', '*', '*', 'a', '$', '(', '\\', '+'], 10);
    const tag = chars(['v', '1', '2', '.', '-', '/', 'a', '$', '(', '\\', '+', '*'], 14);
    fc.assert(fc.property(pattern, tag, (p, t) => tagMatchesPattern(p, t) === regexMatch(p, t)), { numRuns: 20_000 });
    // And tags built to match: a pattern's stars filled with slash-free text.
    const filled = fc.tuple(pattern, fc.array(chars(['1', '.', 'a', '-', 'v'], 4).filter((x) => x.length > 0), { minLength: 10, maxLength: 10 }));
    fc.assert(
      fc.property(filled, ([p, fills]) => {
        const t = p.split('*').reduce((acc, part, i) => (i === 0 ? part : acc + fills[(i - 1) % fills.length] + part), '');
        return tagMatchesPattern(p, t) === regexMatch(p, t) && regexMatch(p, t);
      }),
      { numRuns: 5_000 },
    );
  });

  it('matches a tag in steps linear in its length, even where the glob regex backtracked', () => {
    // `v*.*.*` against v1.1.1.….1./: the regex tries every split of the dots between its three stars
    // (cubic: seconds at 4 KB). The matcher looks at each character once per pattern position at most.
    for (const length of [1_000, 2_000, 4_000, 8_000, 16_000]) {
      const tag = `v${'1.'.repeat(length / 2)}/`;
      for (const pattern of ['v*.*.*', 'v*.*.*.*.*.*.*.*', '*1*1*1*1*1*1*1*x']) {
        const { matched, steps } = matchTagGlob(pattern, tag);
        expect(matched).toBe(false);
        expect(steps, `${pattern} on ${tag.length} characters`).toBeLessThanOrEqual((tag.length + 1) * (pattern.length + 1));
      }
    }
    const { matched, steps } = matchTagGlob('v*.*.*', `v${'1'.repeat(10_000)}.2.3`);
    expect(matched).toBe(true);
    expect(steps).toBeLessThanOrEqual(3 * 10_005);
  });
});

describe('images', () => {
  it('tags every configured image with the commit and compares settings order-free', () => {
    const images = imagesForCommit(['a/web', { name: 'a/api', newName: 'registry.example/a/api' }], 'abcdef1234567890');
    expect(images).toEqual([
      { name: 'a/web', newTag: 'abcdef1234567890' },
      { name: 'a/api', newName: 'registry.example/a/api', newTag: 'abcdef1234567890' },
    ]);
    expect(sameImages(images, [...images].reverse())).toBe(true);
    expect(sameImages(images, [images[0]!])).toBe(false);
    expect(describeImages(images)).toBe('a/web:abcdef123456, registry.example/a/api:abcdef123456');
  });
});
