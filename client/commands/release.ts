/** `slipway release`, `promote`, `rollback` and `cancel`: start or stop releases, and follow them. */
import type { Command } from 'commander';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { sleep } from '../../activities/activity-context.js';
import { releaseWorkflowId, shortSha } from '../../core/ids.js';
import { releaseStatusQuery } from '../../workflows/messages.js';
import type { release } from '../../workflows/release.js';
import type { DeploymentRecord, EnvironmentState, ReleaseInput, ReleaseStatus } from '../../workflows/types.js';
import type { CliContext } from '../context.js';
import { queryEnvironmentState } from '../environment-state.js';
import { CliExit, EXIT_FAILED, EXIT_USAGE } from '../errors.js';
import { progressKey, renderSteps, renderWaiting } from '../progress.js';
import { startReleaseWorkflow } from '../start-release.js';
import { whoAmI } from '../user.js';

interface WaitOptions {
  wait: boolean;
}

export function registerReleaseCommands(program: Command, context: () => CliContext): void {
  program
    .command('release')
    .description('release a build: build → each environment in order → tag → production')
    .argument('<app>', 'app name from slipway.yaml')
    .argument('<commit>', 'source commit SHA (images are tagged with it)')
    .option('--version <version>', 'release version, e.g. 1.4.0 (default: next patch after the latest tag)')
    .option('--skip-build', 'the images are built already')
    .option('--no-wait', 'start and return without following progress')
    .action(async (app: string, commit: string, opts: { version?: string; skipBuild?: boolean } & WaitOptions) => {
      const ctx = context();
      assertCommit(commit);
      if (opts.version !== undefined) assertVersion(opts.version);
      await ctx.appPolicy(app);
      const input: ReleaseInput = {
        app,
        commit,
        version: opts.version?.replace(/^v/, ''),
        skipBuild: opts.skipBuild,
        trigger: `cli:${whoAmI()}`,
      };
      await startAndFollow(ctx, releaseWorkflowId(app, commit), input, opts.wait);
    });

  program
    .command('promote')
    .description('promote one build into one environment (only that one)')
    .argument('<app>')
    .argument('<env>')
    .argument('<version>', 'a version recorded in one of the app\'s environments, or a commit SHA')
    .option('--no-wait', 'start and return without following progress')
    .action(async (app: string, env: string, version: string, opts: WaitOptions) => {
      const ctx = context();
      const environments = (await ctx.appPolicy(app)).environments.map((e) => e.name);
      assertEnvironment(environments, env);
      const build = await resolveBuild(ctx, app, environments, version);
      const input: ReleaseInput = { app, commit: build.commit, version: build.version, startAt: env, only: true, skipBuild: true, skipTag: true, trigger: `cli:${whoAmI()}` };
      await startAndFollow(ctx, `promote/${app}/${env}/${build.version ?? shortSha(build.commit)}-${Date.now().toString(36)}`, input, opts.wait);
    });

  program
    .command('rollback')
    .description('put the previous build (or --to <version>) back into an environment, as a new commit')
    .argument('<app>')
    .argument('<env>')
    .option('--to <version>', 'version or commit to go back to (default: the deployment before the current one)')
    .option('--no-wait', 'start and return without following progress')
    .action(async (app: string, env: string, opts: { to?: string } & WaitOptions) => {
      const ctx = context();
      assertEnvironment((await ctx.appPolicy(app)).environments.map((e) => e.name), env);
      const state = await queryEnvironmentState(await ctx.client(), app, env);
      const target = opts.to ? findRecord(state?.recent ?? [], opts.to) : previousDeployment(state);
      if (!target) {
        throw new CliExit(EXIT_FAILED, opts.to ? `${app}/${env} has no deployment of ${opts.to} to go back to` : `${app}/${env} has no earlier deployment to go back to`);
      }
      const input: ReleaseInput = { app, commit: target.commit, version: target.version, startAt: env, only: true, skipBuild: true, skipTag: true, kind: 'rollback', trigger: `cli:${whoAmI()}` };
      await startAndFollow(ctx, `rollback/${app}/${env}/${target.version ?? shortSha(target.commit)}-${Date.now().toString(36)}`, input, opts.wait);
    });

  program
    .command('cancel')
    .description('cancel a release: a queued promotion is dropped, one in flight is rolled back')
    .argument('<release>', 'release workflow id, e.g. release/todoapp/3f2a9c1…')
    .action(async (releaseId: string) => {
      const ctx = context();
      const handle = (await ctx.client()).workflow.getHandle(releaseId);
      await handle.cancel();
      ctx.print(`cancellation requested for ${releaseId}`);
      if (ctx.json) ctx.printJson({ releaseId, cancelled: true });
    });
}

async function startAndFollow(ctx: CliContext, workflowId: string, input: ReleaseInput, wait: boolean): Promise<void> {
  const client = await ctx.client();
  const { handle, started } = await startReleaseWorkflow(client, { workflowId, taskQueue: ctx.taskQueue, input });
  ctx.print(`${started ? 'started' : 'already known'}: ${workflowId}`);
  const link = ctx.uiLink(workflowId);
  if (link) ctx.print(`Temporal UI: ${link}`);
  if (!wait) {
    if (ctx.json) ctx.printJson({ workflowId, started, ui: link });
    return;
  }
  await follow(ctx, handle);
}

/** Prints progress as it changes until the release ends; exits non-zero unless it released. */
export async function follow(ctx: CliContext, handle: WorkflowHandle<typeof release>): Promise<void> {
  let lastKey = '';
  let lastWaiting = '';
  let done = false;
  const outcome = handle.result().then(
    (result) => ({ ok: true as const, result }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  void outcome.finally(() => (done = true));
  while (!done) {
    const status = await handle.query(releaseStatusQuery).catch(() => undefined);
    if (status) {
      const key = progressKey(status);
      const waiting = renderWaiting(status, Date.now()) ?? '';
      if (key !== lastKey) {
        ctx.print(`[${status.stage}]`);
        for (const line of renderSteps(status)) ctx.print(line);
        lastKey = key;
      }
      if (waiting && waiting.replace(/\(\d.*\)$/, '') !== lastWaiting.replace(/\(\d.*\)$/, '')) ctx.print(waiting);
      lastWaiting = waiting;
    }
    await Promise.race([outcome, sleep(500)]);
  }
  const final = await outcome;
  const status: ReleaseStatus | undefined = await handle.query(releaseStatusQuery).catch(() => undefined);
  if (status && progressKey(status) !== lastKey) {
    ctx.print(`[${status.stage}]`);
    for (const line of renderSteps(status)) ctx.print(line);
  }
  if (final.ok) {
    if (ctx.json) ctx.printJson({ ...final.result, status });
    if (final.result.outcome === 'released') {
      ctx.print(`released ${final.result.version ?? ''}`.trim());
      return;
    }
    throw new CliExit(EXIT_FAILED, `superseded by ${final.result.supersededBy}`);
  }
  const error = final.error;
  const message = error instanceof WorkflowFailedError ? (error.cause?.message ?? error.message) : (error as Error).message;
  if (ctx.json) ctx.printJson({ outcome: 'failed', releaseId: handle.workflowId, reason: message, status });
  throw new CliExit(EXIT_FAILED, `release failed: ${message}`);
}

/** A version or commit prefix, looked up in the deployments of the app's environments. */
async function resolveBuild(ctx: CliContext, app: string, envs: string[], wanted: string): Promise<{ commit: string; version?: string }> {
  const client = await ctx.client();
  for (const env of envs) {
    const state = await queryEnvironmentState(client, app, env);
    const record = findRecord(state?.recent ?? [], wanted);
    if (record) return { commit: record.commit, version: record.version };
  }
  if (/^[0-9a-f]{7,40}$/.test(wanted) && wanted.length === 40) return { commit: wanted };
  throw new CliExit(EXIT_FAILED, `no deployment of ${app} ${wanted} is known; give a full 40-character commit SHA`);
}

function findRecord(records: DeploymentRecord[], wanted: string): DeploymentRecord | undefined {
  const version = wanted.replace(/^v/, '');
  return records.find((r) => r.outcome === 'promoted' && (r.version === version || r.commit.startsWith(wanted)));
}

function previousDeployment(state: EnvironmentState | undefined): DeploymentRecord | undefined {
  if (!state?.current) return undefined;
  return state.recent.find((r) => r.outcome === 'promoted' && r.commit !== state.current!.commit);
}

function assertCommit(commit: string): void {
  if (!/^[0-9a-f]{7,40}$/.test(commit)) throw new CliExit(EXIT_USAGE, `error: <commit> must be a hex commit SHA, got "${commit}"`);
}

function assertVersion(version: string): void {
  if (!/^v?\d+\.\d+\.\d+$/.test(version)) throw new CliExit(EXIT_USAGE, `error: --version must look like 1.4.0, got "${version}"`);
}

export function assertEnvironment(known: string[], env: string): void {
  if (!known.includes(env)) throw new CliExit(EXIT_USAGE, `error: unknown environment "${env}" (known: ${known.join(', ')})`);
}
