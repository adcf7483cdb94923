/**
 * The demo's story, on the running stack: a good build goes staging → soak → production (the
 * demo gives production's approval once the release waits for it), then a bad build that Argo CD
 * reports Degraded in staging and that Slipway rolls back with a new commit. Progress is printed
 * by the CLI's own follower (client/commands/release.ts).
 */
import { randomBytes } from 'node:crypto';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { follow } from '../../client/commands/release.js';
import type { CliContext } from '../../client/context.js';
import { startReleaseWorkflow } from '../../client/start-release.js';
import { summarize } from '../../activities/policy/index.js';
import { environmentWorkflowId, releaseWorkflowId, shortSha } from '../../core/ids.js';
import { workflowUiUrl } from '../../core/links.js';
import { readOverlayImages } from '../argocd-standin/index.js';
import { approveUpdate, environmentStateQuery, releaseStatusQuery } from '../../workflows/messages.js';
import type { release } from '../../workflows/release.js';
import type { PromotionReply } from '../../workflows/types.js';
import { DEMO_APP } from './config.js';
import { gitopsLog } from './gitops-log.js';
import { asReadyCommit, neverReadyCommit } from '../cluster/index.js';
import { DEMO_PROGRESS_DEADLINE_S, type DemoStack } from './stack.js';

type Say = (line: string) => void;

export interface DemoOutcome {
  goodReleased: boolean;
  badRolledBack: boolean;
}

/** A made-up source commit of the TodoApp: its images are tagged with it. */
const sourceCommit = () => asReadyCommit(randomBytes(20).toString('hex'));

function cliContext(stack: DemoStack, say: Say): CliContext {
  return {
    loadConfig: async () => stack.config,
    policy: async () => summarize({ version: 'demo', source: stack.configPath, config: stack.config }),
    appPolicy: async (app) => summarize({ version: 'demo', source: stack.configPath, config: stack.config }).apps[app]!,
    client: async () => stack.client,
    settings: stack.settings,
    taskQueue: stack.settings.taskQueue,
    json: false,
    print: say,
    printJson: () => undefined,
    uiLink: (id) => workflowUiUrl(stack.settings, id),
    close: async () => undefined,
  };
}

async function startRelease(stack: DemoStack, say: Say, commit: string, version: string): Promise<WorkflowHandle<typeof release>> {
  const workflowId = releaseWorkflowId(DEMO_APP, commit);
  const { handle } = await startReleaseWorkflow(stack.client, {
    workflowId,
    taskQueue: stack.settings.taskQueue,
    // No GitHub here: the images count as built, and the version is given rather than tagged.
    input: { app: DEMO_APP, commit, version, skipBuild: true, skipTag: true, trigger: 'demo' },
  });
  say(`started ${workflowId}`);
  say(`Temporal UI: ${workflowUiUrl(stack.settings, workflowId)}`);
  return handle;
}

/** Follows the release like `slipway release` does; true when it released. */
async function followRelease(stack: DemoStack, say: Say, handle: WorkflowHandle<typeof release>): Promise<boolean> {
  try {
    await follow(cliContext(stack, say), handle);
    return true;
  } catch (err) {
    say(`  ${(err as Error).message}`);
    return false;
  }
}

/** Gives `environment`'s approval once this release waits for it there (what `slipway approve` does). */
async function approveWhenWaiting(stack: DemoStack, say: Say, handle: WorkflowHandle<typeof release>, environment: string, version: string): Promise<void> {
  for (;;) {
    const status = await handle.query(releaseStatusQuery).catch(() => undefined);
    const phase = status?.environments.find((e) => e.environment === environment)?.phase;
    if (phase === 'awaiting-approval') break;
    if (status && ['released', 'failed', 'superseded', 'cancelled'].includes(status.stage)) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  const envId = environmentWorkflowId(DEMO_APP, environment);
  say(`  → ${environment} waits for approval; the demo approves ${version} (as \`slipway approve ${DEMO_APP} ${environment} --version ${version}\` would; in the Temporal UI: ${workflowUiUrl(stack.settings, envId)})`);
  await stack.client.workflow.getHandle(envId).executeUpdate(approveUpdate, { args: [{ by: 'demo', version, comment: 'approved by the Slipway demo' }] });
}

/** The environment's answer carried in the failed release (ApplicationFailure details). */
async function failedReply(handle: WorkflowHandle<typeof release>): Promise<PromotionReply | undefined> {
  try {
    await handle.result();
    return undefined;
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) return undefined;
    const details = (err.cause as { details?: unknown[] } | undefined)?.details;
    return details?.[0] as PromotionReply | undefined;
  }
}

export async function runDemoReleases(stack: DemoStack, say: Say): Promise<DemoOutcome> {
  const staging = stack.config.apps[DEMO_APP]!.environments.find((e) => e.name === 'staging')!;

  // ---------------------------------------------------------------- 1: a good build, all the way
  const good = sourceCommit();
  say('');
  say(`━━ release 1: TodoApp 1.3.0, images tagged ${shortSha(good)} — staging → soak → production (with approval)`);
  const goodHandle = await startRelease(stack, say, good, '1.3.0');
  const [goodReleased] = await Promise.all([
    followRelease(stack, say, goodHandle),
    approveWhenWaiting(stack, say, goodHandle, 'production', '1.3.0'),
  ]);
  const production = await stack.client.workflow.getHandle(environmentWorkflowId(DEMO_APP, 'production')).query(environmentStateQuery);
  if (goodReleased && production.current?.commit === good) {
    say(`✔ release 1 (1.3.0): released to staging and production (production runs ${production.current.version} at GitOps commit ${shortSha(production.current.gitopsCommit)})`);
  } else {
    say(`✘ release 1 (1.3.0) did not reach production`);
  }

  // ---------------------------------------------------------------- 2: a bad build, rolled back
  const bad = neverReadyCommit();
  say('');
  say(`━━ release 2: TodoApp 1.3.1, images tagged ${shortSha(bad)} — a build whose pods never become Ready (kwok), so its`);
  say(`   Deployments pass their ${DEMO_PROGRESS_DEADLINE_S} s progress deadline and Argo CD's health assessment says Degraded`);
  const badHandle = await startRelease(stack, say, bad, '1.3.1');
  const badReleased = await followRelease(stack, say, badHandle);
  const reply = await failedReply(badHandle);
  let badRolledBack = false;
  if (!badReleased && reply?.outcome === 'failed' && reply.rolledBack && reply.rollbackCommit) {
    // Check in git itself that staging holds release 1's images again.
    const images = await readOverlayImages(stack.repo.bareUrl, reply.rollbackCommit, staging.overlay);
    badRolledBack = images.length > 0 && images.every((i) => i.tag === good);
    say(
      badRolledBack
        ? `✔ release 2 (1.3.1): failed in staging and rolled back — the staging overlay was restored to ${shortSha(good)} by a new commit ${shortSha(reply.rollbackCommit)} (no force push); production was not touched`
        : `✘ release 2 (1.3.1): the rollback commit ${shortSha(reply.rollbackCommit)} does not hold release 1's images`,
    );
  } else {
    say(`✘ release 2 (1.3.1) was not rolled back as expected${reply?.outcome === 'failed' ? `: ${reply.reason}` : ''}`);
  }

  say('');
  say(`GitOps repository ${stack.repo.barePath} — git log --oneline:`);
  for (const line of await gitopsLog(stack.repo.barePath)) say(`  ${line}`);
  return { goodReleased: goodReleased && production.current?.commit === good, badRolledBack };
}
