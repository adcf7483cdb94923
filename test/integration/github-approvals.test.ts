/**
 * Approvals that name a verified person (issue 12): a decision relayed from a GitHub comment counts
 * only once the worker has checked the signed delivery, the comment's author and words, the build
 * it is on, and the author's team membership — on GitHub (Prism serving GitHub's OpenAPI). A caller
 * of the Temporal API cannot make one up. Real Temporal, the real verify activity; the other
 * outside systems are the in-test world.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { environmentWorkflowId, releaseWorkflowId } from '../../core/ids.js';
import { startPrism, type PrismMock } from '../../infra/github-mock/prism.js';
import { approveUpdate, environmentStateQuery, releaseStatusQuery } from '../../workflows/messages.js';
import type { ApprovalDecision, ReleaseInput } from '../../workflows/types.js';
import { IMAGES, eventually, newWorld } from '../support/pipelines.js';
import { TestPolicy } from '../support/policy.js';
import { startTestWorker, testClient, type RunningWorker } from '../support/temporal.js';
import { sign } from '../support/webhook-payloads.js';

const SECRET = 'webhook-secret-for-approval-tests';
/** The commit of GitHub's example commit comment (Codertocat/Hello-World). */
const COMMENTED_COMMIT = '6113728f27ae82c7b1a177c8d03f9e96e0adf246';
const APP = `hello-approvals-${Date.now().toString(36)}`;

const require = createRequire(import.meta.url);
const examples = require('@octokit/webhooks-examples') as Array<{ name: string; examples: Array<Record<string, unknown>> }>;

let client: Client;
let prism: PrismMock;
let worker: RunningWorker;
let release: WorkflowHandle;
const saved = { GITHUB_API_URL: process.env.GITHUB_API_URL, GITHUB_TOKEN: process.env.GITHUB_TOKEN, SLIPWAY_WEBHOOK_SECRET: process.env.SLIPWAY_WEBHOOK_SECRET };

/** GitHub's example commit comment, made now by `login`, saying `body`. */
function commitComment(body: string, login = 'Codertocat'): string {
  const example = structuredClone(examples.find((e) => e.name === 'commit_comment')!.examples.find((e) => e.action === 'created')!) as {
    comment: { body: string; created_at: string; user: { login: string } };
  };
  example.comment.body = body;
  example.comment.created_at = new Date().toISOString();
  example.comment.user.login = login;
  return JSON.stringify(example);
}

async function githubDecision(body: string, options: { by?: string; signature?: string; login?: string } = {}): Promise<ApprovalDecision> {
  const delivery = commitComment(body, options.login);
  return {
    by: options.by ?? 'Codertocat',
    channel: 'github',
    version: COMMENTED_COMMIT,
    evidence: { event: 'commit_comment', body: delivery, signature: options.signature ?? (await sign(SECRET, delivery)) },
  };
}

async function refusal(decision: ApprovalDecision): Promise<string> {
  const err = await client.workflow
    .getHandle(environmentWorkflowId(APP, 'production'))
    .executeUpdate(approveUpdate, { args: [decision] })
    .then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  return (err as WorkflowUpdateFailedError).cause?.message ?? '';
}

beforeAll(async () => {
  client = await testClient();
  prism = await startPrism({ logFile: join(process.cwd(), 'test-output', 'prism-github-approvals.log') });
  Object.assign(process.env, { GITHUB_API_URL: prism.url, GITHUB_TOKEN: 'ghp_approvalTestToken0123456789', SLIPWAY_WEBHOOK_SECRET: SECRET });
  const world = newWorld(APP);
  const policy = TestPolicy.fromText(`
gitops: { url: /tmp/unused-in-workflow-tests.git, branch: main }
engine: { heartbeatTimeout: 2s, stepTimeout: 20s }
apps:
  ${APP}:
    source: { github: Codertocat/Hello-World }
    images: [${IMAGES.join(', ')}]
    environments:
      - { name: staging, overlay: overlays/staging, argocd: { application: ${APP}-staging, timeout: 20s } }
      - name: production
        overlay: overlays/production
        argocd: { application: ${APP}-production, timeout: 20s }
        approval: { timeout: 1h, channels: [github], approvers: { teams: [Codertocat/release-managers] } }
`);
  worker = await startTestWorker(world.activities(), undefined, policy.store);
  const input: ReleaseInput = { app: APP, commit: COMMENTED_COMMIT, version: '3.0.0', skipBuild: true, skipTag: true, trigger: 'test', requestedBy: 'someone-else' };
  release = await client.workflow.start('release', { workflowId: releaseWorkflowId(APP, COMMENTED_COMMIT), taskQueue: worker.taskQueue, args: [input] });
  await eventually(() => release.query(releaseStatusQuery), (s) => s.environments.find((e) => e.environment === 'production')?.phase === 'awaiting-approval');
});

afterAll(async () => {
  await worker?.stop();
  await prism?.stop();
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

describe('approvals from GitHub comments', () => {
  it('refuses a decision whose delivery GitHub did not sign', async () => {
    expect(await refusal(await githubDecision('/slipway approve production', { signature: 'sha256=' + '0'.repeat(64) }))).toBe(
      'not counted: the delivery does not carry a valid GitHub signature',
    );
  });

  it('refuses a real comment claimed for someone else', async () => {
    expect(await refusal(await githubDecision('/slipway approve production', { by: 'alice' }))).toBe('not counted: the comment is by Codertocat, not by alice');
  });

  it('refuses a comment that does not approve this environment', async () => {
    expect(await refusal(await githubDecision('LGTM, ship it'))).toBe('not counted: the comment does not say "/slipway approve production"');
    expect(await refusal(await githubDecision('/slipway approve staging'))).toBe('not counted: the comment does not say "/slipway approve production"');
  });

  it('refuses a commenter who is not in the approving team, as GitHub says', async () => {
    prism.setPrefer(({ path }) => (path.includes('/teams/release-managers/memberships/') ? 'code=404' : undefined));
    try {
      expect(await refusal(await githubDecision('/slipway approve production'))).toBe(
        'not counted: Codertocat is not among the approvers (Codertocat/release-managers)',
      );
    } finally {
      prism.setPrefer(undefined);
    }
  });

  it('refuses an approval through a channel the policy does not take', async () => {
    expect(await refusal({ by: 'Codertocat' })).toBe(`${APP}/production does not take decisions through cli (the policy accepts: github)`);
  });

  it('counts a signed comment by a team member, records who approved through GitHub, and promotes', async () => {
    prism.clear();
    const result = await client.workflow
      .getHandle(environmentWorkflowId(APP, 'production'))
      .executeUpdate(approveUpdate, { args: [await githubDecision('/slipway approve production')] });
    expect(result).toMatchObject({ version: '3.0.0' });
    expect(prism.requests.map((r) => `${r.method} ${r.path}`)).toContain('GET /orgs/Codertocat/teams/release-managers/memberships/Codertocat');
    expect(prism.violations()).toEqual([]);
    expect((await release.result()).outcome).toBe('released');
    const state = await client.workflow.getHandle(environmentWorkflowId(APP, 'production')).query(environmentStateQuery);
    expect(state.recent[0]).toMatchObject({ commit: COMMENTED_COMMIT, outcome: 'promoted', approvedBy: 'github:Codertocat' });
  });
});
