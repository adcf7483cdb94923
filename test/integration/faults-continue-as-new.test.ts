/**
 * An environment workflow that continues as new right after answering a release must not lose the
 * answer: the server drops a signal whose sender has already closed. Found by the failure bench
 * (its 20th release waited for ever). With no request waiting, the environment continues as new
 * after `engine.historyPerEnvironment` promotions — in the same workflow task that sends the answer.
 */
import { afterAll, expect, it } from 'vitest';
import { environmentWorkflowId } from '../../core/ids.js';
import { commitSha, eventually, newWorld, pipelineFromYaml, startRelease, uniqueApp } from '../support/pipelines.js';
import { TestPolicy } from '../support/policy.js';
import { startTestWorker, testClient, type RunningWorker } from '../support/temporal.js';

const LIMIT = 5;
const RELEASES = 2 * LIMIT + 1;

let worker: RunningWorker | undefined;
afterAll(async () => {
  await worker?.stop();
});

it('answers every release across the environment workflow continuing as new', async () => {
  const app = uniqueApp('can');
  const world = newWorld(app, ['overlays/staging']);
  // The limit is the worker's: its policy says when an environment continues as new.
  const policy = new TestPolicy(`
gitops: { url: /tmp/unused-in-workflow-tests.git, branch: main }
engine: { heartbeatTimeout: 2s, stepTimeout: 20s, historyPerEnvironment: ${LIMIT} }`);
  const pipeline = pipelineFromYaml(
    app,
    `
      - name: staging
        overlay: overlays/staging
        argocd: { application: APP-staging, timeout: 20s }
        checks: []
`,
    '',
    policy,
  );
  worker = await startTestWorker(world.activities(), undefined, policy.store);
  const client = await testClient();
  const outcomes: string[] = [];
  for (let i = 0; i < RELEASES; i++) {
    const handle = await startRelease(client, worker.taskQueue, pipeline, commitSha(), { version: `4.0.${i}` });
    // A lost answer shows up as a release that never ends: bound the wait so the test fails instead.
    const result = await Promise.race([
      handle.result(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`release ${i} got no answer from its environment`)), 60_000)),
    ]);
    outcomes.push(result.outcome);
  }
  expect(outcomes).toEqual(Array.from({ length: RELEASES }, () => 'released'));
  // And the runs did end by continuing as new, every LIMIT promotions (visibility catches up asynchronously).
  await eventually(
    async () => {
      const runs: string[] = [];
      for await (const w of client.workflow.list({ query: `WorkflowId = '${environmentWorkflowId(app, 'staging')}'` })) runs.push(w.status.name);
      return runs.filter((s) => s === 'CONTINUED_AS_NEW').length;
    },
    (n) => n >= 2,
    30_000,
  );
}, 180_000);
