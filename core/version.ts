/** Release version math: semantic versions, tag names and the next version after existing tags. */
export interface SemVer {
  major: number;
  minor: number;
  patch: number;
}

const SEMVER = /^v?(\d+)\.(\d+)\.(\d+)$/;

export function parseVersion(text: string): SemVer | undefined {
  const m = SEMVER.exec(text.trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : undefined;
}

export const formatVersion = (v: SemVer): string => `${v.major}.${v.minor}.${v.patch}`;

export function compareVersions(a: SemVer, b: SemVer): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

/**
 * SemVer 2.0.0 precedence of two version strings (`1.4.0`, `v1.5.0-rc.2`, build metadata
 * ignored): negative when `a` is lower, 0 when equal, positive when higher; undefined when either
 * is not a semantic version, so a caller can tell "not comparable" from "equal". Numbers compare
 * by their digits, never through floating point, so no size of number is misread.
 */
export function compareSemver(a: string, b: string): number | undefined {
  const x = SEMVER_FULL.exec(a.trim());
  const y = SEMVER_FULL.exec(b.trim());
  if (!x || !y) return undefined;
  for (let i = 1; i <= 3; i++) {
    const c = compareDigits(x[i]!, y[i]!);
    if (c !== 0) return c;
  }
  const [pa, pb] = [x[4], y[4]];
  // A release is higher than any of its prereleases.
  if (pa === undefined || pb === undefined) return pa === pb ? 0 : pa === undefined ? 1 : -1;
  const ia = pa.split('.');
  const ib = pb.split('.');
  for (let i = 0; i < Math.min(ia.length, ib.length); i++) {
    const [ea, eb] = [ia[i]!, ib[i]!];
    const [na, nb] = [/^\d+$/.test(ea), /^\d+$/.test(eb)];
    // Numeric identifiers are lower than alphanumeric ones; alphanumeric ones compare in ASCII order.
    const c = na && nb ? compareDigits(ea, eb) : na ? -1 : nb ? 1 : ea < eb ? -1 : ea > eb ? 1 : 0;
    if (c !== 0) return c;
  }
  return ia.length - ib.length;
}

const SEMVER_FULL = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?$/;

function compareDigits(a: string, b: string): number {
  const [x, y] = [a.replace(/^0+(?=\d)/, ''), b.replace(/^0+(?=\d)/, '')];
  return x.length - y.length || (x < y ? -1 : x > y ? 1 : 0);
}

/** The tag name for a version: format `v{version}` and 1.2.3 give `v1.2.3`. */
export const tagName = (format: string, version: string): string => format.replace('{version}', version);

/** The version a tag name carries under `format`, or undefined when the tag is not one of ours. */
export function versionFromTag(format: string, tag: string): string | undefined {
  const [prefix, suffix] = format.split('{version}') as [string, string];
  if (!tag.startsWith(prefix) || !tag.endsWith(suffix)) return undefined;
  const version = tag.slice(prefix.length, tag.length - suffix.length);
  return parseVersion(version) ? version : undefined;
}

/** The next patch version after the highest existing tag; 0.1.0 when there is none. */
export function nextPatchVersion(existingTags: string[], format: string): string {
  const versions = existingTags
    .map((t) => versionFromTag(format, t))
    .filter((v): v is string => v !== undefined)
    .map((v) => parseVersion(v)!)
    .sort(compareVersions);
  const top = versions.at(-1);
  return top ? formatVersion({ ...top, patch: top.patch + 1 }) : '0.1.0';
}

/** Whether a git tag name matches a glob like `v*.*.*` (only `*` is special). */
export function tagMatchesPattern(pattern: string, tag: string): boolean {
  return matchTagGlob(pattern, tag).matched;
}

/**
 * Matches a tag against a glob where `*` is one or more characters other than `/` and everything
 * else is itself. Tags come from whoever can push one, so the match runs in one pass over the tag,
 * keeping the set of pattern positions reached so far (a Thompson simulation): at most one step per
 * character and position, never backtracking, where a regex with several stars can take time cubic
 * in the tag. `steps` counts the positions looked at, so that bound can be checked.
 */
export function matchTagGlob(pattern: string, tag: string): { matched: boolean; steps: number } {
  // Code units, as the regex compared them.
  const n = pattern.length;
  // reached[i]: the tag so far matches the first i pattern characters. From i, a star moves to i+1
  // on one character other than /, and i+1 then stays on more of them while it is that star's.
  let reached = new Uint8Array(n + 1);
  let next = new Uint8Array(n + 1);
  reached[0] = 1;
  let steps = 0;
  for (let c = 0; c < tag.length; c++) {
    const ch = tag[c]!;
    next.fill(0);
    let alive = false;
    for (let i = 0; i <= n; i++) {
      if (!reached[i]) continue;
      steps++;
      if (i < n && (pattern[i] === '*' ? ch !== '/' : pattern[i] === ch)) {
        next[i + 1] = 1;
        alive = true;
      }
      if (i > 0 && pattern[i - 1] === '*' && ch !== '/') {
        next[i] = 1;
        alive = true;
      }
    }
    // Nothing left that could match: the rest of the tag need not be read.
    if (!alive) return { matched: false, steps };
    [reached, next] = [next, reached];
  }
  return { matched: reached[n] === 1, steps };
}
