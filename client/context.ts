/**
 * What every CLI command gets: the config (loaded once, on first use), a Temporal client
 * (connected on first use), where to print, and whether to print JSON for scripts.
 */
import type { Client } from '@temporalio/client';
import { loadConfigFile } from '../config/load.js';
import type { SlipwayConfig } from '../config/schema.js';
import { connectClient, temporalSettingsFromEnv, workflowUiUrl, type TemporalSettings } from '../infra/temporal/connection.js';

export interface CliContext {
  loadConfig(): Promise<SlipwayConfig>;
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
  const json = Boolean(options.json);
  return {
    settings,
    taskQueue: settings.taskQueue,
    json,
    loadConfig: () => (config ??= loadConfigFile(options.config)),
    client: () => (client ??= connectClient(settings)),
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
