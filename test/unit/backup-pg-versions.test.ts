import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgDumpTooOld } from '../../activities/backup/activities.js';
import { parseDatabaseUrl } from '../../activities/backup/connection.js';
import { probePgDump } from '../../activities/backup/pg-tools.js';
import { canDump, canRestoreInto, majorFromVersionNum, majorFromVersionText, type PgMajor } from '../../activities/backup/pg-versions.js';
import { debianMajors, postgresBinary } from '../../activities/backup/postgres-programs.js';

const major = (text: string): PgMajor => majorFromVersionText(text)!;

describe('PostgreSQL major versions', () => {
  it('reads the major of server_version_num, one number from 10 on and two before', () => {
    expect(majorFromVersionNum(150018)).toEqual({ num: 150000, label: '15' });
    expect(majorFromVersionNum(100000)).toEqual({ num: 100000, label: '10' });
    expect(majorFromVersionNum(90624)).toEqual({ num: 90600, label: '9.6' });
    expect(majorFromVersionNum(Number('not a number'))).toBeUndefined();
    expect(majorFromVersionNum(0)).toBeUndefined();
  });

  it('reads the major of a version as the server shows it and as pg_dump --version prints it', () => {
    expect(majorFromVersionText('pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)')).toEqual({ num: 150000, label: '15' });
    expect(majorFromVersionText('pg_dump (PostgreSQL) 9.6.0')).toEqual({ num: 90600, label: '9.6' });
    expect(majorFromVersionText('16.4 (Debian 16.4-1.pgdg120+1)')).toEqual({ num: 160000, label: '16' });
    expect(majorFromVersionText('17beta2')).toEqual({ num: 170000, label: '17' });
    expect(majorFromVersionText('unknown')).toBeUndefined();
  });

  it('a pg_dump dumps servers of its own major and older, never newer ones', () => {
    expect(canDump(major('15.18'), major('15.2'))).toBe(true);
    expect(canDump(major('17.6'), major('16.4'))).toBe(true);
    expect(canDump(major('15.18'), major('16.0'))).toBe(false);
    expect(canDump(major('9.6.24'), major('10.1'))).toBe(false);
    expect(canDump(major('9.6.0'), major('9.5.3'))).toBe(true);
  });

  it('a dump restores into a server of its source major or newer, never an older one', () => {
    expect(canRestoreInto(major('16.4'), major('17.1'))).toBe(true);
    expect(canRestoreInto(major('16.4'), major('16.0'))).toBe(true);
    expect(canRestoreInto(major('16.4'), major('15.18'))).toBe(false);
  });
});

describe('pgDumpTooOld', () => {
  const target = parseDatabaseUrl('postgresql://backup:s3cret-pw@db.prod:5432/shop', 'PROD_DATABASE_URL');
  const server = { major: major('16.4'), version: '16.4 (Debian 16.4-1.pgdg120+1)' };

  it('says nothing for a pg_dump as new as the server or newer, or one that cannot tell its version', () => {
    expect(pgDumpTooOld({ path: '/usr/lib/postgresql/16/bin/pg_dump', version: 'pg_dump (PostgreSQL) 16.1', major: major('16.1') }, server, target, {})).toBeUndefined();
    expect(pgDumpTooOld({ path: '/usr/lib/postgresql/17/bin/pg_dump', version: 'pg_dump (PostgreSQL) 17.6', major: major('17.6') }, server, target, {})).toBeUndefined();
    expect(pgDumpTooOld({ path: 'pg_dump', version: 'unknown' }, server, target, {})).toBeUndefined();
  });

  it('refuses an older one, non-retryably, naming both versions, the binary, the server and the fix, and no secret', () => {
    const failure = pgDumpTooOld(
      { path: '/usr/lib/postgresql/15/bin/pg_dump', version: 'pg_dump (PostgreSQL) 15.18', major: major('15.18') },
      server,
      target,
      {},
    ) as ApplicationFailure;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.type).toBe('PgDumpTooOld');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toBe(
      'pg_dump at /usr/lib/postgresql/15/bin/pg_dump is PostgreSQL 15 (pg_dump (PostgreSQL) 15.18), older than the server it was to dump: ' +
        'db.prod:5432/shop (URL from PROD_DATABASE_URL) runs PostgreSQL 16 (16.4 (Debian 16.4-1.pgdg120+1)). pg_dump refuses servers newer than ' +
        'itself, so nothing was dumped. Give the worker a client at least as new: install postgresql-client-16 (Debian puts it in ' +
        '/usr/lib/postgresql/16/bin, and the newest installed is used), or set SLIPWAY_PG_BIN to the bin folder of a newer one',
    );
    expect(failure.message).not.toContain('s3cret-pw');
  });

  it('names SLIPWAY_PG_BIN as the choice in force when it is set', () => {
    const failure = pgDumpTooOld({ path: '/opt/pg15/bin/pg_dump', version: 'pg_dump (PostgreSQL) 15.18', major: major('15.18') }, server, target, {
      SLIPWAY_PG_BIN: '/opt/pg15/bin',
    })!;
    expect(failure.message).toMatch(/or point SLIPWAY_PG_BIN \(now \/opt\/pg15\/bin\) at the bin folder of a newer one$/);
  });
});

describe('which PostgreSQL programs run', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'slipway-pg-programs-'));
    // Three majors installed: 17 without its client programs, 16 and 9.6 with them.
    for (const [majorDir, programs] of [
      ['17', ['postgres']],
      ['16', ['pg_dump', 'pg_restore', 'postgres']],
      ['9.6', ['pg_dump', 'pg_restore']],
    ] as const) {
      await mkdir(join(root, majorDir, 'bin'), { recursive: true });
      for (const program of programs) await writeFile(join(root, majorDir, 'bin', program), '#!/bin/sh\n', { mode: 0o755 });
    }
    await mkdir(join(root, 'not-a-major', 'bin'), { recursive: true });
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('lists the installed majors newest first, by number', () => {
    expect(debianMajors(root)).toEqual(['17', '16', '9.6']);
    expect(debianMajors(join(root, 'nowhere'))).toEqual([]);
  });

  it('takes each program from the newest major that has it', () => {
    expect(postgresBinary('postgres', {}, root)).toBe(join(root, '17', 'bin', 'postgres'));
    expect(postgresBinary('pg_dump', {}, root)).toBe(join(root, '16', 'bin', 'pg_dump'));
  });

  it('takes SLIPWAY_PG_BIN as the operator gave it, over any newer major', () => {
    expect(postgresBinary('pg_dump', { SLIPWAY_PG_BIN: join(root, '9.6', 'bin') }, root)).toBe(join(root, '9.6', 'bin', 'pg_dump'));
  });

  it('fails naming what to install when the program is nowhere', () => {
    expect(() => postgresBinary('pg_dump', { SLIPWAY_PG_BIN: join(root, 'nowhere'), PATH: '' }, root)).toThrow(
      /pg_dump not found in SLIPWAY_PG_BIN \(.*nowhere\): install PostgreSQL/,
    );
  });

  it('asks the chosen pg_dump for its version, and says unknown when it cannot answer', async () => {
    const dir = await mkdtemp(join(root, 'bin-'));
    const pgDump = join(dir, 'pg_dump');
    await writeFile(pgDump, '#!/bin/sh\necho "pg_dump (PostgreSQL) 16.4 (Debian 16.4-1.pgdg120+1)"\n');
    await chmod(pgDump, 0o755);
    expect(await probePgDump({ SLIPWAY_PG_BIN: dir, PATH: process.env.PATH })).toEqual({
      path: pgDump,
      version: 'pg_dump (PostgreSQL) 16.4 (Debian 16.4-1.pgdg120+1)',
      major: { num: 160000, label: '16' },
    });
    await writeFile(pgDump, '#!/bin/sh\nexit 3\n');
    expect(await probePgDump({ SLIPWAY_PG_BIN: dir, PATH: process.env.PATH })).toEqual({ path: pgDump, version: 'unknown' });
  });
});
