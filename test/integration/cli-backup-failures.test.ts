/**
 * The CLI, run from source against the real Temporal dev server and a worker whose environment's
 * database is down: `backup run` and `schedules trigger --wait` print why the backup failed (the
 * workflow's own failure, type and message), not the client's "Workflow execution failed".
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackupActivities, DirectoryBackupStore } from '../../activities/backup/index.js';
import type { NotifyInput } from '../../activities/types.js';
import { configSchema } from '../../config/schema.js';
import { freePort } from '../../infra/ports.js';
import { syncSchedules } from '../../client/schedules.js';
import { TestPolicy } from '../support/policy.js';
import { startTestWorker, testClient, type RunningWorker } from '../support/temporal.js';
import { runCliFromSource, type CliRun } from '../support/cli-from-source.js';

const suffix = randomBytes(3).toString('hex');
const APP = `bk-cli-${suffix}`;
const DOWN_ENV = `SLIPWAY_TEST_CLI_DOWN_DB_${suffix.toUpperCase()}`;

const rawConfig = (withBackup: boolean) => ({
  gitops: { url: 'file:///nowhere' },
  apps: {
    [APP]: {
      images: ['todoapp/backend'],
      environments: [
        {
          name: 'staging',
          overlay: 'overlays/staging',
          argocd: { application: `${APP}-staging` },
          ...(withBackup ? { backup: { schedule: '30 2 * * *', postgres: { urlFromEnv: DOWN_ENV }, keep: 2 } } : {}),
        },
      ],
    },
  },
});

describe('CLI commands that wait on a backup workflow', () => {
  let dir: string;
  let configFile: string;
  let downUrl: string;
  let client: Client;
  let worker: RunningWorker;

  /** `slipway …` from source, as a person runs it; asynchronous, so the worker in this process keeps working. */
  function cli(...args: string[]): Promise<CliRun> {
    return runCliFromSource(['--config', configFile, ...args], { SLIPWAY_TASK_QUEUE: worker.taskQueue, [DOWN_ENV]: downUrl });
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-cli-failures-'));
    configFile = join(dir, 'slipway.yaml');
    await writeFile(configFile, JSON.stringify(rawConfig(true)));
    // Nothing listens here: the environment's database is down.
    downUrl = `postgresql://postgres:pw@127.0.0.1:${await freePort()}/gone`;
    process.env[DOWN_ENV] = downUrl;
    client = await testClient();
    const store = new DirectoryBackupStore(join(dir, 'backups'));
    worker = await startTestWorker(
      {
        ...createBackupActivities({ store }),
        async notify(input: NotifyInput) {
          return { delivered: input.channels.length, failed: 0 };
        },
      },
      undefined,
      TestPolicy.fromText(JSON.stringify(rawConfig(true))).store,
    );
  });

  afterAll(async () => {
    if (client && worker) await syncSchedules(client, configSchema.parse(rawConfig(false)), worker.taskQueue).catch(() => undefined);
    await worker?.stop();
    await client?.connection.close();
    delete process.env[DOWN_ENV];
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const reason = new RegExp(
    `BackupFailed: backup of ${APP}/staging failed while taking the dump: cannot reach the database at 127\\.0\\.0\\.1:\\d+/gone \\(URL from ${DOWN_ENV}\\)`,
  );

  it('backup run prints the backup workflow\'s failure and exits 1', async () => {
    const run = await cli('backup', 'run', APP, 'staging');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^error: backup of ${APP}/staging failed: ${reason.source}`));
    expect(run.stderr).not.toMatch(/Workflow execution failed/);
    expect(run.stderr).not.toContain(':pw@');
  });

  it('schedules trigger --wait prints the scheduled run\'s failure, naming the run, and exits 1', async () => {
    const synced = await cli('schedules', 'sync');
    expect(synced).toMatchObject({ code: 0, stdout: `created: backup/${APP}/staging\n` });
    const run = await cli('schedules', 'trigger', APP, 'staging', '--wait');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^error: backup of ${APP}/staging \\(backup/${APP}/staging-[^)]+\\) failed: ${reason.source}`));
    expect(run.stderr).not.toMatch(/Workflow execution failed/);

    const json = await cli('--json', 'schedules', 'trigger', APP, 'staging', '--wait');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ outcome: 'failed', workflowId: expect.stringMatching(`^backup/${APP}/staging-`), failure: { type: 'BackupFailed' } });
  });
});
