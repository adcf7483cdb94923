/**
 * The GitHub webhook: GitHub → POST / with `X-Hub-Signature-256`. Only a delivery signed with the
 * shared secret is read further, and decided by the worker's policy:
 * - `push`: a created release tag starts that tag's production promotion, a push to a triggering
 *   branch starts a release of that commit into its environment (see tag-push.ts);
 * - `issue_comment`, `commit_comment`: `/slipway approve|reject <environment>` is relayed to the
 *   environment workflow and answered on GitHub (see comment-command.ts, approval-relay.ts).
 * Answers: 202 started or relayed, 200 already started (a duplicate delivery), 202 ignored (with the
 * reason), 400 malformed, 401 bad signature, 413 too large, 503 Temporal or GitHub unreachable.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Octokit } from '@octokit/rest';
import { Webhooks } from '@octokit/webhooks';
import type { PolicySummary } from '../../activities/types.js';
import { relayComment, type SendDecision } from './approval-relay.js';
import { COMMENT_EVENTS, decideComment, type CommentEvent } from './comment-command.js';
import { BodyTooLargeError, readBody } from './read-body.js';
import type { StartRelease } from './start-release.js';
import { decidePush, PayloadError, withoutOwnTags, type CreatedTagLookup } from './tag-push.js';

export interface WebhookServerOptions {
  /** The webhook secret configured on GitHub (SLIPWAY_WEBHOOK_SECRET). */
  secret: string;
  /** The worker's policy as clients see it, asked for each delivery that needs it (it may change). */
  policy: () => Promise<Pick<PolicySummary, 'apps'>>;
  startRelease: StartRelease;
  /** What a release of a commit tagged (its memo), so that a tag a release created starts nothing. */
  createdTag: CreatedTagLookup;
  /** Sends an approval or rejection from a comment to an environment workflow. */
  sendDecision: SendDecision;
  /** GitHub, to read pull requests and answer comments; without it comment commands are ignored, saying why. */
  github?: Octokit;
  /**
   * How long a comment's delivery waits for the environment workflow's answer (default 8 s: GitHub
   * waits 10 s); later it is answered as pending, and the answer on GitHub follows.
   */
  decisionAnswerWithinMs?: number;
  /** Default 1 MiB; GitHub caps payloads at 25 MB but pushes and comments are small. */
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
    const ignored = (reason: string) => {
      log(JSON.stringify({ webhook: 'ignored', delivery, event, reason }));
      reply(res, 202, { ignored: reason });
    };
    if (event === 'ping') return reply(res, 200, { ok: true, event });
    const isComment = event !== undefined && COMMENT_EVENTS.includes(event);
    if (event !== 'push' && !isComment) return ignored(`event ${event ?? '(none)'}`);
    if (isComment && !options.github) return ignored('comment commands are off: the webhook has no GITHUB_TOKEN to read pull requests and answer with');

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

    if (isComment) {
      let decision;
      try {
        decision = decideComment(event as CommentEvent, payload, policy);
      } catch (err) {
        if (err instanceof PayloadError) return reply(res, 400, { error: err.message });
        throw err;
      }
      if (decision.action === 'ignore') return ignored(decision.reason);
      try {
        const answer = await relayComment(decision, {
          event: event as CommentEvent,
          body,
          signature,
          github: options.github!,
          sendDecision: options.sendDecision,
          answerWithinMs: options.decisionAnswerWithinMs ?? 8_000,
          log: (fields) => log(JSON.stringify({ ...fields, delivery })),
        });
        return reply(res, answer.status, answer.body);
      } catch (err) {
        log(JSON.stringify({ webhook: 'failed', delivery, error: err instanceof Error ? err.message : String(err) }));
        return reply(res, 503, { error: 'could not send the decision to Temporal; redeliver later' });
      }
    }

    let decision;
    try {
      decision = decidePush(payload, policy);
    } catch (err) {
      if (err instanceof PayloadError) return reply(res, 400, { error: err.message });
      throw err;
    }
    if (decision.action === 'ignore') return ignored(decision.reason);

    let results;
    let ownTags: string[];
    try {
      const checked = await withoutOwnTags(decision.releases, options.createdTag);
      ownTags = checked.ignored;
      if (checked.releases.length === 0) return ignored(ownTags.join('; '));
      results = await Promise.all(
        checked.releases.map(async (r) => ({ app: r.app, ...(r.via === 'tag' ? { tag: r.tag } : { branch: r.branch }), commit: r.commit, ...(await options.startRelease(r)) })),
      );
    } catch (err) {
      log(JSON.stringify({ webhook: 'failed', delivery, error: err instanceof Error ? err.message : String(err) }));
      // GitHub shows the failed delivery and can redeliver it; the workflow id keeps that safe.
      return reply(res, 503, { error: 'could not start the release; redeliver later' });
    }
    for (const r of results) log(JSON.stringify({ webhook: r.started ? 'started' : 'already-started', delivery, ...r }));
    if (ownTags.length > 0) log(JSON.stringify({ webhook: 'ignored', delivery, event, reason: ownTags.join('; ') }));
    const started = results.some((r) => r.started);
    return reply(res, started ? 202 : 200, { started, releases: results, ...(ownTags.length > 0 ? { ignored: ownTags.join('; ') } : {}) });
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
