/**
 * The tag-push webhook: GitHub → POST / with `X-Hub-Signature-256`. Only a delivery signed with
 * the shared secret is read further; a created tag matching an app starts that app's production
 * promotion (see tag-push.ts). Answers: 202 started, 200 already started (a duplicate delivery),
 * 202 ignored, 400 malformed, 401 bad signature, 413 too large, 503 Temporal unreachable.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Webhooks } from '@octokit/webhooks';
import type { PolicySummary } from '../../activities/types.js';
import { BodyTooLargeError, readBody } from './read-body.js';
import type { StartRelease } from './start-release.js';
import { decidePush, PayloadError } from './tag-push.js';

export interface WebhookServerOptions {
  /** The webhook secret configured on GitHub (SLIPWAY_WEBHOOK_SECRET). */
  secret: string;
  /** The worker's policy as clients see it, asked for each delivery that needs it (it may change). */
  policy: () => Promise<Pick<PolicySummary, 'apps'>>;
  startRelease: StartRelease;
  /** Default 1 MiB; GitHub caps payloads at 25 MB but tag pushes are small. */
  maxBodyBytes?: number;
  log?: (line: string) => void;
}

export function createWebhookServer(options: WebhookServerOptions): Server {
  if (!options.secret) throw new Error('the webhook secret is empty');
  const webhooks = new Webhooks({ secret: options.secret });
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const log = options.log ?? ((line: string) => console.log(line));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method === 'GET' && path === '/healthz') return reply(res, 200, { ok: true });
    if (req.method !== 'POST') return reply(res, 405, { error: 'POST a GitHub webhook delivery' }, { allow: 'POST' });

    let raw: Buffer;
    try {
      raw = await readBody(req, maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLargeError) return reply(res, 413, { error: err.message }, { connection: 'close' });
      throw err;
    }
    const signature = header(req, 'x-hub-signature-256');
    const body = raw.toString('utf8');
    if (!signature || !(await webhooks.verify(body, signature).catch(() => false))) {
      log(JSON.stringify({ webhook: 'rejected', reason: 'bad or missing signature', delivery: header(req, 'x-github-delivery') }));
      return reply(res, 401, { error: 'bad or missing X-Hub-Signature-256' });
    }

    const event = header(req, 'x-github-event');
    const delivery = header(req, 'x-github-delivery');
    if (event === 'ping') return reply(res, 200, { ok: true, event });
    if (event !== 'push') return reply(res, 202, { ignored: `event ${event ?? '(none)'}` });

    let payload: unknown;
    try {
      payload = JSON.parse(body);
    } catch {
      return reply(res, 400, { error: 'the body is not JSON' });
    }
    let policy;
    try {
      policy = await options.policy();
    } catch (err) {
      log(JSON.stringify({ webhook: 'failed', delivery, error: err instanceof Error ? err.message : String(err) }));
      return reply(res, 503, { error: 'cannot read the pipeline policy from a worker; redeliver later' });
    }
    let decision;
    try {
      decision = decidePush(payload, policy);
    } catch (err) {
      if (err instanceof PayloadError) return reply(res, 400, { error: err.message });
      throw err;
    }
    if (decision.action === 'ignore') {
      log(JSON.stringify({ webhook: 'ignored', delivery, reason: decision.reason }));
      return reply(res, 202, { ignored: decision.reason });
    }

    let results;
    try {
      results = await Promise.all(decision.releases.map(async (r) => ({ app: r.app, tag: r.tag, ...(await options.startRelease(r)) })));
    } catch (err) {
      log(JSON.stringify({ webhook: 'failed', delivery, error: err instanceof Error ? err.message : String(err) }));
      // GitHub shows the failed delivery and can redeliver it; the workflow id keeps that safe.
      return reply(res, 503, { error: 'could not start the release; redeliver later' });
    }
    for (const r of results) log(JSON.stringify({ webhook: r.started ? 'started' : 'already-started', delivery, ...r }));
    const started = results.some((r) => r.started);
    return reply(res, started ? 202 : 200, { started, releases: results });
  }

  return createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log(JSON.stringify({ webhook: 'error', error: err instanceof Error ? err.message : String(err) }));
      if (!res.headersSent) reply(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
