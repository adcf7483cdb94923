/** `slipway approve|reject <app> <env>`: decide on the promotion waiting for approval there. */
import type { Command } from 'commander';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { environmentWorkflowId } from '../../core/ids.js';
import { approveUpdate, rejectUpdate } from '../../workflows/messages.js';
import type { CliContext } from '../context.js';
import { CliExit, EXIT_FAILED } from '../errors.js';
import { whoAmI } from '../user.js';
import { assertEnvironment } from './release.js';
import { outcomeFailureText } from '../failure-text.js';

export function registerApprovalCommands(program: Command, context: () => CliContext): void {
  for (const [name, update, verb] of [
    ['approve', approveUpdate, 'approved'],
    ['reject', rejectUpdate, 'rejected'],
  ] as const) {
    program
      .command(name)
      .description(`${name} the promotion waiting for approval in an environment`)
      .argument('<app>')
      .argument('<env>')
      .option('--version <version>', `${name} only if this version (or commit prefix) is the one waiting`)
      .option('--comment <text>', 'a note kept with the decision')
      .option('--by <name>', 'who decides (default: SLIPWAY_USER or the OS user)')
      .action(async (app: string, env: string, opts: { version?: string; comment?: string; by?: string }) => {
        const ctx = context();
        assertEnvironment((await ctx.appPolicy(app)).environments.map((e) => e.name), env);
        const client = await ctx.client();
        try {
          const result = await client.workflow
            .getHandle(environmentWorkflowId(app, env))
            .executeUpdate(update, { args: [{ by: opts.by ?? whoAmI(), comment: opts.comment, version: opts.version?.replace(/^v/, '') }] });
          ctx.print(`${verb}: ${app} ${result.version ?? ''} in ${env}`.replace('  ', ' '));
          if (ctx.json) ctx.printJson({ app, environment: env, decision: verb, ...result });
        } catch (err) {
          if (err instanceof WorkflowUpdateFailedError) throw new CliExit(EXIT_FAILED, outcomeFailureText(err));
          if ((err as Error).name === 'WorkflowNotFoundError') throw new CliExit(EXIT_FAILED, `${app}/${env} has nothing waiting for approval (no promotion has run there yet)`);
          throw err;
        }
      });
  }
}
