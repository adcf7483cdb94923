/**
 * Which build a `release`, `promote` or `rollback --to` means, decided exactly: a release id and
 * the images' tag come from the commit, so a short SHA must not stand for a second name of one
 * build, and a loose prefix must not pick whichever deployment happens to come first.
 */
import type { DeploymentRecord, EnvironmentState } from '../../workflows/types.js';

/** The shortest commit prefix accepted where a build is named by its commit. */
export const MIN_PREFIX = 7;

/** A target that cannot be used as given (a usage error: exit 2). */
export class TargetError extends Error {
  override name = 'TargetError';
}

export interface KnownBuild {
  commit: string;
  version?: string;
}

const FULL_SHA = /^[0-9a-f]{40}$/;

/**
 * The full SHA a release is for: a full one as given, a short one (at least 7 hex) only when
 * exactly one build the app's environments know starts with it.
 */
export function resolveReleaseCommit(given: string, known: KnownBuild[]): string {
  if (FULL_SHA.test(given)) return given;
  if (!new RegExp(`^[0-9a-f]{${MIN_PREFIX},39}$`).test(given)) {
    throw new TargetError(`error: <commit> must be a hex commit SHA (40 characters, or at least ${MIN_PREFIX} of a build already deployed), got "${given}"`);
  }
  const matches = distinct(known.filter((b) => b.commit.startsWith(given)));
  if (matches.length === 1) return matches[0]!.commit;
  if (matches.length === 0) throw new TargetError(`error: no build known to the app's environments starts with ${given}; give the full 40-character commit SHA`);
  throw new TargetError(`error: ${given} is ambiguous, it matches ${describe(matches)}; give the full 40-character commit SHA`);
}

/**
 * The deployment `wanted` names among `records` (promoted ones): an exact version (with or without
 * a leading v), or a prefix of at least 7 characters of exactly one build's commit. Undefined when
 * nothing matches; a TargetError when the request is too loose or names two builds.
 */
export function findTarget(records: DeploymentRecord[], wanted: string): DeploymentRecord | undefined {
  const promoted = records.filter((r) => r.outcome === 'promoted');
  const version = wanted.replace(/^v/, '');
  const byVersion = distinct(promoted.filter((r) => r.version !== undefined && r.version === version));
  if (byVersion.length > 1) throw new TargetError(`error: version ${version} names more than one build: ${describe(byVersion)}; give the commit`);
  if (byVersion.length === 1) return byVersion[0];
  if (!/^[0-9a-f]+$/i.test(wanted) || wanted.length < MIN_PREFIX) {
    throw new TargetError(`error: "${wanted}" is not a known version, and a commit prefix needs at least ${MIN_PREFIX} hex characters`);
  }
  const byCommit = distinct(promoted.filter((r) => r.commit.startsWith(wanted.toLowerCase())));
  if (byCommit.length > 1) throw new TargetError(`error: ${wanted} is ambiguous, it matches ${describe(byCommit)}; give more of the commit or the version`);
  return byCommit[0];
}

/**
 * Whether `target` is a later build than `current` in this environment: by semver when both have
 * a version, otherwise by when each build first arrived there (records are newest first).
 */
export function isNewerBuild(target: KnownBuild, current: KnownBuild & { at?: number }, recent: DeploymentRecord[]): boolean {
  if (target.commit === current.commit) return false;
  const a = parseSemver(target.version);
  const b = parseSemver(current.version);
  if (a && b) return compareSemver(a, b) > 0;
  const firstArrival = (commit: string) => {
    const times = recent.filter((r) => r.commit === commit && r.outcome === 'promoted').map((r) => r.finishedAt);
    return times.length ? Math.min(...times) : undefined;
  };
  const targetAt = firstArrival(target.commit);
  const currentAt = firstArrival(current.commit) ?? current.at;
  return targetAt !== undefined && currentAt !== undefined && targetAt > currentAt;
}

/** The latest build before the current one; after a rollback, the build rolled back from is not "previous". */
export function previousBuild(state: EnvironmentState | undefined): DeploymentRecord | undefined {
  const current = state?.current;
  if (!current) return undefined;
  return state.recent.find((r) => r.outcome === 'promoted' && r.commit !== current.commit && !isNewerBuild(r, current, state.recent));
}

type Semver = { core: [number, number, number]; pre?: string };

function parseSemver(version: string | undefined): Semver | undefined {
  const m = version ? /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+.*)?$/.exec(version) : null;
  return m ? { core: [Number(m[1]), Number(m[2]), Number(m[3])], pre: m[4] } : undefined;
}

function compareSemver(a: Semver, b: Semver): number {
  for (let i = 0; i < 3; i++) if (a.core[i] !== b.core[i]) return a.core[i]! - b.core[i]!;
  // A prerelease comes before its release; two prereleases by their identifiers.
  if (a.pre === b.pre) return 0;
  if (a.pre === undefined) return 1;
  if (b.pre === undefined) return -1;
  const x = a.pre.split('.');
  const y = b.pre.split('.');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (x[i] === undefined) return -1;
    if (y[i] === undefined) return 1;
    if (x[i] === y[i]) continue;
    const nx = /^\d+$/.test(x[i]!) ? Number(x[i]) : NaN;
    const ny = /^\d+$/.test(y[i]!) ? Number(y[i]) : NaN;
    if (!Number.isNaN(nx) && !Number.isNaN(ny)) return nx - ny;
    if (!Number.isNaN(nx)) return -1;
    if (!Number.isNaN(ny)) return 1;
    return x[i]! < y[i]! ? -1 : 1;
  }
  return 0;
}

/** One entry per build (commit); a build deployed several times is still one build. */
function distinct<T extends KnownBuild>(builds: T[]): T[] {
  const seen = new Map<string, T>();
  for (const b of builds) if (!seen.has(b.commit)) seen.set(b.commit, b);
  return [...seen.values()];
}

function describe(builds: KnownBuild[]): string {
  return builds.map((b) => `${b.commit}${b.version ? ` (${b.version})` : ''}`).join(', ');
}
