/**
 * What a notification says, per service. Pure functions of the event and the Temporal UI link,
 * so payload shapes are tested without sending anything.
 */
import type { NotificationEvent, NotificationKind } from '../types.js';

const TITLES: Record<NotificationKind, string> = {
  promoted: 'promoted',
  'rolled-back': 'rolled back',
  'promotion-failed': 'promotion failed',
  'awaiting-approval': 'awaiting approval',
  'release-succeeded': 'released',
  'release-failed': 'release failed',
  'backup-succeeded': 'backup succeeded',
  'backup-failed': 'backup failed',
};

type Tone = 'good' | 'bad' | 'waiting';
const TONE: Record<NotificationKind, Tone> = {
  promoted: 'good',
  'rolled-back': 'bad',
  'promotion-failed': 'bad',
  'awaiting-approval': 'waiting',
  'release-succeeded': 'good',
  'release-failed': 'bad',
  'backup-succeeded': 'good',
  'backup-failed': 'bad',
};
const DISCORD_COLOR: Record<Tone, number> = { good: 0x2ea043, bad: 0xd1242f, waiting: 0xbf8700 };
const EMOJI: Record<Tone, string> = { good: ':white_check_mark:', bad: ':x:', waiting: ':hourglass:' };

/** `todoapp 1.4.0 → production: promoted` */
export function title(event: NotificationEvent): string {
  const version = event.version ?? event.commit?.slice(0, 7);
  const subject = [event.app, version].filter(Boolean).join(' ');
  return `${subject}${event.environment ? ` → ${event.environment}` : ''}: ${TITLES[event.kind]}`;
}

/** App, environment, version, commit and outcome, for services that show fields. */
export function fields(event: NotificationEvent): Array<{ name: string; value: string }> {
  const out = [{ name: 'App', value: event.app }];
  if (event.environment) out.push({ name: 'Environment', value: event.environment });
  if (event.version) out.push({ name: 'Version', value: event.version });
  if (event.commit) out.push({ name: 'Commit', value: event.commit.slice(0, 12) });
  out.push({ name: 'Outcome', value: TITLES[event.kind] });
  return out;
}

/** One line of JSON for logs: machine-readable, grep-able by app and kind. */
export function logLine(event: NotificationEvent, uiUrl: string | undefined): string {
  return JSON.stringify({
    notify: event.kind,
    app: event.app,
    environment: event.environment,
    version: event.version,
    commit: event.commit,
    workflowId: event.workflowId,
    message: event.message,
    ui: uiUrl,
  });
}

/** Discord incoming webhook body (https://discord.com/developers/docs/resources/webhook#execute-webhook). */
export function discordPayload(event: NotificationEvent, uiUrl: string | undefined) {
  return {
    username: 'Slipway',
    content: `${EMOJI[TONE[event.kind]]} ${truncate(event.message, 1900)}`,
    // Messages quote app and branch names; never let them ping anyone.
    allowed_mentions: { parse: [] as string[] },
    embeds: [
      {
        title: truncate(title(event), 256),
        description: truncate(event.message, 4000),
        ...(uiUrl ? { url: uiUrl } : {}),
        color: DISCORD_COLOR[TONE[event.kind]],
        fields: [...fields(event).map((f) => ({ ...f, inline: true })), { name: 'Workflow', value: truncate(event.workflowId, 1024), inline: false }],
      },
    ],
  };
}

/** Slack incoming webhook body (https://api.slack.com/messaging/webhooks): `text` is the fallback for `blocks`. */
export function slackPayload(event: NotificationEvent, uiUrl: string | undefined) {
  const heading = `${EMOJI[TONE[event.kind]]} *${escapeSlack(title(event))}*`;
  return {
    text: `${title(event)}: ${event.message}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: truncate(`${heading}\n${escapeSlack(event.message)}`, 3000) } },
      { type: 'section', fields: fields(event).map((f) => ({ type: 'mrkdwn', text: `*${f.name}*\n${escapeSlack(f.value)}` })) },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: uiUrl ? `<${uiUrl}|${escapeSlack(event.workflowId)}> in the Temporal UI` : `workflow ${escapeSlack(event.workflowId)}`,
          },
        ],
      },
    ],
  };
}

const truncate = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** Slack's mrkdwn treats &, < and > as control characters. */
const escapeSlack = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
