/**
 * Running pg_dump and pg_restore. The connection reaches them through PG* environment variables;
 * their stderr is redacted before it goes into an error. While they run, the activity heartbeats
 * so a dead worker is noticed, and a cancelled activity kills the program.
 */
import { spawn } from 'node:child_process';
import { currentActivity } from '../activity-context.js';
import { postgresBinary } from './postgres-programs.js';
import { libpqEnv, redact, type DatabaseTarget } from './connection.js';

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

/** Runs a PostgreSQL client program against the target; resolves with its stdout. */
export function runPgTool(
  program: 'pg_dump' | 'pg_restore',
  args: string[],
  target: DatabaseTarget,
): Promise<string> {
  const context = currentActivity(); // none when the CLI restores
  const binary = postgresBinary(program);
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, {
      env: { PATH: process.env.PATH, LANG: 'C', ...libpqEnv(target) },
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: context?.cancellationSignal,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-8000)));
    const beat = context ? setInterval(() => context.heartbeat(), 5_000) : undefined;
    child.on('error', (err) => {
      clearInterval(beat);
      reject(new PgToolError(`${program} could not run: ${redact(err.message, target)}`, null, ''));
    });
    child.on('close', (code) => {
      clearInterval(beat);
      const cleanErr = redact(stderr.trim(), target);
      if (code === 0) resolve(stdout);
      else reject(new PgToolError(`${program} failed (exit ${code}): ${lastLines(cleanErr, 6) || 'no output'}`, code, cleanErr));
    });
  });
}

function lastLines(text: string, n: number): string {
  return text.split('\n').slice(-n).join(' | ');
}

export async function pgDumpVersion(): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(postgresBinary('pg_dump'), ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', () => resolve(out.trim()));
    child.on('error', () => resolve('unknown'));
  });
}

/** `pg_dump --format=custom` of the target into a local file, inside an exported snapshot when given. */
export async function dumpDatabase(target: DatabaseTarget, toFile: string, snapshot?: string): Promise<void> {
  const args = ['--format=custom', '--no-password', `--file=${toFile}`];
  if (snapshot) args.push(`--snapshot=${snapshot}`);
  await runPgTool('pg_dump', args, target);
}

/**
 * `pg_restore` of a custom-format dump into the target database. `clean` drops the dump's objects
 * first (for a forced restore over existing data). Any restore error fails: a backup that restores
 * with errors is not one to trust.
 */
export async function restoreDatabase(target: DatabaseTarget, fromFile: string, options: { clean?: boolean } = {}): Promise<void> {
  const args = ['--no-owner', '--no-privileges', '--no-password', '--exit-on-error', `--dbname=${target.database}`];
  if (options.clean) args.push('--clean', '--if-exists');
  args.push(fromFile);
  await runPgTool('pg_restore', args, target);
}
