/**
 * Running pg_dump and pg_restore through the shared bounded runner: no shell, the connection in
 * PG* environment variables (never argv), stderr redacted before it goes into an error. Each run
 * has a deadline (what is left of the activity attempt, see deadline.ts); the runner heartbeats
 * while it runs and kills the program with its process group at the deadline or when the activity
 * is cancelled.
 */
import { describeEnd, ProgramNotStartedError, runProgram } from '../bounded-process.js';
import { postgresBinary } from './postgres-programs.js';
import { libpqEnv, redact, type DatabaseTarget } from './connection.js';
import { remainingAttemptMs } from './deadline.js';
import { majorFromVersionText, type PgMajor } from './pg-versions.js';

export class PgToolError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'PgToolError';
  }
}

export interface PgToolOptions {
  /** The deadline of this run; by default what is left of the activity attempt. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** The worker's environment, where SLIPWAY_PG_BIN is read (process.env by default). */
  env?: NodeJS.ProcessEnv;
}

/** Runs a PostgreSQL client program against the target; resolves with its stdout. */
export async function runPgTool(
  program: 'pg_dump' | 'pg_restore',
  args: string[],
  target: DatabaseTarget,
  options: PgToolOptions = {},
): Promise<string> {
  const timeoutMs = options.timeoutMs ?? remainingAttemptMs();
  let result;
  try {
    result = await runProgram({
      file: postgresBinary(program, options.env),
      args,
      env: { PATH: process.env.PATH, LANG: 'C', ...libpqEnv(target) },
      timeoutMs,
      signal: options.signal,
      heartbeatDetails: { [program]: target.label },
    });
  } catch (err) {
    const why = err instanceof ProgramNotStartedError ? err.message : String(err);
    throw new PgToolError(`${program} could not run: ${redact(why, target)}`, null, '');
  }
  const cleanErr = redact(result.stderr.trim(), target);
  if (result.end.kind === 'exited' && result.end.code === 0) return result.stdout;
  const exitCode = result.end.kind === 'exited' ? result.end.code : null;
  throw new PgToolError(`${program} failed (${describeEnd(result.end, timeoutMs)}): ${lastLines(cleanErr, 6) || 'no output'}`, exitCode, cleanErr);
}

function lastLines(text: string, n: number): string {
  return text.split('\n').slice(-n).join(' | ');
}

/** What `pg_dump --version` said, and which binary said it. */
export interface PgDumpIdentity {
  path: string;
  /** Its `--version` line (`pg_dump (PostgreSQL) 17.6 (Debian 17.6-0+deb13u1)`), or `unknown`. */
  version: string;
  /** Undefined when the program did not run or its answer is not a version. */
  major?: PgMajor;
}

/**
 * Asks the pg_dump the backup would run for its version (ten seconds at most). A program that
 * cannot be found or started answers `unknown` here; the dump itself then says why it cannot run.
 */
export async function probePgDump(env: NodeJS.ProcessEnv = process.env): Promise<PgDumpIdentity> {
  let path: string;
  try {
    path = postgresBinary('pg_dump', env);
  } catch {
    return { path: 'pg_dump', version: 'unknown' };
  }
  try {
    const result = await runProgram({ file: path, args: ['--version'], env: { PATH: env.PATH, LANG: 'C' }, timeoutMs: 10_000 });
    if (result.end.kind !== 'exited' || result.end.code !== 0) return { path, version: 'unknown' };
    const version = result.stdout.trim().split('\n')[0]!.trim();
    const major = majorFromVersionText(version);
    return { path, version, ...(major ? { major } : {}) };
  } catch {
    return { path, version: 'unknown' };
  }
}

/**
 * `pg_dump --format=custom` of the target into a local file, inside an exported snapshot when
 * given (the caller keeps the exporting transaction open until this returns).
 */
export async function dumpDatabase(target: DatabaseTarget, toFile: string, snapshot?: string, options: PgToolOptions = {}): Promise<void> {
  const args = ['--format=custom', '--no-password', `--file=${toFile}`];
  if (snapshot) args.push(`--snapshot=${snapshot}`);
  await runPgTool('pg_dump', args, target, options);
}

/**
 * `pg_restore` of a custom-format dump into the target database, always as one transaction
 * (`--single-transaction`: pg_restore wraps everything in BEGIN/COMMIT, so either every command
 * succeeds or nothing is applied; it implies `--exit-on-error`, which is also passed to say so).
 *
 * `clean` restores over existing objects: the backup's objects are dropped (`--clean --if-exists`)
 * and recreated inside that same transaction. Of the two safe ways to replace a live database —
 * restore into a new database and swap names, or drop and restore in one transaction — this is the
 * second, because the database keeps what a swap would lose or need more rights for: its OID, owner,
 * grants and per-database settings, no need to end every connection to rename it, and no moment
 * when its name points at nothing. A failure anywhere (an object the backup does not know depends on
 * one it drops, a bad row, a lost connection, the deadline) rolls the drops back with the rest:
 * never a half-cleaned database. The cost is that the restore holds its locks until it commits
 * (other sessions wait, and a database with very many tables may need a larger
 * max_locks_per_transaction), and that it cannot run in parallel (`--jobs`).
 *
 * Verification restores the same way, so a backup that verifies is one that restores like this.
 */
export async function restoreDatabase(
  target: DatabaseTarget,
  fromFile: string,
  options: { clean?: boolean } & PgToolOptions = {},
): Promise<void> {
  const args = ['--no-owner', '--no-privileges', '--no-password', '--single-transaction', '--exit-on-error', `--dbname=${target.database}`];
  if (options.clean) args.push('--clean', '--if-exists');
  args.push(fromFile);
  await runPgTool('pg_restore', args, target, options);
}
