/**
 * PostgreSQL major versions, as the server and the client programs report them, and the rules
 * that tie them together: pg_dump refuses a server newer than itself (so the worker checks first
 * and says which binary and which server), and a dump is only meant to restore into a server at
 * least as new as the one it came from. Pure, so the rules are tested without a server.
 */

/** One major version: `num` compares like `server_version_num` does (15 → 150000, 9.6 → 90600). */
export interface PgMajor {
  num: number;
  /** As people write it: `15`, `9.6`. */
  label: string;
}

/** The major of a `server_version_num` (`150018` → 15, `90624` → 9.6). */
export function majorFromVersionNum(versionNum: number): PgMajor | undefined {
  if (!Number.isInteger(versionNum) || versionNum <= 0) return undefined;
  // From 10 on the major is one number; before, it was two (9.6).
  if (versionNum >= 100_000) {
    const major = Math.floor(versionNum / 10_000);
    return { num: major * 10_000, label: String(major) };
  }
  const major = Math.floor(versionNum / 10_000);
  const minor = Math.floor((versionNum % 10_000) / 100);
  return { num: major * 10_000 + minor * 100, label: `${major}.${minor}` };
}

/**
 * The major of a version as text: `SHOW server_version` (`15.18 (Debian 15.18-0+deb12u1)`,
 * `17beta2`, `9.6.24`) or a program's `--version` line (`pg_dump (PostgreSQL) 16.4 (Debian …)`).
 */
export function majorFromVersionText(text: string): PgMajor | undefined {
  const version = /\(PostgreSQL\)\s+(\S+)/.exec(text)?.[1] ?? text.trim();
  const match = /^(\d+)(?:\.(\d+))?/.exec(version);
  if (!match) return undefined;
  const major = Number(match[1]);
  if (major >= 10) return { num: major * 10_000, label: String(major) };
  const minor = Number(match[2] ?? 0);
  return { num: major * 10_000 + minor * 100, label: `${major}.${minor}` };
}

/** Whether a client of major `client` can dump a server of major `server`: it must be at least as new. */
export function canDump(client: PgMajor, server: PgMajor): boolean {
  return client.num >= server.num;
}

/** Whether a dump taken from a server of major `dumpedFrom` is meant to restore into `server`. */
export function canRestoreInto(dumpedFrom: PgMajor, server: PgMajor): boolean {
  return server.num >= dumpedFrom.num;
}

/** The Debian package that carries a client of this major (`postgresql-client-16`). */
export function clientPackageFor(major: PgMajor): string {
  return `postgresql-client-${major.label}`;
}
