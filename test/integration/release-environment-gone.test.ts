/**
 * A release waits for its environment's answer with no deadline of its own (an approval may take a
 * day). On the real Temporal dev server, with the in-test world: when the environment workflow that
 * took its request is gone — terminated while the release waits on an approval — the release
 * notices at its next liveness check (engine.livenessCheck in the worker's policy: 1s here) and
 * fails naming the environment, instead of waiting forever; while the environment runs, the checks
 * change nothing.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { createControlActivities } from '../../activities/control/index.js';
import { environmentWorkflowId } from '../../core/ids.js';
import { approveUpdate, releaseStatusQuery } from '../../workflows/messages.js';
import { commitSha, eventually, newWorld, pipelineFromYaml, startRelease, uniqueApp } from '../support/pipelines.js';
import { TestPolicy, WORKFLOW_TEST_HEADER } from '../support/policy.js';
import { saveHistory, startTestWorker, testClient, workersOfThisFile } from '../support/temporal.js';

const CHECK_EVERY_MS = 1_000;
const policy = new TestPolicy(WORKFLOW_TEST_HEADER.replace('stepTimeout: 20s', `stepTimeout: 20s, livenessCheck: ${CHECK_EVERY_MS / 1000}s`));

const PRODUCTION_WITH_APPROVAL = `
      - name: production
        overlay: overlays/production
        argocd: { application: APP-production, timeout: 20s }
        approval: { required: true, timeout: 5m }
`;

let client: Client;
const workers = workersOfThisFile();

beforeAll(async () => {
  client = await testClient();
});

async function releaseAwaitingApproval() {
  const app = uniqueApp();
  const world = newWorld(app, ['overlays/production']);
  const pipeline = pipelineFromYaml(app, PRODUCTION_WITH_APPROVAL, '', policy);
  const worker = await startTestWorker(world.activities(), undefined, policy.store);
  workers.push(worker);
  const handle = await startRelease(client, worker.taskQueue, pipeline, commitSha(), { version: '2.0.0' });
  await eventually(() => handle.query(releaseStatusQuery), (s) => s.environments[0]?.phase === 'awaiting-approval');
  return { app, world, handle, taskQueue: worker.taskQueue, production: client.workflow.getHandle(environmentWorkflowId(app, 'production')) };
}

describe('a release whose environment workflow is gone', () => {
  it('fails naming the environment when the environment workflow is terminated while it waits on an approval', async () => {
    const { app, world, handle, production } = await releaseAwaitingApproval();
    await production.terminate('ended by hand');
    const terminatedAt = Date.now();

    const error = await handle.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause as { message: string; type?: string };
    expect(cause.type).toBe('EnvironmentGone');
    expect(cause.message).toMatch(
      new RegExp(`^production: env/${app}/production was terminated at \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z while this release waited for its answer`),
    );
    // Noticed at a check, not at some far deadline.
    expect(Date.now() - terminatedAt).toBeLessThan(15_000);
    const status = await handle.query(releaseStatusQuery);
    expect(status.stage).toBe('failed');
    expect(status.environments[0]).toMatchObject({ environment: 'production', phase: 'failed', detail: expect.stringContaining('was terminated') });
    expect(world.commits('overlays/production')).toHaveLength(0);
    await saveHistory(client, 'release-environment-gone', handle.workflowId);
  });

  it('keeps waiting through many checks, spaced out more and more, while the environment runs, and takes the approval when it comes', async () => {
    const { world, handle, production } = await releaseAwaitingApproval();
    // Checks after 1, 2 and 4 intervals: three of them within 8 (doubling, up to an hour).
    await new Promise((r) => setTimeout(r, 8 * CHECK_EVERY_MS));
    expect((await handle.describe()).status.name).toBe('RUNNING');
    await production.executeUpdate(approveUpdate, { args: [{ by: 'alice', version: '2.0.0' }] });
    expect((await handle.result()).outcome).toBe('released');
    expect(world.commits('overlays/production')).toHaveLength(1);
    const history = await handle.fetchHistory();
    const checks = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'environmentAlive');
    expect(checks.length).toBeGreaterThanOrEqual(3);
    // Spaced out: never more than one check per interval, and the later ones further apart.
    expect(checks.length).toBeLessThanOrEqual(4);
  });

  it('counts an environment started afresh under the same id as gone for the request the old one took', async () => {
    const { app, handle, production, taskQueue } = await releaseAwaitingApproval();
    const control = createControlActivities({ client, taskQueue });
    const tookIt = (await production.describe()).runId;
    expect(await control.environmentAlive({ app, environment: 'production', runId: tookIt })).toEqual({ alive: true });

    // Stop the release's checks from deciding first: this asks the activity itself.
    await handle.terminate('this test asks the activity directly');
    await production.terminate('ended by hand');
    await client.workflow.start('environment', { workflowId: environmentWorkflowId(app, 'production'), taskQueue, args: [{ app, environment: 'production' }] });

    const gone = await control.environmentAlive({ app, environment: 'production', runId: tookIt });
    expect(gone).toEqual({
      alive: false,
      reason: expect.stringMatching(new RegExp(`^env/${app}/production was terminated at .*, and what runs under that id now was started afresh and never took the request$`)),
    });
    // Without the run that took the request, only the id is known: the fresh run counts as alive.
    expect(await control.environmentAlive({ app, environment: 'production' })).toEqual({ alive: true });
    await client.workflow.getHandle(environmentWorkflowId(app, 'production')).terminate('test over');
  });
});
