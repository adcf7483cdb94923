/**
 * The GitHub webhook: GitHub → POST / with `X-Hub-Signature-256`. Only a delivery signed with the
 * shared secret is read further, and decided by the worker's policy:
 * - `push`: a created release tag starts that tag's production promotion, a push to a triggering
 *   branch starts a release of that commit into its environment (see tag-push.ts);
 * - `issue_comment`, `commit_comment`: `/slipway approve|reject <environment>` is relayed to the
 *   environment workflow and answered on GitHub (see comment-command.ts, approval-relay.ts);
 * - `pull_request`, `merge_group` on the GitOps repository: the promotions waiting on a pull
 *   request of that environment are woken to look at it (see pull-request-event.ts).
 * Answers: 202 started or relayed, 200 already started (a duplicate delivery), 202 ignored (with the
 * reason), 400 malformed, 401 bad signature, 413 too large, 503 Temporal or GitHub unreachable, or
 * the server at its connection cap.
 *
 * Everything before the signature check is bounded, since anyone on the internet can send it: the
 * body read unverified (64 KiB by default; a push or a comment is a few KB), the connections held
 * at once (256 by default; one more is answered 503 and closed), and the time a request may take
 * to arrive (headers 10 s, the whole request 15 s) or a kept-alive connection may idle (5 s).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Octokit } from '@octokit/rest';
import { Webhooks } from '@octokit/webhooks';
import type { PolicySummary } from '../../activities/types.js';
import { relayComment, type SendDecision } from './approval-relay.js';
import { COMMENT_EVENTS, decideComment, type CommentEvent } from './comment-command.js';
import { decidePullRequestEvent, PULL_REQUEST_EVENTS } from './pull-request-event.js';
import { BodyTooLargeError, readBody } from './read-body.js';
import type { StartRelease } from './start-release.js';
import { decidePush, PayloadError, withoutOwnTags, type CreatedTagLookup } from './tag-push.js';
import type { PreviewEvent, WakePromotions } from './wake-promotions.js';

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
  /** Wakes promotions waiting on a pull request (pull-request mode); without it such deliveries are ignored, saying why. */
  wakePromotions?: WakePromotions;
  /** Hands a pull request event of an app's source repository to the app's previews. */
  previewEvent?: PreviewEvent;
  /** GitHub, to read pull requests and answer comments; without it comment commands are ignored, saying why. */
  github?: Octokit;
  /**
   * How long a comment's delivery waits for the environment workflow's answer (default 8 s: GitHub
   * waits 10 s); later it is answered as pending, and the answer on GitHub follows.
   */
  decisionAnswerWithinMs?: number;
  /**
   * The most body bytes read before the signature is checked (default 64 KiB): GitHub allows 25 MB
   * payloads, but pushes and comments are a few KB. A larger body is answered 413 at once.
   */
  maxBodyBytes?: number;
  /** The most connections held at once (default 256); one more is answered 503 and closed. */
  maxConnections?: number;
  /** How long the request headers may take to arrive (default 10 s). */
  headersTimeoutMs?: number;
  /** How long the whole request may take to arrive (default 15 s); the answer may take longer. */
  requestTimeoutMs?: number;
  log?: (line: string) => void;
}

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
export const DEFAULT_MAX_CONNECTIONS = 256;

export function createWebhookServer(options: WebhookServerOptions): Server {
  if (!options.secret) throw new Error('the webhook secret is empty');
  const webhooks = new Webhooks({ secret: options.secret });
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
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
    const isPullRequest = event !== undefined && PULL_REQUEST_EVENTS.includes(event);
    if (event !== 'push' && !isComment && !isPullRequest) return ignored(`event ${event ?? '(none)'}`);
    if (isPullRequest && !options.wakePromotions && !options.previewEvent) return ignored('pull-request deliveries are off: the webhook was started without Temporal to hand them to');
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

    if (isPullRequest) {
      let decision;
      try {
        decision = decidePullRequestEvent(event!, payload, policy);
      } catch (err) {
        if (err instanceof PayloadError) return reply(res, 400, { error: err.message });
        throw err;
      }
      if (decision.action === 'ignore') return ignored(decision.reason);
      if (decision.action === 'preview') {
        if (!options.previewEvent) return ignored('previews are off: the webhook was started without Temporal to hand them to');
        try {
          const handed = await Promise.all(decision.apps.map((app) => options.previewEvent!(app, decision.number, decision.event)));
          log(JSON.stringify({ webhook: 'preview', delivery, repo: decision.repo, number: decision.number, event: decision.event, workflows: handed }));
          return reply(res, 202, { previews: handed });
        } catch (err) {
          log(JSON.stringify({ webhook: 'failed', delivery, error: err instanceof Error ? err.message : String(err) }));
          return reply(res, 503, { error: 'could not hand the pull request to its previews; redeliver later' });
        }
      }
      if (!options.wakePromotions) return ignored('pull-request mode is off: the webhook was started without Temporal to wake promotions with');
      try {
        const woken = await options.wakePromotions(decision.targets, decision.number);
        log(JSON.stringify({ webhook: 'woken', delivery, event, repo: decision.repo, number: decision.number, promotions: woken }));
        return reply(res, 202, { woken });
      } catch (err) {
        log(JSON.stringify({ webhook: 'failed', delivery, error: err instanceof Error ? err.message : String(err) }));
        return reply(res, 503, { error: 'could not reach Temporal to wake the promotions; redeliver later' });
      }
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

  const refused = new WeakSet<Socket>();
  const server = createServer(
    {
      headersTimeout: options.headersTimeoutMs ?? 10_000,
      requestTimeout: options.requestTimeoutMs ?? 15_000,
      // Node checks the two timeouts above every 30 s by default, which would triple them.
      connectionsCheckingInterval: 1_000,
      keepAliveTimeout: 5_000,
    },
    (req, res) => {
      // A connection over the cap has had its 503; whatever it sends is drained, never handled.
      if (refused.has(req.socket)) return void req.resume();
      handle(req, res).catch((err: unknown) => {
        log(JSON.stringify({ webhook: 'error', error: err instanceof Error ? err.message : String(err) }));
        if (!res.headersSent) reply(res, 500, { error: 'internal error' });
        else res.destroy();
      });
    },
  );
  limitConnections(server, options.maxConnections ?? DEFAULT_MAX_CONNECTIONS, refused, log);
  return server;
}

const AT_CAPACITY = JSON.stringify({ error: 'the webhook is at its limit of open connections; redeliver later' });

/**
 * Holds at most `max` connections. One more is answered 503 straight away (rather than Node's
 * `maxConnections`, which drops it unanswered, so GitHub's delivery log would say only "connection
 * reset") and closed: its half is ended at once, what it sends is read and discarded so the close
 * is a clean FIN that does not destroy the answer, and it is destroyed a second later at most.
 */
function limitConnections(server: Server, max: number, refused: WeakSet<Socket>, log: (line: string) => void): void {
  const open = new Set<Socket>();
  let refusedSince = 0;
  let lastReport = 0;
  // Ahead of the HTTP layer's own listener: the refusal is written before any request on it is parsed.
  server.prependListener('connection', (socket: Socket) => {
    if (open.size < max) {
      open.add(socket);
      socket.once('close', () => open.delete(socket));
      return;
    }
    refused.add(socket);
    socket.end(
      `HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 10\r\nconnection: close\r\ncontent-length: ${AT_CAPACITY.length}\r\n\r\n${AT_CAPACITY}`,
    );
    socket.resume();
    setTimeout(() => socket.destroy(), 1_000).unref();
    refusedSince++;
    // One line at most every 10 s: a flood must not become a flood of log lines.
    if (Date.now() - lastReport >= 10_000) {
      log(JSON.stringify({ webhook: 'refused', reason: `at the limit of ${max} open connections`, refused: refusedSince }));
      lastReport = Date.now();
      refusedSince = 0;
    }
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
