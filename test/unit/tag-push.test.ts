/** Which push deliveries start a promotion, and of what: pure, on GitHub's own example payloads. */
import { describe, expect, it } from 'vitest';
import { summarize } from '../../activities/policy/index.js';
import { decidePush, PayloadError } from '../../client/webhook/tag-push.js';
import { branchPushPayload, helloWorldConfig, tagDeletePayload, tagPushPayload } from '../support/webhook-payloads.js';

/** The worker's policy as the webhook sees it. */
const policy = summarize({ version: 't', source: 'test', config: helloWorldConfig() });

describe('decidePush', () => {
  it('starts the last environment for a created tag matching the pattern, version from the tag', () => {
    const decision = decidePush(tagPushPayload('v1.4.0'), policy);
    expect(decision).toEqual({
      action: 'release',
      releases: [
        { app: 'hello', tag: 'v1.4.0', commit: '6113728f27ae82c7b1a177c8d03f9e96e0adf246', version: '1.4.0', startAt: 'production', trigger: 'webhook:tag v1.4.0 by Codertocat' },
      ],
    });
  });

  it('takes the commit from head_commit for an annotated tag, whose `after` is the tag object', () => {
    const payload = tagPushPayload('v1.4.0', { after: 'f'.repeat(40) });
    const decision = decidePush(payload, policy);
    expect(decision.action === 'release' && decision.releases[0]!.commit).toBe('6113728f27ae82c7b1a177c8d03f9e96e0adf246');
  });

  it.each([
    ['a branch push', branchPushPayload()],
    ['a deleted tag', tagDeletePayload('v1.4.0')],
    ['a tag outside the pattern', tagPushPayload('simple-tag')],
    ['an unknown repository', tagPushPayload('v1.4.0', { repository: { full_name: 'someone/else' } })],
  ])('ignores %s', (_what, payload) => {
    expect(decidePush(payload, policy).action).toBe('ignore');
  });

  it.each([
    ['no ref', { repository: { full_name: 'Codertocat/Hello-World' } }],
    ['no repository', { ref: 'refs/tags/v1.0.0' }],
    ['not an object', [1, 2]],
    ['no commit', tagPushPayload('v1.4.0', { head_commit: null, after: 'nope' })],
  ])('rejects a payload with %s', (_what, payload) => {
    expect(() => decidePush(payload, policy)).toThrow(PayloadError);
  });
});
