/**
 * `slipway previews list [app]`: the preview environments up (or being made or removed), each with
 * its pull request, build, phase and address; `slipway previews delete <app> <number>`: removes one
 * now (its Application, its overlay, a comment on the pull request saying who removed it).
 */
import type { Command } from 'commander';
import { previewWorkflowId } from '../../core/ids.js';
import { SA_APP } from '../../core/search-attributes.js';
import { previewRemoveSignal, previewStateQuery } from '../../workflows/messages.js';
import type { PreviewState } from '../../workflows/types.js';
import type { CliContext } from '../context.js';
import { CliExit, EXIT_FAILED, EXIT_USAGE } from '../errors.js';
import { whoAmI } from '../user.js';

export function registerPreviewCommands(program: Command, context: () => CliContext): void {
  const previews = program.command('previews').description('preview environments of pull requests');
  previews
    .command('list')
    .description('the preview environments up, being made or being removed')
    .argument('[app]')
    .action(async (app: string | undefined) => {
      const ctx = context();
      if (app) await ctx.appPolicy(app);
      const client = await ctx.client();
      const query = `WorkflowType = 'preview' AND ExecutionStatus = 'Running'${app ? ` AND ${SA_APP.name} = '${app.replace(/['\\]/g, '')}'` : ''}`;
      const states: PreviewState[] = [];
      for await (const execution of client.workflow.list({ query })) {
        states.push(await client.workflow.getHandle(execution.workflowId, execution.runId).query(previewStateQuery));
      }
      states.sort((a, b) => a.app.localeCompare(b.app) || a.number - b.number);
      if (ctx.json) return ctx.printJson(states);
      if (states.length === 0) return ctx.print(app ? `no previews of ${app}` : 'no previews');
      for (const s of states) {
        ctx.print(`${s.app} #${s.number}  ${s.name}  ${s.phase}  ${s.head ? s.head.slice(0, 7) : '-'}  ${s.url ?? ''}  ${s.detail}`.replace(/ {3,}/g, '  '));
      }
    });
  previews
    .command('delete')
    .description('remove a preview now: its Argo CD Application, its overlay, and a comment on the pull request')
    .argument('<app>')
    .argument('<number>')
    .option('--by <name>', 'who removes it (default: SLIPWAY_USER or the OS user)')
    .action(async (app: string, number: string, opts: { by?: string }) => {
      if (!/^[1-9]\d*$/.test(number)) throw new CliExit(EXIT_USAGE, `error: <number> is a pull request number, got "${number}"`);
      const ctx = context();
      await ctx.appPolicy(app);
      const client = await ctx.client();
      const id = previewWorkflowId(app, Number(number));
      try {
        await client.workflow.getHandle(id).signal(previewRemoveSignal, { reason: `removed by ${opts.by ?? whoAmI()} (slipway previews delete)` });
      } catch (err) {
        if ((err as Error).name === 'WorkflowNotFoundError') throw new CliExit(EXIT_FAILED, `${app} #${number} has no preview running`);
        throw err;
      }
      ctx.print(`removing the preview of ${app} #${number} (${id})`);
      if (ctx.json) ctx.printJson({ app, number: Number(number), workflowId: id });
    });
}
