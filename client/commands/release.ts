/** `slipway release`, `promote`, `rollback` and `cancel`: start or stop releases, and follow them. */
import type { Command } from 'commander';
import type { WorkflowHandle } from '@temporalio/client';
import { sleep } from '../../activities/activity-context.js';
import { buildLabel, releaseWorkflowId, shortSha } from '../../core/ids.js';
import { releaseStatusQuery } from '../../workflows/messages.js';
import type { release } from '../../workflows/release.js';
import type { EnvironmentState, ReleaseInput, ReleaseStatus } from '../../workflows/types.js';
import type { CliContext } from '../context.js';
import { queryEnvironmentState } from '../environment-state.js';
import { CliExit, EXIT_FAILED, EXIT_USAGE } from '../errors.js';
import { progressKey, renderSteps, renderWaiting } from '../progress.js';
import { startReleaseWorkflow } from '../start-release.js';
import { whoAmI } from '../user.js';
import { findTarget, isNewerBuild, previousBuild, resolveReleaseCommit, TargetError, type KnownBuild } from './targets.js';
import { CANCEL_TAKES, cancelTarget } from './cancel-target.js';
import { outcomeFailureText } from '../failure-text.js';

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
    .action(async (app: string, given: string, opts: { version?: string; skipBuild?: boolean } & WaitOptions) => {
      const ctx = context();
      assertCommit(given);
      if (opts.version !== undefined) assertVersion(opts.version);
      const environments = (await ctx.appPolicy(app)).environments.map((e) => e.name);
      // The release id and the images' tag are the full SHA: a short one only stands for a build already known.
      const known = given.length === 40 ? [] : knownBuilds(await environmentStates(ctx, app, environments));
      const commit = exact(() => resolveReleaseCommit(given, known));
      const input: ReleaseInput = {
        app,
        commit,
        version: opts.version?.replace(/^v/, ''),
        skipBuild: opts.skipBuild,
        trigger: `cli:${whoAmI()}`,
        requestedBy: whoAmI(),
      };
      await startAndFollow(ctx, releaseWorkflowId(app, commit), input, opts.wait);
    });

  program
    .command('promote')
    .description('promote one build into one environment (only that one)')
    .argument('<app>')
    .argument('<env>')
    .argument('<version>', 'a version recorded in one of the app\'s environments, or a commit SHA')
    .option('--force', 'take the build past an environment it has not passed (where the policy allows overrides; someone else must approve)')
    .option('--reason <text>', 'why (required with --force; recorded with the promotion)')
    .option('--no-wait', 'start and return without following progress')
    .action(async (app: string, env: string, version: string, opts: WaitOptions & { force?: boolean; reason?: string }) => {
      const ctx = context();
      if (opts.force && !opts.reason?.trim()) throw new CliExit(EXIT_USAGE, 'error: --force needs --reason "…": an override is recorded with why');
      if (opts.reason !== undefined && !opts.force) throw new CliExit(EXIT_USAGE, 'error: --reason goes with --force');
      const environments = (await ctx.appPolicy(app)).environments.map((e) => e.name);
      assertEnvironment(environments, env);
      const build = await resolveBuild(ctx, app, environments, version);
      const input: ReleaseInput = {
        app,
        commit: build.commit,
        version: build.version,
        startAt: env,
        only: true,
        skipBuild: true,
        skipTag: true,
        trigger: `cli:${whoAmI()}`,
        requestedBy: whoAmI(),
        ...(opts.force ? { override: { reason: opts.reason!.trim() } } : {}),
      };
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
      // `--to ""` is a target that names nothing, not the absence of --to.
      const to = opts.to;
      const target = to !== undefined ? exact(() => findTarget(state?.recent ?? [], to)) : previousBuild(state);
      if (!target) {
        throw new CliExit(EXIT_FAILED, to !== undefined ? `${app}/${env} has no deployment of ${to} to go back to` : `${app}/${env} has no earlier deployment to go back to`);
      }
      // Going forward skips the approval a rollback does not need: that is a promotion, with its gates.
      if (to !== undefined && state?.current && isNewerBuild(target, state.current, state.recent)) {
        throw new CliExit(
          EXIT_USAGE,
          `error: ${buildLabel(target)} is newer than ${buildLabel(state.current)}, which runs in ${app}/${env}: that is not a rollback; use \`slipway promote ${app} ${env} ${to}\` (it goes through ${env}'s gates)`,
        );
      }
      const input: ReleaseInput = { app, commit: target.commit, version: target.version, startAt: env, only: true, skipBuild: true, skipTag: true, kind: 'rollback', trigger: `cli:${whoAmI()}`, requestedBy: whoAmI() };
      await startAndFollow(ctx, `rollback/${app}/${env}/${target.version ?? shortSha(target.commit)}-${Date.now().toString(36)}`, input, opts.wait);
    });

  program
    .command('cancel')
    .description('cancel a release: a queued promotion is dropped, one in flight is rolled back')
    .argument('<release>', 'release, promotion or rollback workflow id, e.g. release/todoapp/3f2a9c1…')
    .action(async (releaseId: string) => {
      const target = cancelTarget(releaseId);
      if (!target.ok) throw new CliExit(EXIT_USAGE, target.problem);
      const ctx = context();
      const handle = (await ctx.client()).workflow.getHandle(releaseId);
      // The id's shape is not proof: whatever runs under it must be a release or a promotion.
      const { type } = await handle.describe();
      if (type !== target.workflowType) throw new CliExit(EXIT_USAGE, `error: ${CANCEL_TAKES}; ${releaseId} is a ${type} workflow`);
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
  const message = outcomeFailureText(error);
  if (ctx.json) ctx.printJson({ outcome: 'failed', releaseId: handle.workflowId, reason: message, status });
  throw new CliExit(EXIT_FAILED, `release failed: ${message}`);
}

/** An exact version or a unique commit prefix, looked up in the deployments of all the app's environments. */
async function resolveBuild(ctx: CliContext, app: string, envs: string[], wanted: string): Promise<{ commit: string; version?: string }> {
  const records = (await environmentStates(ctx, app, envs)).flatMap((s) => s.recent);
  if (/^[0-9a-f]{40}$/.test(wanted) && !records.some((r) => r.commit === wanted && r.outcome === 'promoted')) return { commit: wanted };
  const record = exact(() => findTarget(records, wanted));
  if (record) return { commit: record.commit, version: record.version };
  throw new CliExit(EXIT_FAILED, `no deployment of ${app} ${wanted} is known; give a full 40-character commit SHA`);
}

async function environmentStates(ctx: CliContext, app: string, envs: string[]): Promise<EnvironmentState[]> {
  const client = await ctx.client();
  const states = await Promise.all(envs.map((env) => queryEnvironmentState(client, app, env)));
  return states.filter((s): s is EnvironmentState => s !== undefined);
}

/** Every build the environments have seen, whatever became of it. */
function knownBuilds(states: EnvironmentState[]): KnownBuild[] {
  return states.flatMap((s) => [...(s.current ? [s.current] : []), ...s.recent]);
}

/** A target the resolver refuses is a usage error, with the resolver's explanation. */
function exact<T>(resolve: () => T): T {
  try {
    return resolve();
  } catch (err) {
    if (err instanceof TargetError) throw new CliExit(EXIT_USAGE, err.message);
    throw err;
  }
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
