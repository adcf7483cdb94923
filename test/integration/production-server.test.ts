/**
 * The production Temporal server tier: go.temporal.io/server on PostgreSQL (persistence and
 * visibility), set up as a user sets up a cluster (infra/temporal/production-server.ts, with the
 * server config docker-compose.yml uses), and two Slipway worker processes on one task queue.
 * This file runs its own server, not the suite's shared dev server: it kills it mid-release.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startProductionServer, TEMPORAL_SERVER_VERSION, type ProductionServer } from '../../infra/temporal/production-server.js';
import { releaseStatusQuery } from '../../workflows/messages.js';
import { FakeWorld } from '../support/fake-world.js';
import { addAppToWorld, STAGING_AND_PRODUCTION, commitSha, eventually, pipelineFromYaml, startRelease, uniqueApp } from '../support/pipelines.js';
import { suitePolicy } from '../support/policy.js';
import { uniqueTaskQueue } from '../support/temporal.js';
import { isRunning, killWorker, startWorkerProcess } from '../support/worker-processes.js';

let server: ProductionServer;
let client: Client;
/** One world for both worker processes; each app has overlays of its own in it. */
const world = new FakeWorld(mkdtempSync(join(tmpdir(), 'slipway-world-')));
world.setRules({ initial: {}, applications: {} });

/** An app of this file: its pipeline (in the workers' policy) and its overlays and Applications in the world. */
function addApp(prefix: string) {
  const app = uniqueApp(prefix);
  const overlays = addAppToWorld(world, app);
  const pipeline = pipelineFromYaml(app, STAGING_AND_PRODUCTION().replaceAll('overlays/', 'APP/'), '    build: none');
  return { app, pipeline, commit: commitSha(), overlays };
}
const workers: ChildProcess[] = [];
const taskQueue = uniqueTaskQueue('production-server');

async function connect(address: string): Promise<Client> {
  return new Client({ connection: await Connection.connect({ address }), namespace: 'default' });
}

/** The identities of the workers that ran a workflow's activities and workflow tasks, from its history. */
async function identities(workflowId: string): Promise<Set<string>> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const seen = new Set<string>();
  for (const e of history.events ?? []) {
    const identity = e.activityTaskStartedEventAttributes?.identity ?? e.workflowTaskStartedEventAttributes?.identity;
    if (identity) seen.add(identity);
  }
  return seen;
}

// The apps are in the workers' policy file before the worker processes read it.
const runs = ['prod-a', 'prod-b', 'prod-c', 'prod-d'].map(addApp);
const restartRun = addApp('prod-restart');

beforeAll(async () => {
  server = await startProductionServer({ startTimeoutMs: 120_000 });
  console.log(`production tier: Temporal server ${TEMPORAL_SERVER_VERSION} on PostgreSQL at ${server.address}`);
  client = await connect(server.address);
  for (let i = 0; i < 2; i++) {
    workers.push(
      await startWorkerProcess({ temporalAddress: server.address, taskQueue, worldDir: world.dir, workflowBundle: inject('workflowBundlePath'), policyFile: suitePolicy().file }),
    );
  }
});

afterAll(async () => {
  for (const w of workers) await killWorker(w);
  await client?.connection.close();
  await server?.stop();
});

describe(`the production Temporal server ${TEMPORAL_SERVER_VERSION} on PostgreSQL, two worker processes`, () => {
  it('runs concurrent releases to the end across both workers, and finds them by search attribute in PostgreSQL visibility', async () => {
    const apps = runs.map((r) => r.app);
    const handles = await Promise.all(runs.map((r, i) => startRelease(client, taskQueue, r.pipeline, r.commit, { version: `2.${i}.0` })));
    const results = await Promise.all(handles.map((h) => h.result()));
    expect(results.map((r) => r.outcome)).toEqual(apps.map(() => 'released'));
    for (const r of runs) for (const overlay of r.overlays) expect(world.commits(overlay)).toHaveLength(1);

    // Both worker processes took work (each has its own identity).
    const byAll = new Set<string>();
    for (const h of handles) for (const id of await identities(h.workflowId)) byAll.add(id);
    expect(byAll.size).toBeGreaterThanOrEqual(2);

    // Visibility on PostgreSQL answers list queries on Slipway's search attributes.
    const listed = await eventually(
      async () => {
        const found: string[] = [];
        for await (const w of client.workflow.list({ query: `SlipwayApp = "${apps[0]}"` })) found.push(w.workflowId);
        return found;
      },
      (found) => found.includes(handles[0]!.workflowId),
      30_000,
    );
    expect(listed).toContain(handles[0]!.workflowId);
  });

  it('runs the setup scripts docker-compose.yml runs on every start again without harm: databases, namespace and search attributes kept', async () => {
    server.setupAgain();
    // What the first test ran is still there, and still found by Slipway's search attribute.
    const app = runs[0]!.app;
    const found: string[] = [];
    for await (const w of client.workflow.list({ query: `SlipwayApp = "${app}"` })) found.push(w.workflowId);
    expect(found.length).toBeGreaterThan(0);
  });

  it('completes a release when the server process is killed and restarted mid-release, from its history on PostgreSQL', async () => {
    const { pipeline, commit, overlays } = restartRun;
    world.updateRules({ healthDelayMs: 3000 });
    const handle = await startRelease(client, taskQueue, pipeline, commit, { version: '7.0.0' });
    await eventually(() => handle.query(releaseStatusQuery), (s) => s.environments[0]?.phase === 'waiting-health', 60_000);

    const killedPid = server.pid();
    await server.restart({ kill: true });
    expect(server.pid()).not.toBe(killedPid);

    const result = await client.workflow.getHandle(handle.workflowId).result();
    expect(result.outcome).toBe('released');
    for (const overlay of overlays) expect(world.commits(overlay)).toHaveLength(1);
    // The workers lived through it: the SDK reconnected them.
    expect(workers.every(isRunning)).toBe(true);
  }, 300_000);
});
