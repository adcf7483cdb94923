/**
 * Databases a restore must never write into. Every CREATE DATABASE copies template1 (or another
 * database marked as a template), so production rows restored there would seed every database
 * made on that server from then on, scratch databases of verification included; `postgres` is the
 * maintenance database that tools and Slipway itself connect to. Such a target is refused outright,
 * whatever --force or --confirm say, before anything is created or written.
 */
import pg from 'pg';
import { redact, withDatabase, type DatabaseTarget } from './connection.js';

/** A restore target that is refused by what it is (a usage error: the CLI exits 2). */
export class RestoreTargetRefused extends Error {
  override name = 'RestoreTargetRefused';
}

const BY_NAME: Record<string, string> = {
  template0: 'is the server\'s pristine template database (the copy of last resort for CREATE DATABASE)',
  template1: 'is the server\'s default template: every new database on it is created as a copy of it, so the backup\'s rows would seed them all',
  postgres: 'is the server\'s maintenance database, which tools and Slipway connect to',
};

/** Why a database name is refused without asking the server, or undefined. */
export function systemDatabaseProblem(database: string): string | undefined {
  return Object.hasOwn(BY_NAME, database) ? BY_NAME[database] : undefined;
}

/** SQLSTATE invalid_catalog_name: the database does not exist. */
const NO_SUCH_DATABASE = '3D000';

async function askTemplateFlag(connectTo: DatabaseTarget, database: string): Promise<boolean | undefined> {
  const client = new pg.Client({
    connectionString: connectTo.url,
    connectionTimeoutMillis: 10_000,
    query_timeout: 15_000,
    application_name: 'slipway-restore-check',
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ datistemplate: boolean }>('SELECT datistemplate FROM pg_database WHERE datname = $1', [database]);
    return rows[0]?.datistemplate; // undefined: no such database
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Refuses template and system databases: by name (template0, template1, postgres), then by the
 * server's own word (`pg_database.datistemplate`), asked of the target database itself or, when
 * that cannot be reached (a template may refuse connections), of the maintenance database. A
 * target that does not exist yet is no template. When neither answers, the restore does not go on.
 */
export async function refuseSystemDatabase(target: DatabaseTarget): Promise<void> {
  const byName = systemDatabaseProblem(target.database);
  if (byName) throw new RestoreTargetRefused(refusal(target, byName));
  let lastError: unknown;
  for (const connectTo of [target, withDatabase(target, 'postgres')]) {
    try {
      const template = await askTemplateFlag(connectTo, target.database);
      if (template) throw new RestoreTargetRefused(refusal(target, 'is marked as a template database on its server (pg_database.datistemplate): databases created from it would carry the backup\'s rows'));
      return;
    } catch (err) {
      if (err instanceof RestoreTargetRefused) throw err;
      if (connectTo === target && (err as { code?: string }).code === NO_SUCH_DATABASE) return;
      lastError = err;
    }
  }
  throw new Error(
    `cannot tell whether ${target.label} is a template database, so nothing was restored: ${redact(lastError instanceof Error ? lastError.message : String(lastError), target)}`,
  );
}

function refusal(target: DatabaseTarget, why: string): string {
  return `refusing to restore into ${target.database} (${target.label}): it ${why}. Restore into a database of its own; --force and --confirm do not change this`;
}
