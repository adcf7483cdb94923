/**
 * Tier: unit (no servers). The `write:` setting of an environment in slipway.yaml: push by
 * default, pull-request mode with its options, and the refusals, each at its field and line.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, githubRepoOfUrl, parseConfig } from '../../config/schema.js';

const config = (write: string | undefined, gitops = 'gitops: { url: "file:///srv/gitops.git" }') => `${gitops}
apps:
  todoapp:
    images: [todoapp/frontend]
    environments:
      - name: staging
        overlay: 1.2/overlays/staging
        argocd: { application: todoapp-staging }
      - name: production
        overlay: 1.2/overlays/production
        argocd: { application: todoapp-production }
${write === undefined ? '' : `        write: ${write}\n`}`;

const GITHUB_URL = 'gitops: { url: "https://github.com/org/gitops.git", tokenFromEnv: GITOPS_TOKEN }';

function problemsOf(text: string): ConfigError {
  try {
    parseConfig(text, 'slipway.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected the config to be rejected');
}

const production = (text: string) => parseConfig(text, 'slipway.yaml').apps.todoapp!.environments[1]!;

describe('write mode in slipway.yaml', () => {
  it('leaves write absent (a direct push) when the environment does not say, and accepts push', () => {
    expect(production(config(undefined)).write).toBeUndefined();
    expect(production(config('push')).write).toBe('push');
  });

  it('fills the pull-request defaults for `pull-request` and for an empty pullRequest', () => {
    const defaults = { pullRequest: { autoMerge: false, mergeMethod: 'merge', labels: [], reviewers: [], poll: 60_000, rollback: 'pull-request' } };
    expect(production(config('pull-request', GITHUB_URL)).write).toEqual(defaults);
    expect(production(config('{ pullRequest: {} }', GITHUB_URL)).write).toEqual(defaults);
  });

  it('keeps the options it is given', () => {
    const write = production(config('{ pullRequest: { autoMerge: true, mergeMethod: squash, labels: [deploy], reviewers: [alice, org/sre], poll: 10s, rollback: push } }', GITHUB_URL)).write;
    expect(write).toEqual({ pullRequest: { autoMerge: true, mergeMethod: 'squash', labels: ['deploy'], reviewers: ['alice', 'org/sre'], poll: 10_000, rollback: 'push' } });
  });

  it('derives gitops.github from an https://github.com url, and takes an explicit one for any other url', () => {
    expect(parseConfig(config('pull-request', GITHUB_URL), 'slipway.yaml').gitops.github).toBe('org/gitops');
    const explicit = parseConfig(config('pull-request', 'gitops: { url: "ssh://git@github.com/org/gitops.git", github: org/gitops, githubTokenFromEnv: GITHUB_API_TOKEN }'), 'slipway.yaml');
    expect(explicit.gitops.github).toBe('org/gitops');
    // No github key at all for a remote that is not on GitHub (configs parse as before).
    expect(Object.keys(parseConfig(config(undefined), 'slipway.yaml').gitops)).not.toContain('github');
  });

  it('reads owner/repo from the https GitHub url forms, and nothing from others', () => {
    expect(githubRepoOfUrl('https://github.com/org/gitops')).toBe('org/gitops');
    expect(githubRepoOfUrl('https://github.com/org/gitops.git')).toBe('org/gitops');
    expect(githubRepoOfUrl('https://github.com/org/gitops/')).toBe('org/gitops');
    expect(githubRepoOfUrl('https://github.com/org/gitops/tree/main')).toBeUndefined();
    expect(githubRepoOfUrl('https://gitlab.com/org/gitops.git')).toBeUndefined();
    expect(githubRepoOfUrl('git@github.com:org/gitops.git')).toBeUndefined();
    expect(githubRepoOfUrl('file:///srv/gitops.git')).toBeUndefined();
  });

  it('refuses pull-request mode when the GitOps repository on GitHub is not known, at the write field and its line', () => {
    const error = problemsOf(config('pull-request'));
    expect(error.problems).toEqual([
      {
        path: 'apps.todoapp.environments[1].write',
        line: 12,
        message: expect.stringContaining('gitops.github: owner/repo'),
      },
    ]);
    expect(error.message).toContain('apps.todoapp.environments[1].write (line 12)');
  });

  it("refuses pull-request mode without a token variable for GitHub's API (an ssh remote names none of its own)", () => {
    const error = problemsOf(config('pull-request', 'gitops: { url: "ssh://git@github.com/org/gitops.git", github: org/gitops }'));
    expect(error.problems).toEqual([{ path: 'apps.todoapp.environments[1].write', line: 12, message: expect.stringContaining('gitops.githubTokenFromEnv') }]);
  });

  it('refuses a rollback route other than pull-request or push, at its field', () => {
    const error = problemsOf(config('{ pullRequest: { rollback: force } }', GITHUB_URL));
    expect(error.problems.map((p) => p.path)).toEqual(['apps.todoapp.environments[1].write.pullRequest.rollback']);
  });

  it('refuses an unknown mode, naming what is accepted', () => {
    for (const bad of ['pullrequest', '{ pull: {} }', '[push]', '{ pullRequest: {}, push: true }']) {
      const error = problemsOf(config(bad, GITHUB_URL));
      expect(error.problems).toEqual([{ path: 'apps.todoapp.environments[1].write', line: 12, message: 'expected push, pull-request or { pullRequest: { … } }' }]);
    }
  });

  it('reports a bad option at its own field', () => {
    const error = problemsOf(config('\n          pullRequest:\n            mergeMethod: fast-forward\n            reviewers: ["not a login"]', GITHUB_URL));
    expect(error.problems.map((p) => [p.path, p.line])).toEqual([
      ['apps.todoapp.environments[1].write.pullRequest.mergeMethod', 14],
      ['apps.todoapp.environments[1].write.pullRequest.reviewers[0]', 15],
    ]);
    expect(error.problems[0]!.message).toContain('"squash"');
    expect(error.problems[1]!.message).toBe('expected a GitHub login or org/team');
  });

  it('refuses unknown pull-request options', () => {
    const error = problemsOf(config('{ pullRequest: { draft: true } }', GITHUB_URL));
    expect(error.problems).toEqual([{ path: 'apps.todoapp.environments[1].write.pullRequest', line: 12, message: expect.stringContaining('draft') }]);
  });

  it('refuses a gitops.github that is not owner/repo', () => {
    const error = problemsOf(config('push', 'gitops: { url: "file:///srv/gitops.git", github: "https://github.com/org/gitops" }'));
    expect(error.problems).toEqual([{ path: 'gitops.github', line: 1, message: 'expected owner/repo' }]);
  });
});
