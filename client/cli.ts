#!/usr/bin/env node
/**
 * The `slipway` CLI. Exit codes: 0 success, 1 the release or operation failed, 2 usage or config
 * error. Temporal is reached through TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TEMPORAL_API_KEY,
 * the config is --config, SLIPWAY_CONFIG or ./slipway.yaml.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/schema.js';
import { registerApprovalCommands } from './commands/approval.js';
import { registerAttentionCommands } from './commands/attention.js';
import { registerBackupCommands } from './commands/backup.js';
import { registerMetricsCommands } from './commands/metrics.js';
import { registerPreviewCommands } from './commands/previews.js';
import { registerReleaseCommands } from './commands/release.js';
import { registerStatusCommands } from './commands/status.js';
import { createCliContext, type CliContext } from './context.js';
import { CliExit, EXIT_FAILED, EXIT_OK, EXIT_USAGE } from './errors.js';
import { failureText } from './failure-text.js';

export async function main(argv: string[]): Promise<number> {
  const program = new Command('slipway')
    .description('Durable GitOps promotions on Temporal: release, promote, approve, roll back, back up')
    .option('-c, --config <file>', 'pipeline config (default: $SLIPWAY_CONFIG or ./slipway.yaml)')
    .option('--json', 'print JSON for scripts instead of progress')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  let ctx: CliContext | undefined;
  const context = (): CliContext => (ctx ??= createCliContext(program.opts<{ config?: string; json?: boolean }>()));
  registerReleaseCommands(program, context);
  registerStatusCommands(program, context);
  registerApprovalCommands(program, context);
  registerAttentionCommands(program, context);
  registerBackupCommands(program, context);
  registerMetricsCommands(program, context);
  registerPreviewCommands(program, context);
  for (const command of program.commands) command.exitOverride();

  try {
    await program.parseAsync(argv);
    return EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here too, successfully.
      return err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.help' ? EXIT_OK : EXIT_USAGE;
    }
    if (err instanceof CliExit) {
      process.stderr.write(`${err.message}\n`);
      return err.code;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return EXIT_USAGE;
    }
    // A workflow's failure reads as its reason, not as the client's "Workflow execution failed".
    process.stderr.write(`error: ${failureText(err)}\n`);
    return EXIT_FAILED;
  } finally {
    await ctx?.close();
  }
}

process.exitCode = await main(process.argv);
