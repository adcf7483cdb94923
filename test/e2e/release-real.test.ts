/**
 * End to end with every real component this machine can run: the TodoApp GitOps repository in a
 * real bare git repository, the real Argo CD syncing it into a real Kubernetes control plane whose
 * kwok nodes run the pods (the suite's shared cluster), the real gitops and argocd activities, and
 * the real Temporal server running the release. A bad build is one whose pods never become Ready
 * (kwok stage): its Deployments pass their progress deadline and Argo CD's own health assessment
 * says Degraded.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { AppsV1Api } from '@kubernetes/client-node';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { createArgoActivities, type ArgoApplication } from '../../activities/argocd/index.js';
import { createControlActivities } from '../../activities/control/index.js';
import { createGitopsActivities, isAncestor } from '../../activities/gitops/index.js';
import type { NotifyActivities, NotifyInput } from '../../activities/types.js';
import { parseConfig } from '../../config/schema.js';
import { environmentWorkflowId } from '../../core/ids.js';
import { createApplications, exampleApplications } from '../../infra/demo/applications.js';
import { seedGitopsRepo, todoappExampleDir, type SeededRepo } from '../../infra/examples/seed-repo.js';
import { approveUpdate, releaseStatusQuery } from '../../workflows/messages.js';
import type { ReleasePipeline } from '../../workflows/types.js';
import { readApplication } from '../support/argocd-fixture.js';
import { deleteApplications, sharedCluster, unreadyBuild, type SharedCluster } from '../support/cluster.js';
import { commitSha, eventually, startRelease } from '../support/pipelines.js';
import { TestPolicy } from '../support/policy.js';
import { startTestWorker, testClient, type RunningWorker } from '../support/temporal.js';

/** Both never become Ready: BAD is waited on past the progress deadline (Degraded), STUCK is not (still Progressing). */
const BAD = unreadyBuild();
const STUCK = unreadyBuild();
/** This file's Applications and namespaces on the shared cluster. */
const PREFIX = 'e2e';
const PROGRESS_DEADLINE_S = 10;
const IMAGES = ['todoapp/frontend', 'todoapp/backend', 'todoapp/backend-todos', 'todoapp/broadcaster'];

let dir: string;
let repo: SeededRepo;
let cluster: SharedCluster;
let worker: RunningWorker;
let client: Client;
let policy: TestPolicy;
const notifications: NotifyInput[] = [];

/** The example's slipway.yaml, pointed at the local repository, with test-sized timings. */
function policyText(stagingTimeout = '30s'): string {
  const example = parse(readFileSync(join(todoappExampleDir(), 'slipway.yaml'), 'utf8')) as {
    gitops: Record<string, unknown>;
    apps: { todoapp: { source?: unknown; triggers?: unknown; environments: Array<Record<string, unknown>> } };
  };
  example.gitops.url = repo.bareUrl;
  const app = example.apps.todoapp;
  delete app.source; // no GitHub here: no tag step, and no pushes to trigger on
  delete app.triggers;
  const [staging, production] = app.environments as [Record<string, any>, Record<string, any>];
  staging.checks = [{ soak: '1s' }];
  staging.argocd.timeout = stagingTimeout;
  staging.argocd.application = `${PREFIX}-${staging.argocd.application}`;
  production.argocd.application = `${PREFIX}-${production.argocd.application}`;
  production.notify = 'log';
  production.approval = { required: true, timeout: '5m' };
  delete production.freeze;
  delete production.backup;
  return JSON.stringify({ ...example, engine: { heartbeatTimeout: '5s', stepTimeout: '30s' } });
}

/** Writes `policyText(stagingTimeout)` as the worker's policy: the next release runs under it. */
function usePolicy(stagingTimeout = '30s'): ReleasePipeline {
  const text = policyText(stagingTimeout);
  policy.write(text);
  const config = parseConfig(text, 'todoapp slipway.yaml (test)');
  return { app: 'todoapp', appConfig: config.apps.todoapp!, git: config.gitops, engine: config.engine };
}

function git(...args: string[]): string {
  return execFileSync('git', ['--git-dir', repo.barePath, ...args], { encoding: 'utf8' }).trim();
}

function overlayTags(overlay: string, rev = 'main'): string[] {
  const kustomization = parse(git('show', `${rev}:1.2/overlays/${overlay}/kustomization.yaml`)) as { images: Array<{ newTag: string }> };
  return kustomization.images.map((i) => String(i.newTag));
}

function application(name: string): Promise<ArgoApplication> {
  return readApplication(cluster.kubeConfig, 'argocd', `${PREFIX}-${name}`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'slipway-e2e-'));
  cluster = sharedCluster();
  console.log(`release e2e against the real ${cluster.describe}`);
  const namespace = (env: string) => `${PREFIX}-${env}`;
  repo = await seedGitopsRepo(dir, { deployment: { namespace, progressDeadlineSeconds: PROGRESS_DEADLINE_S } });
  await createApplications(cluster.kubeConfig, exampleApplications(repo.bareUrl, { name: (n) => `${PREFIX}-${n}`, namespace }));
  const notify: NotifyActivities = {
    async notify(input) {
      notifications.push(input);
      return { delivered: input.channels.length, failed: 0 };
    },
  };
  policy = TestPolicy.fromText(policyText());
  worker = await startTestWorker(
    {
      ...createGitopsActivities(),
      ...createArgoActivities({ kubeConfig: cluster.kubeConfig, isAncestor }),
      ...createControlActivities(),
      ...notify,
    },
    undefined,
    policy.store,
  );
  client = await testClient();
});

afterAll(async () => {
  await worker?.stop();
  if (cluster) await deleteApplications(cluster.kubeConfig, ['staging', 'production'].map((e) => `${PREFIX}-todoapp-${e}`));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe(`TodoApp release on real git and the real ${sharedCluster().describe}`, () => {
  it('promotes staging then production, each Synced and Healthy at its own commit', async () => {
    const commit = commitSha();
    const handle = await startRelease(client, worker.taskQueue, usePolicy(), commit, { version: '1.2.0' });
    await eventually(() => handle.query(releaseStatusQuery), (s) => s.environments[1]?.phase === 'awaiting-approval', 60_000);
    expect(overlayTags('staging')).toEqual(IMAGES.map(() => commit));
    expect(overlayTags('production')).not.toContain(commit);

    await client.workflow.getHandle(environmentWorkflowId('todoapp', 'production')).executeUpdate(approveUpdate, { args: [{ by: 'e2e' }] });
    const result = await handle.result();
    expect(result.outcome).toBe('released');
    expect(overlayTags('production')).toEqual(IMAGES.map(() => commit));

    const log = git('log', '--format=%an|%s', 'main').split('\n');
    expect(log.slice(0, 2).map((l) => l.split('|')[0])).toEqual(['Slipway', 'Slipway']);
    expect(log[0]).toMatch(/production/);
    expect(log[1]).toMatch(/staging/);
    const production = await application('todoapp-production');
    expect(production.status?.sync?.revision).toBe(result.environments.production!.gitopsCommit);
    expect(production.status?.health?.status).toBe('Healthy');
    expect(production.status?.sync?.status).toBe('Synced');
    // Argo CD really deployed it: the Deployments in production run the build, all available.
    const deployments = await cluster.kubeConfig.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: `${PREFIX}-production` });
    expect(deployments.items.map((d) => d.metadata!.name).sort()).toEqual(['backend', 'backend-todos', 'broadcaster', 'frontend']);
    for (const d of deployments.items) {
      expect(d.spec!.template.spec!.containers[0]!.image).toBe(`todoapp/${d.metadata!.name}:${commit}`);
      expect(d.status?.availableReplicas).toBe(d.spec!.replicas);
    }
  });

  it('rolls staging back by a new commit when Argo CD reports the rollout Degraded, and fails naming Argo CD\'s message', async () => {
    const before = overlayTags('staging');
    const headBefore = git('rev-parse', 'main');
    const handle = await startRelease(client, worker.taskQueue, usePolicy(), BAD, { version: '1.3.0' });
    const error = (await handle.result().catch((e: unknown) => e)) as WorkflowFailedError;
    expect(error).toBeInstanceOf(WorkflowFailedError);
    // Argo CD's own health message, naming the Deployments that did not become available.
    expect(error.cause?.message).toMatch(/^staging: .*is Degraded at [0-9a-f]{12}: Caused by apps\/Deployment:e2e-staging\/.*\(rolled back at [0-9a-f]{7}\)$/);

    // Git only grew: the bad commit and the rollback commit on top of what was there.
    const commits = git('log', '--format=%H|%s', `${headBefore}..main`).split('\n');
    expect(commits).toHaveLength(2);
    // The undo names the build it puts back: the one the first test released (1.2.0).
    expect(commits[0]).toMatch(new RegExp(`\\|rollback todoapp in staging: undo ${BAD.slice(0, 7)} \\(1\\.3\\.0\\), back to ${before[0]!.slice(0, 7)} \\(1\\.2\\.0\\)$`));
    expect(overlayTags('staging')).toEqual(before);
    expect(overlayTags('staging', commits[1]!.split('|')[0])).toEqual(IMAGES.map(() => BAD));
    const staging = await eventually(() => application('todoapp-staging'), (a) => a.status?.health?.status === 'Healthy');
    expect(staging.status?.sync?.revision).toBe(commits[0]!.split('|')[0]);
    expect(notifications.some((n) => n.event.kind === 'rolled-back' && n.event.environment === 'staging')).toBe(true);
  });

  it('rolls back when the rollout stays Progressing past the deadline', async () => {
    const before = overlayTags('staging');
    const handle = await startRelease(client, worker.taskQueue, usePolicy('5s'), STUCK, { version: '1.4.0' });
    const error = (await handle.result().catch((e: unknown) => e)) as WorkflowFailedError;
    expect(error.cause?.message).toMatch(/^staging: .*Progressing.*\(rolled back at [0-9a-f]{7}\)$/);
    expect(overlayTags('staging')).toEqual(before);
    expect(overlayTags('production')).not.toContain(STUCK);
  });
});
