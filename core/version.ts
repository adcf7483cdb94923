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
  const regex = new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]+')}$`);
  return regex.test(tag);
}
