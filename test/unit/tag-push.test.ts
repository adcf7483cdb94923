/** Which push deliveries start a release, and of what: pure, on GitHub's own example payloads. */
import { describe, expect, it, vi } from 'vitest';
import { summarize } from '../../activities/policy/index.js';
import { pushReleaseInput, pushReleaseWorkflowId } from '../../client/webhook/start-release.js';
import { decidePush, PayloadError, withoutOwnTags, type PushRelease } from '../../client/webhook/tag-push.js';
import { ConfigError, parseConfig } from '../../config/schema.js';
import { branchDeletePayload, branchPushPayload, forkPushPayload, helloWorldConfig, tagDeletePayload, tagPushPayload } from '../support/webhook-payloads.js';

/** The worker's policy as the webhook sees it. */
const policy = summarize({ version: 't', source: 'test', config: helloWorldConfig() });
const withPrereleases = summarize({ version: 't', source: 'test', config: helloWorldConfig({ tag: '{ prereleases: true }' }) });
const EXAMPLE_COMMIT = '6113728f27ae82c7b1a177c8d03f9e96e0adf246';
const COMMIT = 'c0ffee0000000000000000000000000000000001';

const reasonOf = (decision: ReturnType<typeof decidePush>) => (decision.action === 'ignore' ? decision.reason : `released: ${JSON.stringify(decision.releases)}`);

describe('decidePush: tags', () => {
  it('starts the last environment for a created tag matching the pattern, version from the tag', () => {
    const decision = decidePush(tagPushPayload('v1.4.0'), policy);
    expect(decision).toEqual({
      action: 'release',
      releases: [
        // committedAt: GitHub's example head_commit is the tagged commit, made at 2019-05-15T15:20:41Z.
        { via: 'tag', app: 'hello', tag: 'v1.4.0', commit: EXAMPLE_COMMIT, version: '1.4.0', startAt: 'production', trigger: 'webhook:tag v1.4.0 by Codertocat', requestedBy: 'Codertocat', committedAt: Date.parse('2019-05-15T15:20:41Z') },
      ],
    });
    const release = (decision as { releases: PushRelease[] }).releases[0]!;
    expect(pushReleaseWorkflowId(release)).toBe(`release/hello/v1.4.0@${EXAMPLE_COMMIT}`);
    expect(pushReleaseInput(release)).toEqual({
      app: 'hello', commit: EXAMPLE_COMMIT, version: '1.4.0', startAt: 'production', skipBuild: true, skipTag: true, pushedTag: 'v1.4.0', trigger: 'webhook:tag v1.4.0 by Codertocat', requestedBy: 'Codertocat',
    });
  });

  it('gives a tag re-created on another commit a release id of its own, and the same delivery again the same one', () => {
    const idOf = (payload: Record<string, unknown>) => {
      const decision = decidePush(payload, policy);
      return decision.action === 'release' ? pushReleaseWorkflowId(decision.releases[0]!) : decision.reason;
    };
    const first = idOf(tagPushPayload('v1.4.0'));
    expect(idOf(tagPushPayload('v1.4.0'))).toBe(first);
    const recreated = idOf(tagPushPayload('v1.4.0', { after: COMMIT, head_commit: { id: COMMIT } }));
    expect(recreated).toBe(`release/hello/v1.4.0@${COMMIT}`);
    expect(recreated).not.toBe(first);
    // One segment after the app, as every release id (what `slipway cancel` takes).
    expect(recreated.split('/')).toHaveLength(3);
  });

  it('takes the commit from head_commit for an annotated tag, whose `after` is the tag object', () => {
    const payload = tagPushPayload('v1.4.0', { after: 'f'.repeat(40) });
    const decision = decidePush(payload, policy);
    expect(decision.action === 'release' && decision.releases[0]!.commit).toBe(EXAMPLE_COMMIT);
  });

  it.each([
    ['v1.2.3', '1.2.3'],
    ['v0.0.0', '0.0.0'],
    ['v10.20.30', '10.20.30'],
  ])('takes %s as version %s', (tag, version) => {
    const decision = decidePush(tagPushPayload(tag), policy);
    expect(decision.action === 'release' && decision.releases[0]!.via === 'tag' && decision.releases[0]!.version).toBe(version);
  });

  it.each([
    ['vX.Y.Z', 'is not a version under "v{version}": "X.Y.Z" is not MAJOR.MINOR.PATCH'],
    ['v-1.2.3', 'is not a version under "v{version}"'],
    ['v01.2.3', 'is not a version'],
    ['v1.02.3', 'is not a version'],
    ['vv1.2.3', 'is not a version'],
    ['v1.2.3+build.5', 'is not a version'],
    ['v1.2.3-', 'is not a version'],
    ['v1.2.3-rc..1', 'is not a version'],
    ['v1.2', "matches no app's tag pattern"],
    ['simple-tag', "matches no app's tag pattern"],
    ['v1.2.3-rc.1', 'is a prerelease, and hello\'s policy takes none (tag.prereleases is false)'],
  ])('ignores the tag %s, saying why', (tag, reason) => {
    const decision = decidePush(tagPushPayload(tag), policy);
    expect(decision.action).toBe('ignore');
    expect(reasonOf(decision)).toContain(reason);
    expect(reasonOf(decision)).toContain(tag);
  });

  it.each([
    ['v1.2.3-rc.1', '1.2.3-rc.1'],
    ['v1.2.3-0.3.7', '1.2.3-0.3.7'],
    ['v1.2.3-x-y.7.z--9', '1.2.3-x-y.7.z--9'],
  ])('takes the prerelease %s when the policy allows prereleases', (tag, version) => {
    const decision = decidePush(tagPushPayload(tag), withPrereleases);
    expect(decision.action === 'release' && decision.releases[0]!.via === 'tag' && decision.releases[0]!.version).toBe(version);
  });

  it.each(['v1.2.3-rc.01', 'v1.2.3-rc_1', 'vX.Y.Z-rc.1'])('ignores %s even when prereleases are allowed: not a prerelease of a version', (tag) => {
    expect(reasonOf(decidePush(tagPushPayload(tag), withPrereleases))).toContain('is not a version');
  });

  it('keeps tag.pattern as a filter of its own, and tag.format for the version', () => {
    const config = parseConfig(
      `
gitops: { url: /tmp/gitops.git }
apps:
  hello:
    source: { github: Codertocat/Hello-World }
    images: [hello/web]
    tag: { pattern: 'v1.*.*' }
    environments: [ { name: production, overlay: o/p, argocd: { application: hello-production } } ]
  hello-api:
    source: { github: Codertocat/Hello-World }
    images: [hello/api]
    tag: { format: 'api-{version}', pattern: 'api-*' }
    environments: [ { name: production, overlay: o/api, argocd: { application: hello-api-production } } ]
`,
      'two-apps.yaml',
    );
    const two = summarize({ version: 't', source: 'test', config });
    expect(reasonOf(decidePush(tagPushPayload('v2.0.0'), two))).toBe("tag v2.0.0 matches no app's tag pattern");
    const api = decidePush(tagPushPayload('api-2.0.0'), two);
    expect(api.action === 'release' && api.releases.map((r) => [r.app, r.via === 'tag' && r.version])).toEqual([['hello-api', '2.0.0']]);
    expect(reasonOf(decidePush(tagPushPayload('api-2.0'), two))).toBe('tag api-2.0 is not a version under "api-{version}": "2.0" is not MAJOR.MINOR.PATCH (numbers without leading zeros)');
  });

  it.each([
    ['a deleted tag', tagDeletePayload('v1.4.0'), 'tag deleted: v1.4.0'],
    ['a moved tag', tagPushPayload('v1.4.0', { created: false }), 'tag moved, not created: v1.4.0'],
    ['an unknown repository', tagPushPayload('v1.4.0', { repository: { full_name: 'someone/else' } }), 'no app has source someone/else'],
    ['a tag pushed to a fork', tagPushPayload('v1.4.0', { repository: { full_name: 'Codertocat/Hello-World', fork: true } }), 'push to a fork: Codertocat/Hello-World'],
  ])('ignores %s', (_what, payload, reason) => {
    expect(reasonOf(decidePush(payload, policy))).toBe(reason);
  });
});

describe('decidePush: the commit time, for lead time', () => {
  const committedAt = (payload: Record<string, unknown>) => {
    const decision = decidePush(payload, policy);
    return decision.action === 'release' ? decision.releases[0]!.committedAt : decision.reason;
  };

  it('takes head_commit.timestamp only when head_commit is the commit released', () => {
    expect(committedAt(branchPushPayload({ branch: 'main', commit: COMMIT }))).toBe(Date.parse('2019-05-15T15:19:25Z'));
    // A head_commit that is another commit than the one pushed says nothing about it.
    expect(committedAt(branchPushPayload({ branch: 'main' }, { after: COMMIT }))).toBeUndefined();
  });

  it('leaves it out when the timestamp is missing or does not parse, and still releases', () => {
    const head = (timestamp: unknown) => ({ head_commit: { id: COMMIT, timestamp } });
    expect(committedAt(branchPushPayload({ branch: 'main', commit: COMMIT }, { after: COMMIT, ...head('not a time') }))).toBeUndefined();
    expect(committedAt(branchPushPayload({ branch: 'main', commit: COMMIT }, { after: COMMIT, ...head(12345) }))).toBeUndefined();
    expect(committedAt(tagPushPayload('v1.4.0', { after: COMMIT, head_commit: { id: COMMIT } }))).toBeUndefined();
  });
});

describe('decidePush: branches', () => {
  it('starts a release of the pushed commit into the environment the trigger names, and only there', () => {
    const decision = decidePush(branchPushPayload({ branch: 'main', commit: COMMIT }), policy);
    expect(decision).toEqual({
      action: 'release',
      releases: [{ via: 'branch', app: 'hello', branch: 'main', commit: COMMIT, startAt: 'staging', trigger: 'webhook:push main by Codertocat', requestedBy: 'Codertocat', committedAt: Date.parse('2019-05-15T15:19:25Z') }],
    });
    const release = (decision as { releases: PushRelease[] }).releases[0]!;
    // Built (no skipBuild), staging only, under the id any release of that commit has.
    expect(pushReleaseInput(release)).toEqual({ app: 'hello', commit: COMMIT, startAt: 'staging', only: true, trigger: 'webhook:push main by Codertocat', requestedBy: 'Codertocat' });
    expect(pushReleaseWorkflowId(release)).toBe(`release/hello/${COMMIT}`);
  });

  it.each([
    ['a branch without a trigger', branchPushPayload({ commit: COMMIT }), 'no push trigger for branch master (apps of Codertocat/Hello-World: hello)'],
    ['a deleted branch', branchDeletePayload('main'), 'branch deleted: main'],
    ['a deleted branch, said only by `after`', branchPushPayload({ branch: 'main', commit: '0'.repeat(40) }), 'branch deleted: main'],
    ['a push to a fork', forkPushPayload('main', COMMIT), 'push to a fork: Codertocat/Hello-World'],
    ['a push to another repository of the same name', forkPushPayload('main', COMMIT, 'forker/Hello-World'), 'push to a fork: forker/Hello-World'],
    ['a push to an unknown repository', branchPushPayload({ branch: 'main', commit: COMMIT }, { repository: { full_name: 'someone/else' } }), 'no app has source someone/else'],
    ['a ref that is neither', branchPushPayload({ commit: COMMIT }, { ref: 'refs/notes/commits' }), 'not a branch or tag: refs/notes/commits'],
  ])('ignores %s, saying why', (_what, payload, reason) => {
    expect(reasonOf(decidePush(payload, policy))).toBe(reason);
  });

  it('starts nothing on a policy without push triggers (the default)', () => {
    const noTriggers = summarize({ version: 't', source: 'test', config: parseConfig('gitops: { url: /x }\napps:\n  hello:\n    source: { github: Codertocat/Hello-World }\n    images: [a]\n    environments: [ { name: staging, overlay: o, argocd: { application: a } } ]\n', 't.yaml') });
    expect(noTriggers.apps.hello!.triggers).toEqual({ push: [] });
    expect(reasonOf(decidePush(branchPushPayload({ branch: 'main', commit: COMMIT }), noTriggers))).toContain('no push trigger for branch main');
  });
});

describe('decidePush: malformed deliveries', () => {
  it.each([
    ['no ref', { repository: { full_name: 'Codertocat/Hello-World' } }],
    ['no repository', { ref: 'refs/tags/v1.0.0' }],
    ['not an object', [1, 2]],
    ['no commit', tagPushPayload('v1.4.0', { head_commit: null, after: 'nope' })],
    ['no pushed commit on a branch', branchPushPayload({ branch: 'main' }, { after: 'nope' })],
  ])('rejects a payload with %s', (_what, payload) => {
    expect(() => decidePush(payload, policy)).toThrow(PayloadError);
  });
});

describe('withoutOwnTags', () => {
  const tagRelease = (tag: string): PushRelease => ({ via: 'tag', app: 'hello', tag, commit: COMMIT, version: tag.slice(1), startAt: 'production', trigger: 't' });
  const branchRelease: PushRelease = { via: 'branch', app: 'hello', branch: 'main', commit: COMMIT, startAt: 'staging', trigger: 't' };

  it('drops a tag the release of the same commit recorded as its own, naming that release', async () => {
    const lookup = vi.fn(async (id: string) => (id === `release/hello/${COMMIT}` ? 'v1.4.0' : undefined));
    const result = await withoutOwnTags([tagRelease('v1.4.0')], lookup);
    expect(result).toEqual({ releases: [], ignored: [`tag v1.4.0 was created by release/hello/${COMMIT}`] });
  });

  it('keeps a tag that release did not create, and one for a commit no release has tagged', async () => {
    expect((await withoutOwnTags([tagRelease('v1.4.1')], async () => 'v1.4.0')).releases).toHaveLength(1);
    expect((await withoutOwnTags([tagRelease('v1.4.0')], async () => undefined)).releases).toHaveLength(1);
  });

  it('asks nothing about branch pushes', async () => {
    const lookup = vi.fn(async () => 'v1.4.0');
    expect(await withoutOwnTags([branchRelease], lookup)).toEqual({ releases: [branchRelease], ignored: [] });
    expect(lookup).not.toHaveBeenCalled();
  });

  it('lets a failed lookup fail the delivery (GitHub may redeliver) rather than guess', async () => {
    await expect(withoutOwnTags([tagRelease('v1.4.0')], async () => Promise.reject(new Error('Temporal unreachable')))).rejects.toThrow('Temporal unreachable');
  });
});

describe('policy: push triggers and tag rules', () => {
  const app = (extra: string, withSource = true) => `
gitops: { url: /x }
apps:
  hello:
${withSource ? '    source: { github: Codertocat/Hello-World }\n' : ''}    images: [a]
${extra}
    environments:
      - { name: staging, overlay: o/s, argocd: { application: s } }
      - { name: production, overlay: o/p, argocd: { application: p } }
`;
  const problems = (text: string) => {
    try {
      parseConfig(text, 'slipway.yaml');
    } catch (err) {
      if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`);
      throw err;
    }
    return [];
  };

  it('defaults to no push triggers and no prereleases, and tells clients both', () => {
    const summary = summarize({ version: 't', source: 'test', config: parseConfig(app(''), 'slipway.yaml') });
    expect(summary.apps.hello).toMatchObject({ triggers: { push: [] }, tag: { format: 'v{version}', pattern: 'v*.*.*', prereleases: false } });
  });

  it.each([
    ['a trigger into an unknown environment', app('    triggers: { push: [ { branch: main, to: qa } ] }'), 'triggers.push[0].to: no environment named "qa"'],
    ['two triggers for one branch', app('    triggers: { push: [ { branch: main, to: staging }, { branch: main, to: production } ] }'), 'triggers.push[1].branch: branch "main" has a push trigger already'],
    ['a ref instead of a branch', app('    triggers: { push: [ { branch: refs/heads/main, to: staging } ] }'), 'triggers.push[0].branch: expected a branch name like main'],
    ['a glob', app("    triggers: { push: [ { branch: 'release/*', to: staging } ] }"), 'triggers.push[0].branch: expected a branch name like main'],
    ['push triggers without a source repository', app('    triggers: { push: [ { branch: main, to: staging } ] }', false), 'triggers.push: push triggers need source.github'],
    ['an unknown trigger kind', app('    triggers: { tag: [] }'), 'triggers'],
    ['prereleases that are not a boolean', app('    tag: { prereleases: maybe }'), 'tag.prereleases'],
  ])('refuses %s', (_what, text, problem) => {
    expect(problems(text).join('\n')).toContain(problem);
  });
});
