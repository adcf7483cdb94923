/**
 * Notifications delivered to a real local HTTP receiver standing in for Discord and Slack: the
 * payload each service expects, failures that never throw, and webhook URLs (secrets) that never
 * reach a log line.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createNotifyActivities } from '../../activities/notify/index.js';
import type { NotificationEvent } from '../../activities/types.js';

interface Received {
  path: string;
  contentType?: string;
  body: any;
}

let server: Server;
let base: string;
let received: Received[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, contentType: req.headers['content-type'], body: JSON.parse(Buffer.concat(chunks).toString() || 'null') });
      if (path.includes('/broken/')) return void res.writeHead(500).end(`internal error at ${path}`);
      if (path.includes('/hang/')) return; // never answers
      res.writeHead(path.includes('/discord/') ? 204 : 200).end(path.includes('/slack/') ? 'ok' : undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  received = [];
});

const event: NotificationEvent = {
  kind: 'promoted',
  app: 'todoapp',
  environment: 'production',
  version: '1.4.0',
  commit: '3f2a9c1d0e5b7a8c9d0e1f2a3b4c5d6e7f8a9b0c',
  workflowId: 'release/todoapp/v1.4.0',
  message: 'todoapp 1.4.0 is live in production',
};

function setup(env: Record<string, string>) {
  const lines: string[] = [];
  const notify = createNotifyActivities({ uiUrl: 'http://temporal-ui.example:8233', namespace: 'default', log: (l) => lines.push(l), env, timeoutMs: 1000 });
  return { lines, notify: notify.notify };
}

const uiLink = 'http://temporal-ui.example:8233/namespaces/default/workflows/release%2Ftodoapp%2Fv1.4.0';

describe('notify', () => {
  it("writes one structured line for 'log'", async () => {
    const { lines, notify } = setup({});
    expect(await notify({ channels: ['log'], event })).toEqual({ delivered: 1, failed: 0 });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ notify: 'promoted', app: 'todoapp', environment: 'production', version: '1.4.0', ui: uiLink });
  });

  it('posts a Discord webhook body: content and an embed with fields and the Temporal UI link', async () => {
    const secretUrl = `${base}/discord/api/webhooks/123/secret-token-abc`;
    const { notify } = setup({ DISCORD_URL: secretUrl });
    expect(await notify({ channels: [{ discord: { urlFromEnv: 'DISCORD_URL' } }], event })).toEqual({ delivered: 1, failed: 0 });
    expect(received).toHaveLength(1);
    const { body, contentType } = received[0]!;
    expect(contentType).toBe('application/json');
    expect(body.content).toContain(event.message);
    expect(body.allowed_mentions).toEqual({ parse: [] });
    const [embed] = body.embeds;
    expect(embed.title).toBe('todoapp 1.4.0 → production: promoted');
    expect(embed.url).toBe(uiLink);
    const fields = Object.fromEntries(embed.fields.map((f: { name: string; value: string }) => [f.name, f.value]));
    expect(fields).toMatchObject({ App: 'todoapp', Environment: 'production', Version: '1.4.0', Outcome: 'promoted' });
  });

  it('posts a Slack webhook body: text and blocks with the Temporal UI link', async () => {
    const { notify } = setup({ SLACK_URL: `${base}/slack/services/T0/B0/secret-xyz` });
    expect(await notify({ channels: [{ slack: { urlFromEnv: 'SLACK_URL' } }], event: { ...event, message: 'a <b> & c' } })).toEqual({ delivered: 1, failed: 0 });
    const { body } = received[0]!;
    expect(body.text).toContain('todoapp 1.4.0 → production: promoted');
    expect(body.blocks.map((b: { type: string }) => b.type)).toEqual(['section', 'section', 'context']);
    expect(body.blocks[0].text.text).toContain('a &lt;b&gt; &amp; c');
    expect(body.blocks[1].fields.map((f: { text: string }) => f.text)).toContain('*Environment*\nproduction');
    expect(body.blocks[2].elements[0].text).toContain(`<${uiLink}|`);
  });

  it('counts a 500, a hanging receiver, a refused connection and a missing variable as failed, without throwing or leaking URLs', async () => {
    const urls = {
      BROKEN: `${base}/discord/broken/secret-one`,
      HANG: `${base}/slack/hang/secret-two`,
      REFUSED: 'http://127.0.0.1:1/slack/secret-three',
    };
    const { lines, notify } = setup(urls);
    const result = await notify({
      channels: [
        'log',
        { discord: { urlFromEnv: 'BROKEN' } },
        { slack: { urlFromEnv: 'HANG' } },
        { slack: { urlFromEnv: 'REFUSED' } },
        { discord: { urlFromEnv: 'NOT_SET_ANYWHERE' } },
      ],
      event,
    });
    expect(result).toEqual({ delivered: 1, failed: 4 });
    const warnings = lines.slice(1).map((l) => JSON.parse(l));
    expect(warnings.map((w) => w.notifyFailed)).toEqual(['discord (BROKEN)', 'slack (HANG)', 'slack (REFUSED)', 'discord (NOT_SET_ANYWHERE)']);
    expect(warnings[0].reason).toContain('HTTP 500');
    expect(warnings[1].reason).toContain('no answer within 1000ms');
    expect(warnings[3].reason).toContain('NOT_SET_ANYWHERE');
    const all = lines.join('\n');
    for (const secret of ['secret-one', 'secret-two', 'secret-three', ...Object.values(urls)]) expect(all).not.toContain(secret);
  });
});
