/**
 * Real GitHub payloads (from @octokit/webhooks-examples) — pushes, issue and commit comments —
 * adapted to what a test needs, and signed the way GitHub signs deliveries.
 */
import { createRequire } from 'node:module';
import { Webhooks } from '@octokit/webhooks';
import { parseConfig, type SlipwayConfig } from '../../config/schema.js';

interface WebhookExamples {
  name: string;
  examples: Array<Record<string, unknown>>;
}

const require = createRequire(import.meta.url);
const all = require('@octokit/webhooks-examples') as WebhookExamples[];
const pushExamples = all.find((e) => e.name === 'push')!.examples;
const issueCommentExamples = all.find((e) => e.name === 'issue_comment')!.examples;
const commitCommentExamples = all.find((e) => e.name === 'commit_comment')!.examples;
const pullRequestExamples = all.find((e) => e.name === 'pull_request')!.examples;
const mergeGroupExamples = all.find((e) => e.name === 'merge_group')!.examples;

/**
 * GitHub's example `pull_request` delivery of `action` (Codertocat/Hello-World), made to be about
 * pull request `number` of `repo` from `head`; `merged` for a closed one that was merged.
 */
export function pullRequestPayload(
  action: 'opened' | 'closed' | 'synchronize' | 'reopened',
  options: { number: number; head: string; repo?: string; merged?: boolean; headRepo?: string },
): Record<string, unknown> {
  const example = structuredClone(pullRequestExamples.find((e) => e.action === action)!) as Record<string, any>;
  const repo = options.repo ?? example.repository.full_name;
  const [owner, name] = repo.split('/');
  example.number = options.number;
  example.repository = { ...example.repository, full_name: repo, name, owner: { ...example.repository.owner, login: owner } };
  example.pull_request.number = options.number;
  example.pull_request.head = { ...example.pull_request.head, ref: options.head, repo: { ...example.pull_request.head.repo, full_name: options.headRepo ?? repo } };
  if (action === 'closed') example.pull_request.merged = options.merged ?? false;
  return example;
}

/** GitHub's example `merge_group` delivery, on `repo`. */
export function mergeGroupPayload(repo: string): Record<string, unknown> {
  const example = structuredClone(mergeGroupExamples[0]!) as Record<string, any>;
  example.repository = { ...example.repository, full_name: repo };
  return example;
}

/** GitHub's example of a created tag (`refs/tags/simple-tag` in Codertocat/Hello-World). */
export function tagPushPayload(tag: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const example = pushExamples.find((e) => String(e.ref).startsWith('refs/tags/') && e.created === true)!;
  return { ...structuredClone(example), ref: `refs/tags/${tag}`, ...overrides };
}

/** GitHub's example of a branch push (`refs/heads/master`), to `branch` and at `commit` when given. */
export function branchPushPayload(options: { branch?: string; commit?: string } = {}, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const example = structuredClone(pushExamples.find((e) => String(e.ref).startsWith('refs/heads/'))!);
  if (options.branch) example.ref = `refs/heads/${options.branch}`;
  if (options.commit) {
    example.after = options.commit;
    example.head_commit = { ...(example.head_commit as object), id: options.commit };
  }
  return { ...example, ...overrides };
}

/** A push that deletes `branch`: GitHub sends `deleted: true`, `after` all zeros and no head commit. */
export function branchDeletePayload(branch: string): Record<string, unknown> {
  return branchPushPayload({ branch }, { deleted: true, created: false, after: '0'.repeat(40), head_commit: null, commits: [] });
}

/** The same push, made to a fork of the repository. */
export function forkPushPayload(branch: string, commit: string, fullName = 'Codertocat/Hello-World'): Record<string, unknown> {
  const push = branchPushPayload({ branch, commit });
  return { ...push, repository: { ...(push.repository as object), full_name: fullName, fork: true } };
}

/**
 * GitHub's example of a new issue comment, made now (the worker takes only comments newer than the
 * wait for approval), with `body`; on a pull request (GitHub's `issue.pull_request`) unless told not.
 */
export function issueCommentPayload(body: string, options: { pullRequest?: boolean; commentId?: number } = {}): Record<string, unknown> {
  const example = structuredClone(issueCommentExamples.find((e) => e.action === 'created')!) as Record<string, any>;
  example.comment.body = body;
  example.comment.created_at = example.comment.updated_at = new Date().toISOString();
  if (options.commentId) example.comment.id = options.commentId;
  if (options.pullRequest !== false) {
    const url = `https://api.github.com/repos/${example.repository.full_name}/pulls/${example.issue.number}`;
    const html = `https://github.com/${example.repository.full_name}/pull/${example.issue.number}`;
    example.issue.pull_request = { url, html_url: html, diff_url: `${html}.diff`, patch_url: `${html}.patch` };
  }
  return example;
}

/** GitHub's example of a new comment on a commit, made now, with `body`, on `commit` when given. */
export function commitCommentPayload(body: string, commit?: string): Record<string, unknown> {
  const example = structuredClone(commitCommentExamples.find((e) => e.action === 'created')!) as Record<string, any>;
  example.comment.body = body;
  example.comment.created_at = example.comment.updated_at = new Date().toISOString();
  if (commit) example.comment.commit_id = commit;
  return example;
}

/** GitHub's example of a deleted tag. */
export function tagDeletePayload(tag: string): Record<string, unknown> {
  const example = pushExamples.find((e) => String(e.ref).startsWith('refs/tags/') && e.deleted === true)!;
  return { ...structuredClone(example), ref: `refs/tags/${tag}` };
}

export function sign(secret: string, body: string): Promise<string> {
  return new Webhooks({ secret }).sign(body);
}

/**
 * A config with one app whose source is the repository of GitHub's example payloads: pushes to
 * main go to staging; `tag` is the app's tag rules (YAML flow mapping) when given.
 */
export function helloWorldConfig(options: { tag?: string } = {}): SlipwayConfig {
  return parseConfig(
    `
gitops: { url: /tmp/gitops.git }
apps:
  hello:
    source: { github: Codertocat/Hello-World }
    images: [hello/web]
    triggers: { push: [ { branch: main, to: staging } ] }
${options.tag ? `    tag: ${options.tag}\n` : ''}    environments:
      - { name: staging, overlay: o/staging, argocd: { application: hello-staging } }
      - name: production
        overlay: o/production
        argocd: { application: hello-production }
        approval: { required: true }
`,
    'test.yaml',
  );
}
