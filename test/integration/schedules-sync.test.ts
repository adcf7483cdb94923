/**
 * `schedules sync` on the real Temporal dev server when a step fails: what it changed before the
 * stop is reported, nothing is deleted before the schedules that stay are in place, and a schedule
 * held by another owner is taken over in place, never deleted to be recreated.
 */
import { randomBytes } from 'node:crypto';
import { Command } from 'commander';
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema, type SlipwayConfig } from '../../config/schema.js';
import { registerBackupCommands, type BackupCliContext } from '../../client/commands/backup.js';
import { CliExit } from '../../client/errors.js';
import { describeBackupSchedule, listSchedules, ScheduleSyncError, syncSchedules } from '../../client/schedules.js';
import { testClient, uniqueTaskQueue } from '../support/temporal.js';

const suffix = randomBytes(3).toString('hex');
const backupBlock = (schedule: string) => ({ schedule, postgres: { urlFromEnv: 'SOME_DB_URL' }, keep: 2 });

function configFor(app: string, environments: Array<{ name: string; schedule?: string }>): SlipwayConfig {
  return configSchema.parse({
    gitops: { url: 'file:///nowhere' },
    apps: {
      [app]: {
        images: ['todoapp/backend'],
        environments: environments.map((e) => ({
          name: e.name,
          overlay: `overlays/${e.name}`,
          argocd: { application: `${app}-${e.name}` },
          ...(e.schedule ? { backup: backupBlock(e.schedule) } : {}),
        })),
      },
    },
  });
}

/**
 * The same config with one environment's cron replaced by one the Temporal server refuses: a step
 * the server fails, in the middle of a sync (the config file's own check would have caught it).
 */
function withRefusedCron(config: SlipwayConfig, app: string, environment: string): SlipwayConfig {
  const copy = structuredClone(config);
  copy.apps[app]!.environments.find((e) => e.name === environment)!.backup!.schedule = '99 99 * * *';
  return copy;
}

async function exists(client: Client, scheduleId: string): Promise<boolean> {
  try {
    await client.schedule.getHandle(scheduleId).describe();
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}

/** The error a sync stopped with (asserted to be a ScheduleSyncError by the caller, after what matters more). */
async function syncError(promise: Promise<unknown>): Promise<ScheduleSyncError> {
  return (await promise.then(
    () => new Error('expected the sync to fail, and it succeeded'),
    (e: unknown) => e,
  )) as ScheduleSyncError;
}

describe('schedules sync that fails midway', () => {
  let client: Client;
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    client = await testClient();
  });
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    await client?.connection.close();
  });

  it('reports what it changed before it stopped, and deletes nothing when a create or update failed', async () => {
    const queue = uniqueTaskQueue('sync-midway');
    const app = `sync-mid-${suffix}`;
    cleanups.push(() => syncSchedules(client, configFor(app, [{ name: 'staging' }]), queue));
    const all = configFor(app, [
      { name: 'staging', schedule: '0 3 * * *' },
      { name: 'production', schedule: '0 4 * * *' },
      { name: 'qa', schedule: '0 5 * * *' },
    ]);
    expect((await syncSchedules(client, all, queue)).created).toEqual([`backup/${app}/staging`, `backup/${app}/production`, `backup/${app}/qa`]);
    await expect.poll(async () => (await listSchedules(client, queue)).length, { timeout: 15_000 }).toBe(3);

    // staging changes, production's update is refused, qa's backup: block is gone.
    const next = withRefusedCron(configFor(app, [{ name: 'staging', schedule: '30 3 * * *' }, { name: 'production', schedule: '0 4 * * *' }, { name: 'qa' }]), app, 'production');
    const err = await syncError(syncSchedules(client, next, queue));
    expect(err.report, String(err)).toEqual({ created: [], updated: [`backup/${app}/staging`], deleted: [], unchanged: [] });
    expect(err.scheduleId).toBe(`backup/${app}/production`);
    expect(err.step).toBe('update');
    expect(err).toBeInstanceOf(ScheduleSyncError);
    expect(err.message).toMatch(new RegExp(`^schedules sync stopped at backup/${app}/production \\(update\\): .+`));
    // What was changed is there; what was not reached is as it was; nothing was deleted.
    expect((await describeBackupSchedule(client, app, 'staging')).cron).toBe('30 3 * * *');
    expect((await describeBackupSchedule(client, app, 'production')).cron).toBe('0 4 * * *');
    expect(await exists(client, `backup/${app}/qa`)).toBe(true);

    // A create the server refuses stops the sync the same way, after the ones before it.
    const withNew = withRefusedCron(
      configFor(app, [{ name: 'staging', schedule: '30 3 * * *' }, { name: 'production', schedule: '15 4 * * *' }, { name: 'preview', schedule: '0 6 * * *' }, { name: 'qa' }]),
      app,
      'preview',
    );
    const created = await syncError(syncSchedules(client, withNew, queue));
    expect(created.report).toEqual({ created: [], updated: [`backup/${app}/production`], deleted: [], unchanged: [`backup/${app}/staging`] });
    expect([created.scheduleId, created.step]).toEqual([`backup/${app}/preview`, 'create']);
    expect(await exists(client, `backup/${app}/qa`)).toBe(true);
  });

  it('the CLI prints what changed before the stop, then the failure, and exits 1', async () => {
    const queue = uniqueTaskQueue('sync-cli');
    const app = `sync-cli-${suffix}`;
    cleanups.push(() => syncSchedules(client, configFor(app, [{ name: 'staging' }]), queue));
    const config = withRefusedCron(configFor(app, [{ name: 'staging', schedule: '0 3 * * *' }, { name: 'production', schedule: '0 4 * * *' }]), app, 'production');
    const printed: string[] = [];
    const json: unknown[] = [];
    const run = async (asJson: boolean) => {
      const program = new Command().exitOverride();
      const ctx: BackupCliContext = {
        loadConfig: async () => config,
        client: async () => client,
        taskQueue: queue,
        json: asJson,
        print: (t) => printed.push(t),
        printJson: (v) => json.push(v),
      };
      registerBackupCommands(program, () => ctx);
      return program.parseAsync(['node', 'slipway', 'schedules', 'sync']).then(
        () => new Error('expected schedules sync to fail'),
        (e: unknown) => e,
      );
    };

    const err = await run(false);
    expect(err).toBeInstanceOf(CliExit);
    expect((err as CliExit).code).toBe(1);
    expect(printed).toEqual([`created: backup/${app}/staging`]);
    expect((err as CliExit).message).toMatch(new RegExp(`^error: schedules sync stopped at backup/${app}/production \\(create\\): .+; nothing after it was changed$`));

    const again = await run(true);
    expect((again as CliExit).code).toBe(1);
    expect(json).toEqual([
      {
        created: [],
        updated: [],
        deleted: [],
        unchanged: [`backup/${app}/staging`],
        stoppedAt: { scheduleId: `backup/${app}/production`, step: 'create', reason: expect.any(String) },
      },
    ]);
  });

  it('takes over a schedule another owner holds in place: never deleted, kept as it was when the update fails, a pause kept when it succeeds', async () => {
    const queue = uniqueTaskQueue('sync-takeover');
    const other = uniqueTaskQueue('sync-other-install');
    const app = `sync-own-${suffix}`;
    const scheduleId = `backup/${app}/production`;
    cleanups.push(() => client.schedule.getHandle(scheduleId).delete());
    // As another Slipway install (another task queue) wrote it, and a person paused it.
    await client.schedule.create({
      scheduleId,
      spec: { cronExpressions: ['0 1 * * *'] },
      action: { type: 'startWorkflow', workflowType: 'backup', workflowId: scheduleId, taskQueue: other, args: [{}], memo: { slipwayDesiredHash: 'theirs', slipwayCron: '0 1 * * *' } },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
      memo: { slipway: 'slipway-backup-schedule', taskQueue: other, app, environment: 'production' },
      state: { paused: true, note: 'db maintenance' },
    });
    const wanted = configFor(app, [{ name: 'production', schedule: '0 4 * * *' }]);

    const err = await syncError(syncSchedules(client, withRefusedCron(wanted, app, 'production'), queue));
    expect(await exists(client, scheduleId), `after ${String(err)}`).toBe(true);
    const kept = await client.schedule.getHandle(scheduleId).describe();
    expect(kept.action.type === 'startWorkflow' && kept.action.taskQueue).toBe(other);
    expect(kept.state).toMatchObject({ paused: true, note: 'db maintenance' });
    expect(err).toBeInstanceOf(ScheduleSyncError);
    expect([err.scheduleId, err.step]).toEqual([scheduleId, 'update']);

    expect(await syncSchedules(client, wanted, queue)).toEqual({ created: [], updated: [scheduleId], deleted: [], unchanged: [] });
    const taken = await client.schedule.getHandle(scheduleId).describe();
    expect(taken.action.type === 'startWorkflow' && taken.action.taskQueue).toBe(queue);
    expect(taken.state).toMatchObject({ paused: true, note: 'db maintenance' });
    expect((await describeBackupSchedule(client, app, 'production')).cron).toBe('0 4 * * *');
    expect(await syncSchedules(client, wanted, queue)).toEqual({ created: [], updated: [], deleted: [], unchanged: [scheduleId] });

    // It is this queue's now: the other install no longer lists it, and this one removes it when its backup: goes.
    await expect.poll(async () => (await listSchedules(client, queue)).map((s) => s.scheduleId), { timeout: 15_000 }).toEqual([scheduleId]);
    expect((await listSchedules(client, other)).map((s) => s.scheduleId)).not.toContain(scheduleId);
    expect(await syncSchedules(client, configFor(app, [{ name: 'production' }]), queue)).toEqual({ created: [], updated: [], deleted: [scheduleId], unchanged: [] });
    expect(await exists(client, scheduleId)).toBe(false);
  });
});
