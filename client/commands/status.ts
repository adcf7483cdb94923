/** `slipway status [app]` and `slipway history <app>`: what runs where, what is deploying, what waits. */
import type { Command } from 'commander';
import { formatDuration } from '../../core/duration.js';
import { environmentWorkflowId, shortSha } from '../../core/ids.js';
import { environmentStateQuery } from '../../workflows/messages.js';
import type { EnvironmentState } from '../../workflows/types.js';
import type { CliContext } from '../context.js';
import { CliExit, EXIT_USAGE } from '../errors.js';

export function registerStatusCommands(program: Command, context: () => CliContext): void {
  program
    .command('status')
    .description('what runs in each environment, what is deploying and what waits')
    .argument('[app]', 'only this app')
    .action(async (app?: string) => {
      const ctx = context();
      const config = await ctx.loadConfig();
      if (app && !config.apps[app]) throw new CliExit(EXIT_USAGE, `error: unknown app "${app}" (known: ${Object.keys(config.apps).join(', ')})`);
      const apps = app ? [app] : Object.keys(config.apps);
      const states = await Promise.all(
        apps.flatMap((a) => config.apps[a]!.environments.map((e) => environmentStateOf(ctx, a, e.name))),
      );
      const running = await runningReleases(ctx, app);
      if (ctx.json) {
        ctx.printJson({ environments: states, releases: running });
        return;
      }
      const now = Date.now();
      for (const state of states) {
        const current = state.current ? `${state.current.version ?? shortSha(state.current.commit)} (gitops ${shortSha(state.current.gitopsCommit)})` : '—';
        ctx.print(`${state.app}/${state.environment}: ${current}`);
        if (state.inFlight) ctx.print(`  in flight: ${label(state.inFlight)} — ${state.inFlight.phase}${state.inFlight.detail ? `: ${state.inFlight.detail}` : ''} (${formatDuration(now - state.inFlight.since)})`);
        if (state.waiting) ctx.print(`  waiting:   ${label(state.waiting)} (${state.waiting.releaseId})`);
      }
      if (running.length > 0) {
        ctx.print('running releases:');
        for (const r of running) ctx.print(`  ${r.workflowId} — ${r.stage ?? '?'}`);
      }
    });

  program
    .command('history')
    .description('the last deployments of an app, per environment')
    .argument('<app>')
    .action(async (app: string) => {
      const ctx = context();
      const config = await ctx.loadConfig();
      if (!config.apps[app]) throw new CliExit(EXIT_USAGE, `error: unknown app "${app}" (known: ${Object.keys(config.apps).join(', ')})`);
      const states = await Promise.all(config.apps[app]!.environments.map((e) => environmentStateOf(ctx, app, e.name)));
      if (ctx.json) {
        ctx.printJson(Object.fromEntries(states.map((s) => [s.environment, s.recent])));
        return;
      }
      for (const state of states) {
        ctx.print(`${app}/${state.environment}:`);
        if (state.recent.length === 0) ctx.print('  (no deployments yet)');
        for (const r of state.recent) {
          ctx.print(`  ${new Date(r.finishedAt).toISOString()}  ${r.kind.padEnd(8)} ${(r.version ?? shortSha(r.commit)).padEnd(12)} ${r.outcome}${r.reason ? ` — ${r.reason}` : ''}  (${r.releaseId})`);
        }
      }
    });
}

async function environmentStateOf(ctx: CliContext, app: string, environment: string): Promise<EnvironmentState> {
  const client = await ctx.client();
  try {
    return await client.workflow.getHandle(environmentWorkflowId(app, environment)).query(environmentStateQuery);
  } catch (err) {
    if ((err as Error).name === 'WorkflowNotFoundError') return { app, environment, recent: [] };
    throw err;
  }
}

async function runningReleases(ctx: CliContext, app?: string): Promise<Array<{ workflowId: string; stage?: string }>> {
  const client = await ctx.client();
  const query = `WorkflowType = 'release' AND ExecutionStatus = 'Running'${app ? ` AND SlipwayApp = '${app}'` : ''}`;
  const found: Array<{ workflowId: string; stage?: string }> = [];
  for await (const wf of client.workflow.list({ query })) {
    found.push({ workflowId: wf.workflowId, stage: (wf.searchAttributes?.SlipwayStage as string[] | undefined)?.[0] });
    if (found.length >= 50) break;
  }
  return found;
}

function label(q: { version?: string; commit: string }): string {
  return q.version ? `${q.version} (${shortSha(q.commit)})` : shortSha(q.commit);
}
