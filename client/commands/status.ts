/** `slipway status [app]` and `slipway history <app>`: what runs where, what is deploying, what waits. */
import type { Command } from 'commander';
import { formatDuration } from '../../core/duration.js';
import { buildLabel, shortSha } from '../../core/ids.js';
import type { EnvironmentState } from '../../workflows/types.js';
import type { CliContext } from '../context.js';
import { queryEnvironmentState } from '../environment-state.js';

export function registerStatusCommands(program: Command, context: () => CliContext): void {
  program
    .command('status')
    .description('what runs in each environment, what is deploying and what waits')
    .argument('[app]', 'only this app')
    .action(async (app?: string) => {
      const ctx = context();
      const policy = await ctx.policy();
      if (app) await ctx.appPolicy(app);
      const apps = app ? [app] : Object.keys(policy.apps);
      const states = await Promise.all(
        apps.flatMap((a) => policy.apps[a]!.environments.map((e) => environmentStateOf(ctx, a, e.name))),
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
        for (const line of attentionLines(state, now)) ctx.print(line);
        if (state.inFlight) ctx.print(`  in flight: ${buildLabel(state.inFlight)} — ${state.inFlight.phase}${state.inFlight.detail ? `: ${state.inFlight.detail}` : ''} (${formatDuration(now - state.inFlight.since)})`);
        if (state.waiting) ctx.print(`  waiting:   ${buildLabel(state.waiting)} (${state.waiting.releaseId})`);
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
      const states = await Promise.all((await ctx.appPolicy(app)).environments.map((e) => environmentStateOf(ctx, app, e.name)));
      if (ctx.json) {
        ctx.printJson(Object.fromEntries(states.map((s) => [s.environment, s.recent])));
        return;
      }
      for (const state of states) {
        ctx.print(`${app}/${state.environment}:`);
        if (state.recent.length === 0) ctx.print('  (no deployments yet)');
        for (const r of state.recent) {
          ctx.print(`  ${new Date(r.finishedAt).toISOString()}  ${r.kind.padEnd(8)} ${(r.version ?? shortSha(r.commit)).padEnd(12)} ${r.outcome}${r.reason ? ` — ${r.reason}` : ''}  (${r.releaseId})`);
          const facts = [
            r.approvals?.length
              ? `approved by ${r.approvals.map((a) => `${a.channel}:${a.by} at ${new Date(a.at).toISOString()}`).join(', ')}`
              : r.approvedBy ? `approved by ${r.approvedBy}` : undefined,
            r.policyVersion ? `policy ${r.policyVersion}` : undefined,
            ...(r.notes ?? []),
          ].filter(Boolean);
          if (facts.length > 0) ctx.print(`      ${facts.join('; ')}`);
        }
        for (const r of state.resolutions ?? []) {
          ctx.print(`  ${new Date(r.at).toISOString()}  resolved by ${r.channel ? `${r.channel}:` : ''}${r.by} (${r.via}${r.releaseId ? ` ${r.releaseId}` : ''}): ${r.reason}`);
          ctx.print(`      needed a person since ${new Date(r.attention.since).toISOString()}: ${r.attention.reason}`);
        }
      }
    });
}

/** What a person must look at before the environment takes promotions again, with how to clear it. */
export function attentionLines(state: EnvironmentState, now: number): string[] {
  const a = state.attention;
  if (!a) return [];
  const who = a.interveningCommit ? ` (${shortSha(a.interveningCommit)}${a.interveningAuthor ? ` by ${a.interveningAuthor}` : ''})` : '';
  return [
    `  NEEDS A PERSON since ${new Date(a.since).toISOString()} (${formatDuration(Math.max(0, now - a.since))})${who}: ${a.reason}`,
    `  promotions are refused until it is cleared: slipway resolve ${state.app} ${state.environment} --reason "…"`,
  ];
}

/** An environment nothing was promoted to yet reads as empty. */
async function environmentStateOf(ctx: CliContext, app: string, environment: string): Promise<EnvironmentState> {
  return (await queryEnvironmentState(await ctx.client(), app, environment)) ?? { app, environment, recent: [] };
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
