/**
 * Where the PostgreSQL programs are. Debian installs them under /usr/lib/postgresql/<major>/bin
 * (not on PATH), one folder per installed major; SLIPWAY_PG_BIN names another folder. Of Debian's
 * folders the newest major that has the program wins: pg_dump must be at least as new as the
 * server it dumps, and the newest is at least as new as any server an older one could dump, so
 * installing postgresql-client-<N> beside an older one is all it takes. SLIPWAY_PG_BIN is the
 * operator's explicit choice and is used as it is (the backup checks its version before dumping).
 * The backup activities need pg_dump and pg_restore; the throwaway server of the tests and the
 * demo (infra/postgres) finds initdb and pg_ctl the same way.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { findOnPath } from '../programs.js';

const DEBIAN_ROOT = '/usr/lib/postgresql';

export type PostgresProgram = 'pg_dump' | 'pg_restore' | 'initdb' | 'pg_ctl' | 'postgres' | 'createdb';

/** The majors Debian has installed (`/usr/lib/postgresql/<major>/bin`, `9.6` before 10), newest first. */
export function debianMajors(root: string = DEBIAN_ROOT): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((name) => /^\d+(\.\d+)?$/.test(name) && existsSync(join(root, name, 'bin')))
    .sort((a, b) => Number(b) - Number(a));
}

/**
 * The path of one PostgreSQL program: in SLIPWAY_PG_BIN, else in the newest Debian major that has
 * it, else on the PATH. Throws naming what to install when it is missing.
 */
export function postgresBinary(name: PostgresProgram, env: NodeJS.ProcessEnv = process.env, root: string = DEBIAN_ROOT): string {
  const fromEnv = env.SLIPWAY_PG_BIN;
  // A newer major installed without this program must not hide an older one that has it.
  const folders = fromEnv ? [fromEnv] : debianMajors(root).map((major) => join(root, major, 'bin'));
  for (const folder of folders) {
    const candidate = join(folder, name);
    if (existsSync(candidate)) return candidate;
  }
  const onPath = findOnPath(name, env);
  if (onPath) return onPath;
  throw new Error(
    `${name} not found${fromEnv ? ` in SLIPWAY_PG_BIN (${fromEnv})` : ''}: install PostgreSQL (Debian: apt-get install postgresql, or scripts/install-deps.sh) or set SLIPWAY_PG_BIN to its bin folder`,
  );
}
