/** Builds that run as a shell command on the worker. */
import type { BuildActivities } from '../types.js';
import { runBuildCommand, type CommandBuildOptions } from './run-command.js';

export type { CommandBuildOptions } from './run-command.js';

export function createBuildActivities(options: CommandBuildOptions = {}): BuildActivities {
  return { runBuildCommand: (input) => runBuildCommand(input, options) };
}
