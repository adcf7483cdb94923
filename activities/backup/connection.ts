/**
 * The database a backup is about, from the env var that holds its URL. The URL (and its password)
 * stays in the worker's memory: it reaches pg_dump and pg_restore through libpq's PG* environment
 * variables (never argv, which `ps` shows), and every message that leaves an activity goes through
 * `redact` first.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../types.js';

export interface DatabaseTarget {
  /** The full connection URL (secret). */
  url: string;
  /** The env var it came from, for messages. */
  fromEnv: string;
  host: string;
  port: number;
  database: string;
  user: string;
  /** `host:port/database`, safe to show. */
  label: string;
  /** Everything that must never appear in a message: the URL and the password. */
  secrets: string[];
}

export function backupFailure(message: string, nonRetryable: boolean): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.BackupFailed, message, nonRetryable });
}

/** A backup failure of a more specific type (`PgDumpTooOld`, `ScratchServerTooOld`), never retried. */
export function backupRefusal(type: FailureType, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}

/** `holds` says what the variable is for, in the message when it is not set. */
export function databaseFromEnv(envVar: string, env: NodeJS.ProcessEnv = process.env, holds = 'the PostgreSQL URL to back up'): DatabaseTarget {
  const url = env[envVar];
  if (!url) throw backupFailure(`the worker has no ${envVar} set: it must hold ${holds}`, true);
  return parseDatabaseUrl(url, envVar);
}

/** `host:port`: which server, safe to show (no user, no database, no password). */
export function serverLabel(target: Pick<DatabaseTarget, 'host' | 'port'>): string {
  return `${target.host}:${target.port}`;
}

export function parseDatabaseUrl(url: string, fromEnv: string): DatabaseTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw backupFailure(`${fromEnv} is not a URL (expected postgresql://user:password@host:port/database)`, true);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw backupFailure(`${fromEnv} is not a postgresql:// URL`, true);
  }
  const host = parsed.searchParams.get('host') ?? (decodeURIComponent(parsed.hostname) || 'localhost');
  const port = Number(parsed.port || parsed.searchParams.get('port') || 5432);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || decodeURIComponent(parsed.username) || 'postgres';
  const user = decodeURIComponent(parsed.username) || 'postgres';
  const password = decodeURIComponent(parsed.password);
  const secrets = [url, ...(password ? [password, parsed.password] : [])];
  return { url, fromEnv, host, port, database, user, label: `${host}:${port}/${database}`, secrets };
}

/** The same server, another database (the scratch database, a restore target). */
export function withDatabase(target: DatabaseTarget, database: string): DatabaseTarget {
  const parsed = new URL(target.url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  const url = parsed.toString();
  return { ...target, url, database, label: `${target.host}:${target.port}/${database}`, secrets: [...target.secrets, url] };
}

/** libpq settings for pg_dump / pg_restore, so no secret is on their command line. */
export function libpqEnv(target: DatabaseTarget): NodeJS.ProcessEnv {
  const parsed = new URL(target.url);
  const env: NodeJS.ProcessEnv = {
    PGHOST: target.host,
    PGPORT: String(target.port),
    PGUSER: target.user,
    PGDATABASE: target.database,
    PGAPPNAME: 'slipway-backup',
    PGCONNECT_TIMEOUT: '10',
  };
  const password = decodeURIComponent(parsed.password);
  if (password) env.PGPASSWORD = password;
  const sslmode = parsed.searchParams.get('sslmode');
  if (sslmode) env.PGSSLMODE = sslmode;
  return env;
}

/** Removes every secret of the target from a message. */
export function redact(text: string, target: Pick<DatabaseTarget, 'secrets'>): string {
  let out = text;
  for (const secret of [...target.secrets].sort((a, b) => b.length - a.length)) {
    if (secret) out = out.split(secret).join('***');
  }
  // Belt and braces: any URL-shaped credentials that slipped through another path.
  return out.replace(/(postgres(?:ql)?:\/\/[^:@/\s]+):[^@\s]*@/g, '$1:***@');
}
