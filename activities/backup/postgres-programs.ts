/**
 * Where the PostgreSQL programs are. Debian installs them under /usr/lib/postgresql/<major>/bin
 * (not on PATH); SLIPWAY_PG_BIN names another folder. The newest major wins: pg_dump must be at
 * least as new as the server it dumps. The backup activities need pg_dump and pg_restore; the
 * throwaway server of the tests and the demo (infra/postgres) finds initdb and pg_ctl the same way.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { findOnPath } from '../programs.js';

const DEBIAN_ROOT = '/usr/lib/postgresql';

export type PostgresProgram = 'pg_dump' | 'pg_restore' | 'initdb' | 'pg_ctl' | 'postgres' | 'createdb';

export function postgresBinDir(): string | undefined {
  const fromEnv = process.env.SLIPWAY_PG_BIN;
  if (fromEnv) return fromEnv;
  if (!existsSync(DEBIAN_ROOT)) return undefined;
  const majors = readdirSync(DEBIAN_ROOT)
    .filter((name) => /^\d+$/.test(name) && existsSync(join(DEBIAN_ROOT, name, 'bin')))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] ? join(DEBIAN_ROOT, majors[0], 'bin') : undefined;
}

/** The path of one PostgreSQL program; throws naming what to install when it is missing. */
export function postgresBinary(name: PostgresProgram): string {
  const dir = postgresBinDir();
  const candidate = dir ? join(dir, name) : undefined;
  if (candidate && existsSync(candidate)) return candidate;
  const onPath = findOnPath(name);
  if (onPath) return onPath;
  throw new Error(
    `${name} not found: install PostgreSQL (Debian: apt-get install postgresql, or scripts/install-deps.sh) or set SLIPWAY_PG_BIN to its bin folder`,
  );
}
