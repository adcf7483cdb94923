/**
 * Talking to PostgreSQL with the `pg` package: connecting (with errors turned into messages a
 * person can act on, and retryable only when a retry could help), counting rows, creating and
 * dropping databases. Every query has a deadline; inside an activity the session heartbeats (a
 * count(*) of a big table takes minutes) and a cancelled activity closes the connection, which
 * ends whatever query it was waiting on.
 */
import pg from 'pg';
import { currentActivity } from '../activity-context.js';
import { backupFailure, redact, type DatabaseTarget } from './connection.js';
import { remainingAttemptMs } from './deadline.js';

/** SQLSTATEs a retry cannot fix: bad password, no such database, no permission. */
const PERMANENT_CODES = new Set(['28P01', '28000', '3D000', '42501', '3F000']);

export function describePgError(err: unknown, target: DatabaseTarget, doing: string): Error {
  const e = err as NodeJS.ErrnoException & { code?: string };
  const where = `${target.label} (URL from ${target.fromEnv})`;
  if (e?.code === 'ECONNREFUSED' || e?.code === 'ENOTFOUND' || e?.code === 'ETIMEDOUT' || e?.code === 'EHOSTUNREACH') {
    const why = e.code === 'ECONNREFUSED' ? 'connection refused, is the database down?' : e.code;
    return backupFailure(`cannot reach the database at ${where} while ${doing}: ${why}`, false);
  }
  const message = redact(e instanceof Error ? e.message : String(err), target);
  return backupFailure(`database ${where} refused ${doing}: ${message}`, PERMANENT_CODES.has(e?.code ?? ''));
}

export async function withClient<T>(
  target: DatabaseTarget,
  doing: string,
  use: (client: pg.Client) => Promise<T>,
  options: { timeoutMs?: number } = {},
): Promise<T> {
  const activity = currentActivity();
  const client = new pg.Client({
    connectionString: target.url,
    connectionTimeoutMillis: 10_000,
    // Client-side: a server that accepts the connection and never answers costs one deadline.
    query_timeout: options.timeoutMs ?? remainingAttemptMs(),
    application_name: 'slipway-backup',
  });
  // An idle client's socket error must not crash the worker.
  client.on('error', () => undefined);
  const onCancel = () => void client.end().catch(() => undefined);
  activity?.cancellationSignal.addEventListener('abort', onCancel, { once: true });
  const beat = activity ? setInterval(() => activity.heartbeat({ database: target.label, doing }), 5_000) : undefined;
  try {
    try {
      await client.connect();
    } catch (err) {
      throw describePgError(err, target, doing);
    }
    try {
      return await use(client);
    } catch (err) {
      // Only the database's own errors are rephrased; ours already say what went wrong.
      if (err instanceof pg.DatabaseError || typeof (err as { code?: unknown }).code === 'string') {
        throw describePgError(err, target, doing);
      }
      throw err;
    }
  } finally {
    clearInterval(beat);
    activity?.cancellationSignal.removeEventListener('abort', onCancel);
    await client.end().catch(() => undefined);
  }
}

/**
 * What makes a database this one and no other, whatever host name reached it: the server's start
 * time (to the microsecond) and the database's OID. Two URLs that differ only in how they name
 * the host (localhost, 127.0.0.1, a DNS alias) give the same identity. Any user may read both.
 */
export async function databaseIdentity(client: pg.Client): Promise<string> {
  const { rows } = await client.query<{ identity: string }>(
    `SELECT pg_postmaster_start_time()::text || '/' || d.oid::text AS identity
       FROM pg_database d WHERE d.datname = current_database()`,
  );
  return rows[0]!.identity;
}

/** Every ordinary and partitioned table outside the system schemas, as `schema.table`. */
export async function listTables(client: pg.Client): Promise<Array<{ schema: string; table: string }>> {
  const { rows } = await client.query<{ schema: string; table: string }>(
    `SELECT n.nspname AS schema, c.relname AS table
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p')
        AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
      ORDER BY 1, 2`,
  );
  return rows;
}

/** Exact row counts (count(*), not statistics): verification compares them one for one. */
export async function countRows(client: pg.Client): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const { schema, table } of await listTables(client)) {
    const name = `${client.escapeIdentifier(schema)}.${client.escapeIdentifier(table)}`;
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${name}`);
    counts[`${schema}.${table}`] = Number(rows[0]!.n);
  }
  return counts;
}

export async function serverVersion(client: pg.Client): Promise<string> {
  const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
  return rows[0]!.server_version;
}

export async function databaseExists(client: pg.Client, name: string): Promise<boolean> {
  const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  return (rowCount ?? 0) > 0;
}

export async function createDatabase(client: pg.Client, name: string): Promise<void> {
  await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
}

/** Drops a database even if something is still connected to it (PostgreSQL 13+). */
export async function dropDatabase(client: pg.Client, name: string): Promise<void> {
  await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
}
