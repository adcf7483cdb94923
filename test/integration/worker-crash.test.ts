/**
 * A worker process SIGKILLed in the middle of a release, and again in the next environment, with a
 * new worker process started each time: the release completes, and every side effect happened
 * exactly once — one build, one commit per environment, one tag.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, expect, inject, it } from 'vitest';
import { releaseStatusQuery } from '../../workflows/messages.js';
import { temporalAddress, testClient, uniqueTaskQueue } from '../support/temporal.js';
import { STAGING_AND_PRODUCTION, commitSha, eventually, newWorld, pipelineFromYaml, startRelease, uniqueApp } from '../support/pipelines.js';
import type { FakeWorld } from '../support/fake-world.js';
import { suitePolicy } from '../support/policy.js';
import { isRunning, killWorker, startWorkerProcess } from '../support/worker-processes.js';

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (isRunning(c)) c.kill('SIGKILL');
});

function startWorker(world: FakeWorld, taskQueue: string): Promise<ChildProcess> {
  return startWorkerProcess({ temporalAddress: temporalAddress(), taskQueue, worldDir: world.dir, workflowBundle: inject('workflowBundlePath'), policyFile: suitePolicy().file }).then((child) => {
    children.push(child);
    return child;
  });
}

it('completes a release across killed workers with every side effect applied once', async () => {
  const client = await testClient();
  const app = uniqueApp();
  const world = newWorld(app);
  world.updateRules({ healthDelayMs: 2500 });
  const taskQueue = uniqueTaskQueue('crash');
  const pipeline = pipelineFromYaml(app, STAGING_AND_PRODUCTION(), '    build: { command: "make images" }');
  const commit = commitSha();

  let worker = await startWorker(world, taskQueue);
  const handle = await startRelease(client, taskQueue, pipeline, commit, { version: '5.0.0' });

  // Kill 1: while staging waits for Argo CD (an activity is mid-flight on the dead worker).
  await eventually(() => handle.query(releaseStatusQuery), (s) => s.environments[0]?.phase === 'waiting-health', 60_000);
  await killWorker(worker);
  worker = await startWorker(world, taskQueue);

  // Kill 2: while production waits for Argo CD, after the tag was made.
  await eventually(() => handle.query(releaseStatusQuery), (s) => s.environments[1]?.phase === 'waiting-health', 90_000);
  await killWorker(worker);
  worker = await startWorker(world, taskQueue);

  const result = await handle.result();
  expect(result.outcome).toBe('released');
  const effects = world.effects();
  expect(effects.filter((e) => e.type === 'build')).toHaveLength(1);
  expect(world.commits('overlays/staging')).toHaveLength(1);
  expect(world.commits('overlays/production')).toHaveLength(1);
  expect(effects.filter((e) => e.type === 'tag')).toHaveLength(1);
  // The waits were interrupted and resumed elsewhere: more starts than one per environment.
  expect(effects.filter((e) => e.type === 'health-wait' && e.phase === 'start').length).toBeGreaterThanOrEqual(4);
  await killWorker(worker);
}, 180_000);
