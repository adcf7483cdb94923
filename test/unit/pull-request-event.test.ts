/**
 * Tier: unit (no servers). Which promotions a `pull_request` or `merge_group` delivery wakes,
 * decided from the policy summary on GitHub's own example payloads (@octokit/webhooks-examples).
 */
import { describe, expect, it } from 'vitest';
import type { PolicySummary } from '../../activities/types.js';
import { decidePullRequestEvent } from '../../client/webhook/pull-request-event.js';
import { PayloadError } from '../../client/webhook/tag-push.js';
import { mergeGroupPayload, pullRequestPayload } from '../support/webhook-payloads.js';

const env = (name: string, repo?: string) => ({ name, freezeWindows: 0, checks: 0, backup: false, ...(repo ? { pullRequests: { repo } } : {}) });
const policy: Pick<PolicySummary, 'apps'> = {
  apps: {
    todoapp: { tag: { format: 'v{version}' } as never, triggers: {} as never, environments: [env('staging'), env('production', 'acme/gitops')] },
    billing: { tag: { format: 'v{version}' } as never, triggers: {} as never, environments: [env('production', 'acme/gitops')] },
    web: { source: 'acme/web', previews: true, tag: { format: 'v{version}' } as never, triggers: {} as never, environments: [env('staging')] },
    api: { source: 'acme/web', tag: { format: 'v{version}' } as never, triggers: {} as never, environments: [env('staging')] },
    other: { tag: { format: 'v{version}' } as never, triggers: {} as never, environments: [env('production', 'acme/elsewhere')] },
  },
};
const BRANCH = 'slipway/release-todoapp-3f2a9c1/production';

describe('pull_request and merge_group deliveries', () => {
  it('a merged pull request from a Slipway branch wakes that environment of every app in pull-request mode on the repository', () => {
    const decision = decidePullRequestEvent('pull_request', pullRequestPayload('closed', { number: 7, head: BRANCH, repo: 'acme/gitops', merged: true }), policy);
    expect(decision).toEqual({
      action: 'wake',
      repo: 'acme/gitops',
      number: 7,
      targets: [
        { app: 'todoapp', environment: 'production' },
        { app: 'billing', environment: 'production' },
      ],
    });
  });

  it('a rollback branch wakes its environment too, and the repository name matches whatever its case', () => {
    const decision = decidePullRequestEvent('pull_request', pullRequestPayload('opened', { number: 8, head: `${BRANCH}.rollback`, repo: 'Acme/GitOps' }), policy);
    expect(decision).toMatchObject({ action: 'wake', number: 8, targets: [{ app: 'todoapp', environment: 'production' }, { app: 'billing', environment: 'production' }] });
  });

  it('ignores, saying why: another repository, a branch not Slipway\'s, an environment not in pull-request mode, a fork', () => {
    const reason = (payload: Record<string, unknown>) => {
      const d = decidePullRequestEvent('pull_request', payload, policy);
      return d.action === 'ignore' ? d.reason : d.action;
    };
    expect(reason(pullRequestPayload('closed', { number: 7, head: BRANCH, repo: 'acme/app' }))).toBe('no environment is in pull-request mode on acme/app, and no app previews its pull requests');
    expect(reason(pullRequestPayload('closed', { number: 7, head: 'feature/x', repo: 'acme/gitops' }))).toMatch(/not from a Slipway branch/);
    expect(reason(pullRequestPayload('closed', { number: 7, head: 'slipway/release-x/staging', repo: 'acme/gitops' }))).toBe('no environment staging is in pull-request mode on acme/gitops');
    expect(reason(pullRequestPayload('closed', { number: 7, head: BRANCH, repo: 'acme/gitops', headRepo: 'mallory/gitops' }))).toMatch(/from a fork \(mallory\/gitops\)/);
  });

  it('a merge queue delivery wakes every pull-request promotion of its repository (its branch names no pull request of ours)', () => {
    expect(decidePullRequestEvent('merge_group', mergeGroupPayload('acme/gitops'), policy)).toEqual({
      action: 'wake',
      repo: 'acme/gitops',
      targets: [
        { app: 'todoapp', environment: 'production' },
        { app: 'billing', environment: 'production' },
      ],
    });
  });

  it('refuses a body that is not such a delivery (400), naming the field', () => {
    expect(() => decidePullRequestEvent('pull_request', [], policy)).toThrow(PayloadError);
    expect(() => decidePullRequestEvent('pull_request', { pull_request: {} }, policy)).toThrow('repository.full_name is missing');
    const noNumber = pullRequestPayload('opened', { number: 7, head: BRANCH, repo: 'acme/gitops' }) as Record<string, any>;
    noNumber.pull_request.number = 'seven';
    expect(() => decidePullRequestEvent('pull_request', noNumber, policy)).toThrow('pull_request.number');
    expect(() => decidePullRequestEvent('pull_request', { repository: { full_name: 'acme/gitops' } }, policy)).toThrow('pull_request is missing');
  });

  it("a pull request on an app's source repository is that app's preview event, for the apps with previews only", () => {
    for (const action of ['opened', 'synchronize', 'reopened', 'closed'] as const) {
      expect(decidePullRequestEvent('pull_request', pullRequestPayload(action, { number: 12, head: 'feature/login', repo: 'acme/web' }), policy)).toEqual({
        action: 'preview',
        repo: 'acme/web',
        number: 12,
        event: action,
        apps: ['web'],
      });
    }
  });

  it('makes no preview of a fork\'s pull request, nor of an action that changes none', () => {
    const fork = decidePullRequestEvent('pull_request', pullRequestPayload('opened', { number: 12, head: 'feature/login', repo: 'acme/web', headRepo: 'mallory/web' }), policy);
    expect(fork).toEqual({ action: 'ignore', reason: '#12 comes from a fork (mallory/web)' });
    const labeled = { ...pullRequestPayload('opened', { number: 12, head: 'feature/login', repo: 'acme/web' }), action: 'labeled' };
    expect(decidePullRequestEvent('pull_request', labeled, policy)).toEqual({ action: 'ignore', reason: 'a pull request labeled changes no preview' });
  });
});
