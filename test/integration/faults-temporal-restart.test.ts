/**
 * The Temporal server itself stopped in the middle of a release and started again on its
 * persistent database file (same port, so the address stays): the release completes, with one
 * commit per environment and one tag. This test runs its own dev server, not the suite's shared
 * one. The worker is kept running by a small supervisor: if it dies with the server, a new worker
 * process takes over once the server answers again.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, expect, inject, it } from 'vitest';
import { startDevServer, type DevServer } from '../../infra/temporal/dev-server.js';
import { freePort } from '../../infra/ports.js';
import { releaseStatusQuery } from '../../workflows/messages.js';
import { STAGING_AND_PRODUCTION, commitSha, eventually, newWorld, pipelineFromYaml, startRelease, uniqueApp } from '../support/pipelines.js';
import { suitePolicy } from '../support/policy.js';
import { uniqueTaskQueue } from '../support/temporal.js';
import { isRunning, killWorker, startWorkerProcess, type WorkerProcessEnv } from '../support/worker-processes.js';

let server: DevServer | undefined;
let supervising = true;
let worker: ChildProcess | undefined;
afterAll(async () => {
  supervising = false;
  if (worker) await killWorker(worker);
  await server?.stop();
});

/** Keeps one worker process alive: whenever it exits, starts another (retrying while the server is down). */
async function superviseWorker(env: WorkerProcessEnv, onStart: () => void): Promise<void> {
  while (supervising) {
    try {
      const child = await startWorkerProcess(env);
      worker = child;
      onStart();
      if (isRunning(child)) await new Promise((resolve) => child.once('exit', resolve));
    } catch {
      await new Promise((r) => setTimeout(r, 500)); // the server is not back yet
    }
  }
}

async function connect(address: string): Promise<Client> {
  return new Client({ connection: await Connection.connect({ address }), namespace: 'default' });
}

it('completes a release when the Temporal server is stopped and restarted mid-release', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-temporal-restart-'));
  const serverOptions = { port: await freePort(), dbFile: join(dir, 'temporal.db'), startTimeoutMs: 90_000, logFile: join(dir, 'server.log') };
  server = await startDevServer(serverOptions);

  const app = uniqueApp('restart');
  const world = newWorld(app);
  world.updateRules({ healthDelayMs: 3000 });
  // The app is in the workers' policy file before the first worker process reads it.
  const pipeline = pipelineFromYaml(app, STAGING_AND_PRODUCTION(), '    build: { command: "make images" }');
  const taskQueue = uniqueTaskQueue('faults-restart');
  let workerStarts = 0;
  const env = { temporalAddress: server.address, taskQueue, worldDir: world.dir, workflowBundle: inject('workflowBundlePath'), policyFile: suitePolicy().file };
  void superviseWorker(env, () => workerStarts++);
  await eventually(async () => workerStarts, (n) => n >= 1, 60_000);

  const commit = commitSha();
  const before = await connect(server.address);
  const handle = await startRelease(before, taskQueue, pipeline, commit, { version: '7.0.0' });

  // Stop the server while staging waits for Argo CD: an activity is in flight, timers are pending.
  await eventually(() => handle.query(releaseStatusQuery), (s) => s.environments[0]?.phase === 'waiting-health', 60_000);
  await before.connection.close();
  await server.stop();
  await new Promise((r) => setTimeout(r, 2000));
  server = await startDevServer(serverOptions);

  const after = await connect(server.address);
  const result = await after.workflow.getHandle(handle.workflowId).result();
  await after.connection.close();

  expect(result.outcome).toBe('released');
  expect(world.commits('overlays/staging')).toHaveLength(1);
  expect(world.commits('overlays/production')).toHaveLength(1);
  expect(world.effects().filter((e) => e.type === 'tag')).toEqual([expect.objectContaining({ tag: 'v7.0.0', commit })]);
  expect(world.effects().filter((e) => e.type === 'build')).toHaveLength(1);
  console.log(`faults-temporal-restart: worker processes started: ${workerStarts}`);
}, 300_000);
