/**
 * Worker processes SIGKILLed at random points across 20 releases (5 at a time), a new worker
 * process started after each kill: every release completes, and every side effect happened once —
 * one build per commit, one commit per environment, one tag per release. The kill points come
 * from a seeded PRNG; the seed is printed (rerun with SLIPWAY_FAULT_SEED=<seed>).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, expect, inject, it } from 'vitest';
import { imagesForCommit } from '../../core/images.js';
import { tagName } from '../../core/version.js';
import { FakeWorld } from '../support/fake-world.js';
import { IMAGES, commitSha, pipelineFromYaml, startRelease, uniqueApp } from '../support/pipelines.js';
import { suitePolicy } from '../support/policy.js';
import { seededRandom } from '../support/seeded-random.js';
import { temporalAddress, testClient, uniqueTaskQueue } from '../support/temporal.js';
import { killWorker, startWorkerProcess } from '../support/worker-processes.js';

const RELEASES = 20;
const BATCH = 5;

const workers: ChildProcess[] = [];
afterAll(async () => {
  for (const w of workers) await killWorker(w);
});

/** Each app deploys its own overlays, so 20 apps share one world (and one worker) without touching each other. */
const ENVIRONMENTS = `
      - name: staging
        overlay: APP/overlays/staging
        argocd: { application: APP-staging, timeout: 60s }
        checks: [ { soak: 1s } ]
      - name: production
        overlay: APP/overlays/production
        argocd: { application: APP-production, timeout: 60s }
`;

it('completes 20 releases across randomly killed workers with every side effect applied once', async () => {
  const random = seededRandom();
  console.log(`faults-worker-kill: seed ${random.seed} (rerun with SLIPWAY_FAULT_SEED=${random.seed})`);

  const apps = Array.from({ length: RELEASES }, () => uniqueApp('kill'));
  const world = new FakeWorld(mkdtempSync(join(tmpdir(), 'slipway-world-')));
  const old = imagesForCommit(IMAGES, 'old0000000000000000000000000000000000000');
  world.setRules({
    initial: Object.fromEntries(apps.flatMap((a) => [[`${a}/overlays/staging`, old], [`${a}/overlays/production`, old]])),
    applications: Object.fromEntries(apps.flatMap((a) => [[`${a}-staging`, `${a}/overlays/staging`], [`${a}-production`, `${a}/overlays/production`]])),
    healthDelayMs: 1000,
  });

  // Every app is in the workers' policy file before the first worker process reads it.
  const releases = apps.map((app, i) => ({
    app,
    commit: commitSha(),
    version: `3.${Math.floor(i / BATCH)}.${i % BATCH}`,
    pipeline: pipelineFromYaml(app, ENVIRONMENTS, '    build: { command: "make images" }'),
  }));

  const client = await testClient();
  const taskQueue = uniqueTaskQueue('faults-kill');
  const env = { temporalAddress: temporalAddress(), taskQueue, worldDir: world.dir, workflowBundle: inject('workflowBundlePath'), policyFile: suitePolicy().file };
  let worker = await startWorkerProcess(env);
  workers.push(worker);
  const kills: string[] = [];
  const outcomes: string[] = [];

  for (let start = 0; start < RELEASES; start += BATCH) {
    const batch = releases.slice(start, start + BATCH);
    const handles = await Promise.all(batch.map((r) => startRelease(client, taskQueue, r.pipeline, r.commit, { version: r.version })));
    let finished = 0;
    const results = Promise.all(handles.map((h) => h.result().finally(() => finished++)));

    // Two or three kills at random moments while this batch runs.
    const planned = random.between(2, 3);
    const batchStarted = Date.now();
    for (let k = 0; k < planned && finished < batch.length; k++) {
      await new Promise((r) => setTimeout(r, random.between(300, 4000)));
      if (finished === batch.length) break;
      await killWorker(worker);
      kills.push(`batch ${start / BATCH} +${Date.now() - batchStarted}ms (${finished}/${batch.length} done)`);
      worker = await startWorkerProcess(env);
      workers.push(worker);
    }
    outcomes.push(...(await results).map((r) => r.outcome));
  }
  console.log(`faults-worker-kill: ${kills.length} kills: ${kills.join('; ')}`);

  expect(outcomes).toEqual(releases.map(() => 'released'));
  expect(kills.length).toBeGreaterThanOrEqual(RELEASES / BATCH);
  const effects = world.effects();
  for (const r of releases) {
    const commitsOf = (envName: string) => world.commits(`${r.app}/overlays/${envName}`).filter((c) => c.context.kind === 'promote');
    expect(commitsOf('staging'), `${r.app} staging commits`).toHaveLength(1);
    expect(commitsOf('production'), `${r.app} production commits`).toHaveLength(1);
    expect(world.commits(`${r.app}/overlays/production`)[0]!.images).toEqual(imagesForCommit(IMAGES, r.commit));
    const tag = tagName(r.pipeline.appConfig.tag.format, r.version);
    expect(effects.filter((e) => e.type === 'tag' && e.tag === tag), `${r.app} tag ${tag}`).toEqual([expect.objectContaining({ commit: r.commit })]);
    expect(effects.filter((e) => e.type === 'build' && e.commit === r.commit), `${r.app} builds`).toHaveLength(1);
  }
}, 420_000);
