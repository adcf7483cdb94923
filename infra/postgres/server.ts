/**
 * A throwaway PostgreSQL server for tests and the demo: `initdb` in a temp folder, started with
 * `pg_ctl` on a free loopback port, its unix socket inside the temp folder so it never touches
 * /var/run/postgresql. PostgreSQL refuses to run as root, so as root the server runs as the
 * `postgres` user (Debian's package creates it) and the folder is handed to that user.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresBinary } from '../../activities/backup/postgres-programs.js';
import { freePort } from '../ports.js';

export interface RunningPostgres {
  /** postgresql://postgres[:password]@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  dataDir: string;
  /** Stops the server (fast shutdown), waits until its processes are gone, removes the temp folder. */
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Require this password over TCP (scram-sha-256); without it, loopback connections are trusted. */
  password?: string;
}

interface RunAs {
  uid: number;
  gid: number;
  /** Prefix that runs a command as that user (empty when we are not root). */
  prefix: string[];
}

function runAsServerUser(): RunAs {
  if (process.getuid?.() !== 0) return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, prefix: [] };
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const uid = id('-u');
  const gid = id('-g');
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error('running as root but there is no "postgres" user to run PostgreSQL as (install Debian\'s postgresql package)');
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()), prefix: ['runuser', '-u', 'postgres', '--'] };
}

function run(runAs: RunAs, argv: string[], what: string): Promise<void> {
  const [command, ...args] = [...runAs.prefix, ...argv];
  return new Promise((resolve, reject) => {
    // cwd in the temp folder: the postgres user may not be allowed into ours.
    const child = spawn(command!, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: tmpdir() });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (err) => reject(new Error(`${what}: ${err.message}`)));
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${what} failed (exit ${code}):\n${output.trim().slice(-2000)}`)),
    );
  });
}

export async function startPostgres(options: StartPostgresOptions = {}): Promise<RunningPostgres> {
  const runAs = runAsServerUser();
  const root = mkdtempSync(join(tmpdir(), 'slipway-pg-'));
  const dataDir = join(root, 'data');
  const logFile = join(root, 'server.log');
  chownSync(root, runAs.uid, runAs.gid);

  const initdbArgs = [postgresBinary('initdb'), '-D', dataDir, '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync'];
  if (options.password) {
    const pwfile = join(root, 'pwfile');
    writeFileSync(pwfile, `${options.password}\n`, { mode: 0o600 });
    chownSync(pwfile, runAs.uid, runAs.gid);
    initdbArgs.push('--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${pwfile}`);
  } else {
    initdbArgs.push('--auth=trust');
  }
  try {
    await run(runAs, initdbArgs, 'initdb');
    if (options.password) rmSync(join(root, 'pwfile'), { force: true });
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }

  // A port can be taken between freePort() and the server binding it: try a few.
  let port = 0;
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    port = await freePort();
    const serverOptions = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`;
    try {
      await run(runAs, [postgresBinary('pg_ctl'), '-D', dataDir, '-l', logFile, '-o', serverOptions, '-w', '-t', '60', 'start'], 'pg_ctl start');
      lastError = undefined;
      break;
    } catch (err) {
      lastError = err;
    }
  }
  if (lastError) {
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : '';
    rmSync(root, { recursive: true, force: true });
    throw new Error(`${(lastError as Error).message}\n${log}`);
  }

  // If the test process dies without calling stop(), do not leave a server behind.
  const stopSync = () => {
    spawnSync(runAs.prefix[0] ?? postgresBinary('pg_ctl'), [...runAs.prefix.slice(1), ...(runAs.prefix.length ? [postgresBinary('pg_ctl')] : []), '-D', dataDir, '-m', 'immediate', '-w', 'stop'], { stdio: 'ignore' });
  };
  process.once('exit', stopSync);

  const credentials = options.password ? `postgres:${encodeURIComponent(options.password)}` : 'postgres';
  let stopped = false;
  return {
    url: `postgresql://${credentials}@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    async stop() {
      if (stopped) return;
      stopped = true;
      process.removeListener('exit', stopSync);
      try {
        await run(runAs, [postgresBinary('pg_ctl'), '-D', dataDir, '-m', 'fast', '-w', '-t', '60', 'stop'], 'pg_ctl stop');
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}
