/**
 * GitHub's pull requests for a GitOps repository that is a real bare repository on disk, for tests
 * of pull-request mode end to end. Every request is first sent to Prism serving GitHub's own
 * OpenAPI description (infra/github-mock/prism.ts), which validates it against the schema; Prism
 * keeps no state, so the answer comes from this twin: the pull requests it holds, their heads read
 * from the bare repository's branches, and merges made in the bare repository itself (plumbing
 * commands and update-ref, so main's pre-receive hook, which refuses every push, stays in force for
 * everyone else). A request Prism refuses is answered with Prism's refusal, so a wrong request
 * fails where it is made; `requestViolations()` lists them for the test to assert none.
 *
 * The test plays the people: `merge` and `close` act as a person on GitHub would (no delivery is
 * sent: the test sends the signed webhook delivery, or not, to show the poll).
 */
import { execFileSync } from 'node:child_process';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { startFront } from './http-front.js';
import type { PrismMock, RecordedRequest } from '../../infra/github-mock/prism.js';

export interface TwinPull {
  number: number;
  head: string;
  base: string;
  title: string;
  body: string;
  state: 'open' | 'closed';
  merged: boolean;
  mergeCommit?: string;
  mergedBy?: string;
  closedBy?: string;
  /** The head when it was closed or merged (the branch may move on afterwards). */
  finalHead?: string;
  labels: string[];
  reviewers: string[];
}

export interface TwinComment {
  id: number;
  issue: number;
  body: string;
  login: string;
}

/** The login of the token Slipway's worker uses. */
export const BOT = 'slipway-bot';

export class GithubTwin {
  readonly pulls: TwinPull[] = [];
  readonly comments: TwinComment[] = [];
  /** Every request as the twin saw it: `POST /repos/acme/gitops/pulls`. */
  readonly calls: string[] = [];
  /** When set, GitHub refuses merges through its API (405), as with required reviews or a merge queue. */
  mergesRefused: string | undefined;
  /** Called after a pull request was created and before the answer is sent (a test may stall the answer here). */
  beforeCreateAnswer: ((pull: TwinPull) => Promise<void>) | undefined;
  private server: Server | undefined;
  private nextComment = 1;
  url = '';

  constructor(
    private readonly prism: PrismMock,
    /** The bare repository the pull requests are about. */
    private readonly barePath: string,
    /** owner/repo as GitHub names it. */
    readonly repo: string,
  ) {}

  async start(): Promise<void> {
    const front = await startFront('GitHub twin', (req, res) => this.handle(req, res));
    this.server = front.server;
    this.url = front.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  /** Requests Prism refused for what they asked (not for its own example answers). */
  requestViolations(): RecordedRequest[] {
    return this.prism.violations().filter((r) => {
      const validation = (r.responseBody as { validation?: Array<{ location: string[] }> } | undefined)?.validation;
      return !validation?.length || validation.some((v) => v.location[0] !== 'response');
    });
  }

  pull(number: number): TwinPull {
    const pull = this.pulls.find((p) => p.number === number);
    if (!pull) throw new Error(`no pull request #${number} in the twin`);
    return pull;
  }

  /** A person merges the pull request on GitHub: a merge commit (or one squashed commit) on the base, made in the bare repository. */
  merge(number: number, by: string, method: 'merge' | 'squash' = 'merge'): string {
    const pull = this.pull(number);
    if (pull.state !== 'open') throw new Error(`#${number} is ${pull.state}`);
    const base = this.git('rev-parse', `refs/heads/${pull.base}`);
    const head = this.git('rev-parse', `refs/heads/${pull.head}`);
    const tree = this.git('merge-tree', '--write-tree', base, head).split('\n')[0]!;
    const message = method === 'squash' ? `${pull.title} (#${number})` : `Merge pull request #${number} from ${this.repo.split('/')[0]}/${pull.head}`;
    const parents = method === 'squash' ? ['-p', base] : ['-p', base, '-p', head];
    const commit = this.git('commit-tree', tree, ...parents, '-m', message);
    this.git('update-ref', `refs/heads/${pull.base}`, commit, base);
    Object.assign(pull, { state: 'closed', merged: true, mergeCommit: commit, mergedBy: by, finalHead: head });
    return commit;
  }

  /** A person opens a pull request from `head` (a branch of the bare repository). */
  open(head: string, base = 'main', title = `change ${head}`): TwinPull {
    const pull: TwinPull = { number: this.pulls.length + 1, head, base, title, body: '', state: 'open', merged: false, labels: [], reviewers: [] };
    this.pulls.push(pull);
    return pull;
  }

  /** A person closes the pull request without merging it. */
  close(number: number, by: string): void {
    const pull = this.pull(number);
    Object.assign(pull, { state: 'closed', closedBy: by, finalHead: this.headOf(pull) });
  }

  private git(...args: string[]): string {
    return execFileSync('git', ['--git-dir', this.barePath, ...args], {
      encoding: 'utf8',
      env: { ...process.env, GIT_AUTHOR_NAME: 'GitHub', GIT_AUTHOR_EMAIL: 'noreply@github.com', GIT_COMMITTER_NAME: 'GitHub', GIT_COMMITTER_EMAIL: 'noreply@github.com' },
    }).trim();
  }

  private headOf(pull: TwinPull): string {
    if (pull.finalHead) return pull.finalHead;
    try {
      return this.git('rev-parse', '--verify', '--quiet', `refs/heads/${pull.head}`);
    } catch {
      return '0'.repeat(40);
    }
  }

  private payload(pull: TwinPull) {
    const [owner] = this.repo.split('/');
    return {
      number: pull.number,
      state: pull.state,
      title: pull.title,
      body: pull.body,
      html_url: `https://github.com/${this.repo}/pull/${pull.number}`,
      user: { login: BOT },
      merged: pull.merged,
      merged_at: pull.merged ? new Date().toISOString() : null,
      closed_at: pull.state === 'closed' ? new Date().toISOString() : null,
      merge_commit_sha: pull.mergeCommit ?? null,
      merged_by: pull.mergedBy ? { login: pull.mergedBy } : null,
      head: { ref: pull.head, sha: this.headOf(pull), repo: { full_name: this.repo }, label: `${owner}:${pull.head}` },
      base: { ref: pull.base, repo: { full_name: this.repo } },
      labels: pull.labels.map((name) => ({ name })),
      requested_reviewers: pull.reviewers.map((login) => ({ login })),
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://twin');
    this.calls.push(`${method} ${url.pathname}`);

    // Prism first: it validates the request against GitHub's description and records it.
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([h]) => !['host', 'connection', 'content-length'].includes(h))) as Record<string, string>;
    const checked = await fetch(`${this.prism.url}${req.url}`, { method, headers, ...(raw.length ? { body: raw } : {}) });
    const problem = (await checked.json().catch(() => undefined)) as { type?: string; validation?: Array<{ location: string[] }> } | undefined;
    const refused = problem?.type?.startsWith('https://stoplight.io/prism/errors#') && (!problem.validation?.length || problem.validation.some((v) => v.location[0] !== 'response'));
    if (refused) return answer(res, checked.status, problem);

    const body = raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, any>) : {}; // eslint-disable-line @typescript-eslint/no-explicit-any
    const prefix = `/repos/${this.repo}`;
    if (!url.pathname.startsWith(`${prefix}/`)) return answer(res, 404, { message: 'Not Found' });
    const path = url.pathname.slice(prefix.length);
    let m: RegExpExecArray | null;

    if (method === 'GET' && path === '/pulls') {
      const head = url.searchParams.get('head')?.replace(/^[^:]+:/, '');
      const base = url.searchParams.get('base');
      const state = url.searchParams.get('state') ?? 'open';
      const listed = this.pulls.filter((p) => (!head || p.head === head) && (!base || p.base === base) && (state === 'all' || p.state === state));
      return answer(res, 200, listed.map((p) => this.payload(p)));
    }
    if (method === 'POST' && path === '/pulls') {
      const head = String(body.head);
      if (this.pulls.some((p) => p.head === head && p.base === body.base && p.state === 'open')) {
        return answer(res, 422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${this.repo.split('/')[0]}:${head}.` }] });
      }
      if (this.headOf({ head } as TwinPull) === '0'.repeat(40)) return answer(res, 422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', field: 'head', code: 'invalid' }] });
      const pull: TwinPull = { number: this.pulls.length + 1, head, base: String(body.base), title: String(body.title), body: String(body.body ?? ''), state: 'open', merged: false, labels: [], reviewers: [] };
      this.pulls.push(pull);
      await this.beforeCreateAnswer?.(pull);
      return answer(res, 201, this.payload(pull));
    }
    if ((m = /^\/pulls\/(\d+)$/.exec(path))) {
      const pull = this.pulls.find((p) => p.number === Number(m![1]));
      if (!pull) return answer(res, 404, { message: 'Not Found' });
      if (method === 'PATCH' && body.state === 'closed' && pull.state === 'open') Object.assign(pull, { state: 'closed', closedBy: BOT, finalHead: this.headOf(pull) });
      return answer(res, 200, this.payload(pull));
    }
    if (method === 'PUT' && (m = /^\/pulls\/(\d+)\/merge$/.exec(path))) {
      const pull = this.pulls.find((p) => p.number === Number(m![1]));
      if (!pull) return answer(res, 404, { message: 'Not Found' });
      if (this.mergesRefused || pull.state !== 'open') return answer(res, 405, { message: this.mergesRefused ?? 'Pull Request is not mergeable' });
      if (body.sha && body.sha !== this.headOf(pull)) return answer(res, 409, { message: 'Head branch was modified. Review and try the merge again.' });
      const commit = this.merge(pull.number, BOT, body.merge_method === 'squash' ? 'squash' : 'merge');
      return answer(res, 200, { sha: commit, merged: true, message: 'Pull Request successfully merged' });
    }
    if (method === 'POST' && (m = /^\/pulls\/(\d+)\/requested_reviewers$/.exec(path))) {
      const pull = this.pull(Number(m[1]));
      pull.reviewers.push(...((body.reviewers as string[]) ?? []));
      return answer(res, 201, this.payload(pull));
    }
    if (method === 'POST' && (m = /^\/issues\/(\d+)\/labels$/.exec(path))) {
      const pull = this.pull(Number(m[1]));
      pull.labels.push(...((body.labels as string[]) ?? []));
      return answer(res, 200, pull.labels.map((name) => ({ name })));
    }
    if ((m = /^\/issues\/(\d+)\/comments$/.exec(path))) {
      const issue = Number(m[1]);
      if (method === 'POST') {
        const comment = { id: this.nextComment++, issue, body: String(body.body), login: BOT };
        this.comments.push(comment);
        return answer(res, 201, { id: comment.id, body: comment.body, user: { login: BOT }, created_at: new Date().toISOString(), html_url: `https://github.com/${this.repo}/pull/${issue}#issuecomment-${comment.id}` });
      }
      const page = Number(url.searchParams.get('page') ?? 1);
      const perPage = Number(url.searchParams.get('per_page') ?? 30);
      const listed = this.comments.filter((c) => c.issue === issue).slice((page - 1) * perPage, page * perPage);
      return answer(res, 200, listed.map((c) => ({ id: c.id, body: c.body, user: { login: c.login }, created_at: new Date(c.id * 1000).toISOString(), html_url: `https://github.com/${this.repo}/pull/${issue}#issuecomment-${c.id}` })));
    }
    if (method === 'PATCH' && (m = /^\/issues\/comments\/(\d+)$/.exec(path))) {
      const comment = this.comments.find((c) => c.id === Number(m![1]));
      if (!comment) return answer(res, 404, { message: 'Not Found' });
      comment.body = String(body.body);
      return answer(res, 200, { id: comment.id, body: comment.body, user: { login: comment.login }, created_at: new Date(comment.id * 1000).toISOString(), html_url: `https://github.com/${this.repo}/pull/${comment.issue}#issuecomment-${comment.id}` });
    }
    if (method === 'GET' && (m = /^\/issues\/(\d+)$/.exec(path))) {
      const pull = this.pull(Number(m[1]));
      return answer(res, 200, { number: pull.number, state: pull.state, closed_by: pull.closedBy ? { login: pull.closedBy } : null, pull_request: { url: '' } });
    }
    if (method === 'GET' && /^\/issues\/\d+\/events$/.test(path)) return answer(res, 200, []);
    return answer(res, 404, { message: 'Not Found' });
  }
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
