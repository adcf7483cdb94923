/**
 * Upgrading Slipway while releases are in flight (worker/versioning.ts): releases started on
 * version N wait for approval; version N+1, whose workflow code changed (behind `patched()`), is
 * deployed and takes over; N's worker is killed; the approvals come and every release completes
 * on N+1. The same change without `patched()` is what the replay suite exists to stop: replaying
 * the releases' histories against it fails with a non-determinism error.
 * Tier: the suite's shared Temporal server, worker processes of this file (test/support/worker-process.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { environmentWorkflowId } from '../../core/ids.js';
import { buildWorkflowBundle } from '../../worker/bundle-code.js';
import { currentBuildId } from '../../worker/versioning.js';
import { approveUpdate, releaseStatusQuery } from '../../workflows/messages.js';
import { UPGRADE_PATCH } from '../support/upgraded-workflows/guarded.js';
import { addAppToWorld, STAGING_AND_PRODUCTION, commitSha, eventually, newWorld, pipelineFromYaml, startRelease, uniqueApp } from '../support/pipelines.js';
import { suitePolicy } from '../support/policy.js';
import { temporalAddress, testClient, uniqueTaskQueue } from '../support/temporal.js';
import { killWorker, startWorkerProcess } from '../support/worker-processes.js';

const deployment = `slipway-upgrade-${randomUUID().slice(0, 8)}`;
const taskQueue = uniqueTaskQueue('upgrade');
const approvalYaml = STAGING_AND_PRODUCTION({ stagingChecks: '[]', production: '        approval: { required: true, timeout: 10m }' });
const apps = ['up-a', 'up-b', 'up-c'].map((prefix) => uniqueApp(prefix));
const lateApp = uniqueApp('up-late');
/** One world for every app of this file (its overlays are APP/staging and APP/production). */
const world = newWorld(apps[0]!, []);
const pipelines = Object.fromEntries([...apps, lateApp].map((app) => [app, pipelineFromYaml(app, approvalYaml.replaceAll('overlays/', 'APP/'))]));

let client: Client;
let bundleDir: string;
const workers: ChildProcess[] = [];

/** Bundles one of the upgraded-workflows entries into a file a worker process loads. */
async function bundle(name: 'guarded' | 'unguarded'): Promise<string> {
  const file = join(bundleDir, `${name}.js`);
  writeFileSync(file, await buildWorkflowBundle(join(process.cwd(), 'test', 'support', 'upgraded-workflows', `${name}.ts`)));
  return file;
}

function versionedWorker(buildId: string, workflowBundle: string): Promise<ChildProcess> {
  return startWorkerProcess({
    temporalAddress: temporalAddress(),
    taskQueue,
    worldDir: world.dir,
    workflowBundle,
    policyFile: suitePolicy().file,
    extra: { SLIPWAY_WORKER_BUILD_ID: buildId, SLIPWAY_WORKER_DEPLOYMENT: deployment },
  });
}

/** The build ids that completed a workflow's tasks, in order, from its history. */
async function taskBuildIds(workflowId: string): Promise<string[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const done = e.workflowTaskCompletedEventAttributes;
    if (!done) return [];
    return [done.deploymentVersion?.buildId ?? done.workerVersion?.buildId ?? '(unversioned)'];
  });
}

function hasPatchMarker(history: Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>): boolean {
  return (history.events ?? []).some((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch' && JSON.stringify(e.markerRecordedEventAttributes.details).includes(Buffer.from(JSON.stringify(UPGRADE_PATCH)).toString('base64')));
}

beforeAll(async () => {
  client = await testClient();
  bundleDir = join(process.cwd(), 'test-output', 'upgrade-bundles', deployment);
  mkdirSync(bundleDir, { recursive: true });
  for (const app of [...apps, lateApp]) addAppToWorld(world, app);
}, 120_000);

afterAll(async () => {
  for (const w of workers) await killWorker(w);
  await client?.connection.close();
});

describe('upgrading Slipway while releases wait for approval (Worker Versioning, auto-upgrade with patched())', () => {
  const started: string[] = [];

  it('finishes releases started on version N on version N+1, which changed the release workflow, once N+1 takes over and N is gone', async () => {
    const n = await versionedWorker('n', inject('workflowBundlePath'));
    workers.push(n);
    // The first version of a deployment becomes current by itself: nothing is left unrouted.
    await eventually(() => currentBuildId(client.connection, 'default', deployment), (id) => id === 'n', 30_000);

    const handles = await Promise.all(apps.map((app, i) => startRelease(client, taskQueue, pipelines[app]!, commitSha(), { version: `4.${i}.0` })));
    started.push(...handles.map((h) => h.workflowId));
    for (const h of handles) await eventually(() => h.query(releaseStatusQuery), (s) => s.environments[1]?.phase === 'awaiting-approval', 60_000);

    const next = await versionedWorker('n1', await bundle('guarded'));
    workers.push(next);
    await eventually(() => currentBuildId(client.connection, 'default', deployment), (id) => id === 'n1', 30_000);
    await killWorker(n);

    for (const [i, app] of apps.entries()) {
      await client.workflow.getHandle(environmentWorkflowId(app, 'production')).executeUpdate(approveUpdate, { args: [{ by: 'alice', version: `4.${i}.0` }] });
    }
    const results = await Promise.all(handles.map((h) => h.result()));
    expect(results.map((r) => r.outcome)).toEqual(apps.map(() => 'released'));
    for (const app of apps) expect(world.commits(`${app}/production`)).toHaveLength(1);

    for (const h of handles) {
      const builds = await taskBuildIds(h.workflowId);
      // Started on N, finished on N+1, never back on N after N+1's first task.
      expect(builds[0]).toBe('n');
      expect(builds.at(-1)).toBe('n1');
      expect(builds.slice(builds.indexOf('n1'))).not.toContain('n');
      // A release that was running when N+1 came replayed without the new step.
      expect(hasPatchMarker(await h.fetchHistory())).toBe(false);
    }

    // A release started after the upgrade takes the new step.
    const late = await startRelease(client, taskQueue, pipelines[lateApp]!, commitSha(), { version: '5.0.0' });
    await eventually(() => late.query(releaseStatusQuery), (s) => s.environments[1]?.phase === 'awaiting-approval', 60_000);
    expect(hasPatchMarker(await late.fetchHistory())).toBe(true);
    expect(await taskBuildIds(late.workflowId)).not.toContain('n');
    await late.terminate('the upgrade test needs it only until it has taken the new step');
  }, 240_000);

  it('catches the same change without patched() in replay: the releases recorded under N fail it with a non-determinism error, and pass the guarded one', async () => {
    expect(started, 'the first test recorded releases').toHaveLength(apps.length);
    try {
      Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
    } catch {
      /* installed earlier in this process */
    }
    const unguarded = await bundle('unguarded');
    const guarded = join(bundleDir, 'guarded.js');
    for (const workflowId of started) {
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      await expect(Worker.runReplayHistory({ workflowBundle: { codePath: unguarded } }, history, workflowId)).rejects.toBeInstanceOf(DeterminismViolationError);
      await Worker.runReplayHistory({ workflowBundle: { codePath: guarded } }, history, workflowId);
    }
  }, 120_000);
});
