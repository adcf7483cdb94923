/**
 * `slipway resolve <app> <env> --reason "…"`: a person says an environment that needed one (a
 * rollback refused because someone else changed the overlay) may take promotions again. Recorded
 * in the environment with who and why; `slipway history` shows it.
 */
import type { Command } from 'commander';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { environmentWorkflowId } from '../../core/ids.js';
import { resolveAttentionUpdate } from '../../workflows/messages.js';
import type { CliContext } from '../context.js';
import { CliExit, EXIT_FAILED, EXIT_USAGE } from '../errors.js';
import { whoAmI } from '../user.js';
import { assertEnvironment } from './release.js';
import { outcomeFailureText } from '../failure-text.js';

export function registerAttentionCommands(program: Command, context: () => CliContext): void {
  program
    .command('resolve')
    .description('clear an environment that needs a person (a refused rollback), so it takes promotions again')
    .argument('<app>')
    .argument('<env>')
    .option('--reason <text>', 'what you checked or decided about the commit in between (required; recorded)')
    .option('--by <name>', 'who resolves it (default: SLIPWAY_USER or the OS user)')
    .action(async (app: string, env: string, opts: { reason?: string; by?: string }) => {
      if (!opts.reason?.trim()) throw new CliExit(EXIT_USAGE, 'error: resolve needs --reason "…": it is recorded with who cleared the environment and why');
      const ctx = context();
      assertEnvironment((await ctx.appPolicy(app)).environments.map((e) => e.name), env);
      const client = await ctx.client();
      try {
        const resolution = await client.workflow
          .getHandle(environmentWorkflowId(app, env))
          .executeUpdate(resolveAttentionUpdate, { args: [{ by: opts.by ?? whoAmI(), reason: opts.reason.trim() }] });
        ctx.print(`resolved: ${app}/${env} takes promotions again (it needed a person since ${new Date(resolution.attention.since).toISOString()}: ${resolution.attention.reason})`);
        if (ctx.json) ctx.printJson({ app, environment: env, ...resolution });
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError) throw new CliExit(EXIT_FAILED, outcomeFailureText(err));
        if ((err as Error).name === 'WorkflowNotFoundError') throw new CliExit(EXIT_FAILED, `${app}/${env} does not need a person (no promotion has run there yet)`);
        throw err;
      }
    });
}
