/**
 * The request for an approval has to reach someone: on the real Temporal dev server, with a
 * FakeWorld whose notify channel is down, the environment retries it and, when it never gets
 * through, says so in the environment's state and the release's status instead of waiting out the
 * approval timeout in silence.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { environmentWorkflowId } from '../../core/ids.js';
import { approveUpdate, environmentStateQuery, releaseStatusQuery } from '../../workflows/messages.js';
import { APPROVAL_REQUEST_ATTEMPTS } from '../../workflows/environment-gates.js';
import { saveHistory, startTestWorker, testClient, workersOfThisFile } from '../support/temporal.js';
import { STAGING_AND_PRODUCTION, commitSha, eventually, newWorld, pipelineFromYaml, startRelease, uniqueApp } from '../support/pipelines.js';
import type { FakeWorld } from '../support/fake-world.js';

let client: Client;
const workers = workersOfThisFile();

beforeAll(async () => {
  client = await testClient();
});

const PRODUCTION = `        approval: { required: true, timeout: 1h }
        notify: { discord: { urlFromEnv: SHOP_DISCORD_URL } }`;

async function releaseAwaitingApproval(world: FakeWorld, app: string) {
  const pipeline = pipelineFromYaml(app, STAGING_AND_PRODUCTION({ stagingChecks: '[]', production: PRODUCTION }));
  const worker = await startTestWorker(world.activities());
  workers.push(worker);
  const handle = await startRelease(client, worker.taskQueue, pipeline, commitSha(), { version: '7.1.0' });
  await eventually(() => handle.query(releaseStatusQuery), (s) => s.environments[1]?.phase === 'awaiting-approval');
  return { handle, production: client.workflow.getHandle(environmentWorkflowId(app, 'production')) };
}

const approvalRequests = (world: FakeWorld) => world.effects().filter((e) => e.type === 'notify' && e.event.kind === 'awaiting-approval');

describe('the awaiting-approval notification', () => {
  it('that can never be delivered is retried, then the environment state and the release status say nobody was asked', async () => {
    const app = uniqueApp();
    const world = newWorld(app);
    world.updateRules({ notifyFails: ['awaiting-approval'] });
    const { handle, production } = await releaseAwaitingApproval(world, app);

    const status = await eventually(() => handle.query(releaseStatusQuery), (s) => /NOBODY WAS ASKED/.test(s.waitingFor ?? ''), 90_000);
    expect(status.stage).toBe('promoting:production');
    expect(status.waitingFor).toMatch(
      new RegExp(
        `^production: awaiting-approval — approval to deploy 7\\.1\\.0 .*; NOBODY WAS ASKED: the approval request could not be delivered to ` +
          `discord \\(SHOP_DISCORD_URL\\) after ${APPROVAL_REQUEST_ATTEMPTS} attempts .*tell an approver: slipway approve ${app} production$`,
      ),
    );
    const state = await production.query(environmentStateQuery);
    expect(state.inFlight).toMatchObject({ phase: 'awaiting-approval', version: '7.1.0' });
    expect(state.inFlight?.detail).toMatch(/NOBODY WAS ASKED: the approval request could not be delivered to discord \(SHOP_DISCORD_URL\)/);
    expect(approvalRequests(world)).toHaveLength(APPROVAL_REQUEST_ATTEMPTS);
    expect(approvalRequests(world).every((e) => e.type === 'notify' && e.failed)).toBe(true);

    // The wait goes on: an approver told some other way can still let the build in.
    await production.executeUpdate(approveUpdate, { args: [{ by: 'alice', version: '7.1.0' }] });
    expect((await handle.result()).outcome).toBe('released');
    expect(world.commits('overlays/production')).toHaveLength(1);
    await saveHistory(client, 'environment-approval-request-undelivered', production.workflowId);
  }, 150_000);

  it('that fails for a while is retried until it gets through, and then nothing is flagged', async () => {
    const app = uniqueApp();
    const world = newWorld(app);
    world.updateRules({ notifyFails: ['awaiting-approval'] });
    const { handle, production } = await releaseAwaitingApproval(world, app);

    // Two attempts fail; the channel comes back before the third.
    await eventually(async () => approvalRequests(world).length, (n) => n >= 2, 30_000);
    world.updateRules({ notifyFails: [] });
    await eventually(async () => approvalRequests(world).filter((e) => e.type === 'notify' && !e.failed).length, (n) => n === 1, 30_000);

    // Past the point where the last attempt would have been made: one delivery, no notice.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(approvalRequests(world).filter((e) => e.type === 'notify' && !e.failed)).toHaveLength(1);
    const status = await handle.query(releaseStatusQuery);
    expect(status.waitingFor).toMatch(/^production: awaiting-approval — approval to deploy 7\.1\.0/);
    expect(status.waitingFor).not.toMatch(/could not be delivered/);
    expect((await production.query(environmentStateQuery)).inFlight?.detail).not.toMatch(/could not be delivered/);

    await production.executeUpdate(approveUpdate, { args: [{ by: 'alice', version: '7.1.0' }] });
    expect((await handle.result()).outcome).toBe('released');
  }, 120_000);
});
