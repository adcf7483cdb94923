/**
 * `slipway schedules …` and `slipway backup …`: the backup schedules kept in step with
 * slipway.yaml, and the backups themselves.
 *
 * No connection string is ever typed: `--into` takes a database name on the environment's own
 * server, or the name of an env var that holds a URL. Restoring over the environment's own
 * database takes `--force --confirm <its name>`; template and system databases (template0,
 * template1, postgres, any the server marks as a template) are refused outright, exit 2; every
 * restore runs as one transaction.
 */
import type { Command } from 'commander';
import type { SlipwayConfig } from '../../config/schema.js';
import { BackupStoreConfigError, defaultBackupStore, parseDatabaseUrl, withDatabase, type BackupStore } from '../../activities/backup/index.js';
import { databaseIdentity, withClient } from '../../activities/backup/pg-client.js';
import { refuseSystemDatabase, RestoreTargetRefused } from '../../activities/backup/system-databases.js';
import { listBackups, restoreBackup, runBackupNow } from '../backups.js';
import type { backup as backupWorkflow } from '../../workflows/backup.js';
import type { CliContext } from '../context.js';
import { CliExit, EXIT_FAILED, EXIT_USAGE } from '../errors.js';
import { failureText, innermostFailure } from '../failure-text.js';
import {
  desiredBackupSchedules,
  listSchedules,
  pauseSchedule,
  ScheduleSyncError,
  syncSchedules,
  triggerSchedule,
  unpauseSchedule,
  type SyncReport,
} from '../schedules.js';

/** The part of the CLI context these commands use. */
export type BackupCliContext = Pick<CliContext, 'loadConfig' | 'client' | 'taskQueue' | 'json' | 'print' | 'printJson'>;

/** Where the commands find backups and the env vars `--into` names; the worker's defaults when absent. */
export interface BackupCommandSources {
  /** The worker's store from the same variables (defaultBackupStore: S3 bucket or folder) when absent. */
  store?(): BackupStore;
  env?: NodeJS.ProcessEnv;
}

const ENV_VAR = /^[A-Z_][A-Z0-9_]*$/;
const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/;

/**
 * The URL to restore into: an env var name (all capitals) is read from the environment; anything
 * else is a database name on the same server as the environment's own database.
 */
export function resolveRestoreTarget(
  into: string | undefined,
  sourceUrlFromEnv: string,
  env: NodeJS.ProcessEnv = process.env,
): { url: string; description: string } {
  if (!into) {
    throw new Error('name the database to restore into with --into <database name> or --into <ENV_VAR holding a URL>');
  }
  if (ENV_VAR.test(into)) {
    const url = env[into];
    if (!url) throw new Error(`--into ${into}: no such environment variable is set (it must hold the target PostgreSQL URL)`);
    return { url, description: `${parseDatabaseUrl(url, into).label} (from ${into})` };
  }
  if (!DATABASE_NAME.test(into)) throw new Error(`--into ${into}: expected a database name or an environment variable name`);
  const sourceUrl = env[sourceUrlFromEnv];
  if (!sourceUrl) throw new Error(`${sourceUrlFromEnv} is not set: it names the server to restore ${into} on`);
  const target = withDatabase(parseDatabaseUrl(sourceUrl, sourceUrlFromEnv), into);
  return { url: target.url, description: target.label };
}

/** Whether two URLs name the same database as written: host (case aside), port and database name. */
export function sameDatabaseAsWritten(a: string, b: string): boolean {
  const x = parseDatabaseUrl(a, 'a');
  const y = parseDatabaseUrl(b, 'b');
  return x.host.toLowerCase() === y.host.toLowerCase() && x.port === y.port && x.database === y.database;
}

/** Whether two URLs reach the same database, asked of the server; undefined when either cannot be reached. */
async function sameDatabaseOnServer(a: string, b: string): Promise<boolean | undefined> {
  const identity = (url: string) =>
    withClient(parseDatabaseUrl(url, 'the restore target'), 'checking which database the target is', databaseIdentity, { timeoutMs: 15_000 });
  try {
    const [x, y] = await Promise.all([identity(a), identity(b)]);
    return x === y;
  } catch {
    return undefined; // a target that does not exist yet is not the environment's own
  }
}

export interface RestoreConfirmation {
  app: string;
  environment: string;
  targetUrl: string;
  /** The URL of the environment's own database, when this shell has it. */
  ownUrl?: string;
  ownFromEnv: string;
  force: boolean;
  confirm?: string;
}

/**
 * A restore over the environment's own database replaces the very data the backup protects, so
 * `--force` (which any restore over tables needs) is not enough: `--confirm` must name the
 * database. "Own" is decided first as written (the same name on the same server, or the env var
 * itself) and then by asking the server, so another host name for the same database is caught
 * too. Refuses before anything is written; the only contact with a database is a read.
 */
export async function checkRestoreConfirmation(c: RestoreConfirmation): Promise<void> {
  const database = parseDatabaseUrl(c.targetUrl, 'the restore target').database;
  const own = c.ownUrl !== undefined && (sameDatabaseAsWritten(c.targetUrl, c.ownUrl) || (await sameDatabaseOnServer(c.targetUrl, c.ownUrl)) === true);
  if (own && (!c.force || c.confirm !== database)) {
    throw new Error(
      `--into names ${c.app}/${c.environment}'s own database (${database}, the one ${c.ownFromEnv} names): ` +
        `a restore replaces its data with the backup's. To do that, pass --force --confirm ${database}` +
        (c.confirm !== undefined && c.confirm !== database ? ` (--confirm ${c.confirm} does not name it)` : ''),
    );
  }
  if (c.confirm !== undefined && c.confirm !== database) {
    throw new Error(`--confirm ${c.confirm} does not name the target database ${database}`);
  }
}

/** `created: a, b` lines, one per kind of change that happened. */
export function syncReportLines(report: SyncReport): string[] {
  return (['created', 'updated', 'deleted', 'unchanged'] as const).filter((k) => report[k].length > 0).map((k) => `${k}: ${report[k].join(', ')}`);
}

/**
 * Waits for a backup workflow's result; a failure ends the command with the workflow's own reason
 * (the innermost ApplicationFailure's type and message), not the client's "Workflow execution failed".
 */
async function backupOutcome<T>(ctx: BackupCliContext, what: string, workflowId: string | undefined, result: () => Promise<T>): Promise<T> {
  try {
    return await result();
  } catch (err) {
    const text = failureText(err);
    if (ctx.json) ctx.printJson({ outcome: 'failed', ...(workflowId ? { workflowId } : {}), failure: innermostFailure(err) });
    throw new CliExit(EXIT_FAILED, `error: ${what}${workflowId ? ` (${workflowId})` : ''} failed: ${text}`);
  }
}

function backupSettings(config: SlipwayConfig, app: string, environment: string) {
  const desired = desiredBackupSchedules(config).find((d) => d.app === app && d.environment === environment);
  if (!desired) throw new Error(`${app}/${environment} has no backup: block in slipway.yaml`);
  return desired;
}

export function registerBackupCommands(program: Command, context: () => BackupCliContext, sources: BackupCommandSources = {}): void {
  const vars = sources.env ?? process.env;
  // The same choice the worker makes from the same variables; a half-configured store is a usage error.
  const store = () => {
    if (sources.store) return sources.store();
    try {
      return defaultBackupStore(vars);
    } catch (err) {
      throw err instanceof BackupStoreConfigError ? new CliExit(EXIT_USAGE, `error: ${err.message}`) : err;
    }
  };
  const out = (value: unknown, text: () => string) => {
    const ctx = context();
    if (ctx.json) ctx.printJson(value);
    else ctx.print(text());
  };

  const schedules = program.command('schedules').description('Temporal Schedules that back up environments, from slipway.yaml');

  schedules
    .command('sync')
    .description('create, update and delete backup schedules to match slipway.yaml')
    .action(async () => {
      const ctx = context();
      const client = await ctx.client();
      const config = await ctx.loadConfig();
      let report: SyncReport;
      try {
        report = await syncSchedules(client, config, ctx.taskQueue);
      } catch (err) {
        if (!(err instanceof ScheduleSyncError)) throw err;
        // What changed before the stop is said either way: a rerun starts from there.
        const stoppedAt = { scheduleId: err.scheduleId, step: err.step, reason: failureText(err.cause) };
        if (ctx.json) ctx.printJson({ ...err.report, stoppedAt });
        else for (const line of syncReportLines(err.report)) ctx.print(line);
        throw new CliExit(EXIT_FAILED, `error: schedules sync stopped at ${err.scheduleId} (${err.step}): ${stoppedAt.reason}; nothing after it was changed`);
      }
      out(report, () => syncReportLines(report).join('\n') || 'no backup schedules in slipway.yaml');
    });

  schedules
    .command('list')
    .description('backup schedules, their next and last runs')
    .action(async () => {
      const ctx = context();
      const infos = await listSchedules(await ctx.client(), ctx.taskQueue);
      out(infos, () =>
        infos.length === 0
          ? 'no backup schedules (run "slipway schedules sync")'
          : infos
              .map(
                (s) =>
                  `${s.scheduleId}  ${s.cron ?? '?'} UTC  ${s.paused ? `PAUSED${s.note ? ` (${s.note})` : ''}` : 'active'}` +
                  `  next: ${s.nextRuns[0]?.toISOString() ?? '-'}  last: ${s.lastRun ? `${s.lastRun.at.toISOString()} ${s.lastRun.workflowId}` : '-'}`,
              )
              .join('\n'),
      );
    });

  for (const [verb, description, act, done] of [
    ['pause', 'stop scheduled backups of an environment until unpaused', pauseSchedule, 'paused backups of'],
    ['unpause', 'resume scheduled backups of an environment', unpauseSchedule, 'resumed backups of'],
  ] as const) {
    schedules
      .command(`${verb} <app> <env>`)
      .description(description)
      .option('--note <text>', 'why, shown in the Temporal UI')
      .action(async (app: string, env: string, opts: { note?: string }) => {
        await act(await context().client(), app, env, opts.note);
        out({ [`${verb}d`]: `${app}/${env}` }, () => `${done} ${app}/${env}`);
      });
  }

  schedules
    .command('trigger <app> <env>')
    .description('run the schedule now (through Temporal, like a scheduled run)')
    .option('--wait', 'wait for the backup to finish')
    .action(async (app: string, env: string, opts: { wait?: boolean }) => {
      const ctx = context();
      const client = await ctx.client();
      const started = await triggerSchedule(client, app, env);
      if (!opts.wait) return out(started, () => `started ${started.workflowId}`);
      const handle = client.workflow.getHandle<typeof backupWorkflow>(started.workflowId, started.runId);
      const result = await backupOutcome(ctx, `backup of ${app}/${env}`, started.workflowId, () => handle.result());
      out({ ...started, result }, () => `${started.workflowId}: backup ${result.backupId} verified (${result.tables} tables, ${result.rows} rows)`);
    });

  const backup = program.command('backup').description('database backups of environments');

  backup
    .command('list <app> <env>')
    .description('stored backups, newest first')
    .action(async (app: string, env: string) => {
      const backups = await listBackups(store(), app, env);
      out(backups, () =>
        backups.length === 0
          ? `no backups of ${app}/${env}`
          : backups
              .map((b) => `${b.id}  ${b.verified ? 'verified' : `UNVERIFIED (${b.problem})`}  ${b.size ?? '?'} bytes  ${b.tables ?? '?'} tables  ${b.rows ?? '?'} rows`)
              .join('\n'),
      );
    });

  backup
    .command('run <app> <env>')
    .description('back up an environment now and wait for the verified result')
    .action(async (app: string, env: string) => {
      const ctx = context();
      const client = await ctx.client();
      const config = await ctx.loadConfig();
      const { workflowId, result } = await backupOutcome(ctx, `backup of ${app}/${env}`, undefined, () => runBackupNow(client, config, app, env, ctx.taskQueue));
      out({ workflowId, ...result }, () => `${workflowId}: backup ${result.backupId} verified (${result.tables} tables, ${result.rows} rows, ${result.size} bytes)`);
    });

  backup
    .command('restore <app> <env>')
    .description('restore a verified backup into a database you name')
    .option('--id <backup>', 'the backup to restore (default: the newest verified one)')
    .option('--into <database-or-ENV_VAR>', 'a database name on the environment\'s server (created if missing), or an env var holding a URL')
    .option('--force', 'restore into a database that already has tables (the backup\'s objects are dropped and recreated, in one transaction)')
    .option('--confirm <database>', 'the name of the environment\'s own database, to restore over it (with --force)')
    .action(async (app: string, env: string, opts: { id?: string; into?: string; force?: boolean; confirm?: string }) => {
      const settings = backupSettings(await context().loadConfig(), app, env);
      const target = resolveRestoreTarget(opts.into, settings.input.databaseUrlFromEnv, vars);
      // First: no flag makes a template or system database a target, so say that before anything else.
      await refuseSystemDatabase(parseDatabaseUrl(target.url, 'the restore target')).catch((err: unknown) => {
        throw err instanceof RestoreTargetRefused ? new CliExit(EXIT_USAGE, `error: ${err.message}`) : err;
      });
      await checkRestoreConfirmation({
        app,
        environment: env,
        targetUrl: target.url,
        ownUrl: vars[settings.input.databaseUrlFromEnv],
        ownFromEnv: settings.input.databaseUrlFromEnv,
        force: Boolean(opts.force),
        confirm: opts.confirm,
      });
      const result = await restoreBackup({
        store: store(),
        app,
        environment: env,
        backupId: opts.id,
        intoUrl: target.url,
        force: Boolean(opts.force),
      });
      out(result, () => `restored backup ${result.backupId} into ${result.into}: ${result.tables} tables, ${result.rows} rows, counts match`);
    });
}
