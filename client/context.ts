/**
 * What every CLI command gets: the config (loaded once, on first use), a Temporal client
 * (connected on first use), where to print, and whether to print JSON for scripts.
 */
import type { Client } from '@temporalio/client';
import { loadConfigFile } from '../config/load.js';
import type { SlipwayConfig } from '../config/schema.js';
import { temporalSettingsFromEnv, type TemporalSettings } from '../config/temporal.js';
import { workflowUiUrl } from '../core/links.js';
import type { PolicySummary } from '../activities/types.js';
import { connectClient } from './connect.js';
import { CliExit, EXIT_USAGE } from './errors.js';
import { appInPolicy, fetchPolicy } from './policy.js';

export interface CliContext {
  /** The operator's own slipway.yaml: only for syncing backup schedules; releases use the worker's policy. */
  loadConfig(): Promise<SlipwayConfig>;
  /** The worker's policy (apps, environments, gates), asked once per command. */
  policy(): Promise<PolicySummary>;
  /** The app's part of the worker's policy; an unknown app is a usage error. */
  appPolicy(app: string): Promise<PolicySummary['apps'][string]>;
  client(): Promise<Client>;
  settings: TemporalSettings;
  taskQueue: string;
  json: boolean;
  /** Human output (suppressed with --json). */
  print(text: string): void;
  /** Machine output for --json. */
  printJson(value: unknown): void;
  uiLink(workflowId: string): string | undefined;
  close(): Promise<void>;
}

export function createCliContext(options: { config?: string; json?: boolean }): CliContext {
  const settings = temporalSettingsFromEnv();
  let config: Promise<SlipwayConfig> | undefined;
  let client: Promise<Client> | undefined;
  let policy: Promise<PolicySummary> | undefined;
  const json = Boolean(options.json);
  return {
    settings,
    taskQueue: settings.taskQueue,
    json,
    loadConfig: () => (config ??= loadConfigFile(options.config)),
    client: () => (client ??= connectClient(settings)),
    policy: () => (policy ??= (client ??= connectClient(settings)).then((c) => fetchPolicy(c, settings.taskQueue))),
    async appPolicy(app) {
      const found = appInPolicy(await this.policy(), app);
      if (typeof found === 'string') throw new CliExit(EXIT_USAGE, `error: ${found}`);
      return found;
    },
    print: (text) => {
      if (!json) process.stdout.write(`${text}\n`);
    },
    printJson: (value) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    uiLink: (workflowId) => workflowUiUrl(settings, workflowId),
    async close() {
      if (client) await (await client.catch(() => undefined))?.connection.close();
    },
  };
}
