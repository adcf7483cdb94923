/**
 * Notifications: a log line, a Discord or a Slack incoming webhook. A failed delivery is a warning
 * and a count, never an exception: a notification must not fail a promotion. Webhook URLs are
 * secrets, read from the named env var when sending and never written anywhere.
 */
import { currentActivity } from '../activity-context.js';
import type { NotifyChannel } from '../../config/schema.js';
import { workflowUiUrl } from '../../core/links.js';
import type { NotificationEvent, NotifyActivities, NotifyInput } from '../types.js';
import { postJson } from './post-json.js';
import { discordPayload, logLine, slackPayload } from './render.js';

export { discordPayload, slackPayload, logLine, title } from './render.js';

export interface NotifyOptions {
  /** The Temporal UI's address, for links (SLIPWAY_UI_URL). */
  uiUrl?: string;
  namespace?: string;
  /** Where log lines and delivery warnings go; the activity logger (or the console) by default. */
  log?: (line: string) => void;
  /** Bound on each webhook call (default 5 s). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export function createNotifyActivities(opts: NotifyOptions = {}): NotifyActivities {
  const env = opts.env ?? process.env;
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const write = (level: 'info' | 'warn', line: string) => {
    if (opts.log) return opts.log(line);
    const ctx = currentActivity();
    if (ctx) ctx.log[level](line);
    else if (level === 'warn') console.warn(line);
    else console.log(line);
  };

  async function deliver(channel: NotifyChannel, event: NotificationEvent, uiUrl: string | undefined): Promise<void> {
    if (channel === 'log') {
      write('info', logLine(event, uiUrl));
      return;
    }
    const [service, target] = 'discord' in channel ? (['discord', channel.discord] as const) : (['slack', channel.slack] as const);
    const url = env[target.urlFromEnv];
    if (!url) throw new Error(`the environment variable ${target.urlFromEnv} is not set`);
    const body = service === 'discord' ? discordPayload(event, uiUrl) : slackPayload(event, uiUrl);
    await postJson(url, body, timeoutMs);
  }

  return {
    async notify({ channels, event }: NotifyInput) {
      const uiUrl = workflowUiUrl({ uiUrl: opts.uiUrl, namespace: opts.namespace ?? 'default' }, event.workflowId);
      const results = await Promise.allSettled(channels.map((channel) => deliver(channel, event, uiUrl)));
      let failed = 0;
      results.forEach((result, i) => {
        if (result.status === 'fulfilled') return;
        failed++;
        const reason = result.reason instanceof Error ? result.reason.message : String(result.reason);
        write('warn', JSON.stringify({ level: 'warn', notifyFailed: channelName(channels[i]!), kind: event.kind, app: event.app, reason }));
      });
      return { delivered: results.length - failed, failed };
    },
  };
}

/** `discord (DISCORD_WEBHOOK_URL)`: the variable's name, never its value. */
function channelName(channel: NotifyChannel): string {
  if (channel === 'log') return 'log';
  if ('discord' in channel) return `discord (${channel.discord.urlFromEnv})`;
  return `slack (${channel.slack.urlFromEnv})`;
}
