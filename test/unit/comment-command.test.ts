/** Which GitHub comments are approval commands, for which apps, and how Slipway answers: pure, on GitHub's example payloads. */
import { describe, expect, it } from 'vitest';
import { summarize } from '../../activities/policy/index.js';
import { decideComment, githubAnswer, replyText, type DecisionOutcome } from '../../client/webhook/comment-command.js';
import { PayloadError } from '../../client/webhook/tag-push.js';
import { parseConfig } from '../../config/schema.js';
import { commitCommentPayload, helloWorldConfig, issueCommentPayload } from '../support/webhook-payloads.js';

const policy = summarize({ version: 't', source: 'test', config: helloWorldConfig() });
const COMMIT = '6113728f27ae82c7b1a177c8d03f9e96e0adf246';

describe('decideComment', () => {
  it('relays `/slipway approve production` in a pull request to the app of the repository, naming the comment and its author', () => {
    const decision = decideComment('issue_comment', issueCommentPayload('/slipway approve production\n\nLooks good to me.'), policy);
    expect(decision).toEqual({
      action: 'relay',
      apps: ['hello'],
      command: { decision: 'approve', environment: 'production', reason: undefined },
      target: {
        repo: 'Codertocat/Hello-World',
        kind: 'issue',
        commentId: 492700400,
        commentUrl: 'https://github.com/Codertocat/Hello-World/issues/1#issuecomment-492700400',
        by: 'Codertocat',
        pullNumber: 1,
      },
    });
  });

  it('relays `/slipway reject production <reason>` on a commit, with the reason and the commit', () => {
    const decision = decideComment('commit_comment', commitCommentPayload('/slipway reject production the login page is blank'), policy);
    expect(decision).toMatchObject({
      action: 'relay',
      apps: ['hello'],
      command: { decision: 'reject', environment: 'production', reason: 'the login page is blank' },
      target: { kind: 'commit', commit: COMMIT, commentId: 33548674, by: 'Codertocat' },
    });
  });

  it.each([
    ['an ordinary comment', issueCommentPayload('You are totally right!'), 'not a Slipway command'],
    ['a command on the second line', issueCommentPayload('Thanks!\n/slipway approve production'), 'not a Slipway command'],
    ['a misspelt command', issueCommentPayload('/slipway aprove production'), 'not a Slipway command'],
    ['a command without an environment', issueCommentPayload('/slipway approve'), 'not a Slipway command'],
    ['a comment on an issue', issueCommentPayload('/slipway approve production', { pullRequest: false }), 'comment on issue #1, not on a pull request'],
    ['an edited comment', { ...issueCommentPayload('/slipway approve production'), action: 'edited' }, 'comment edited, not created'],
    ['a deleted comment', { ...commitCommentPayload('/slipway approve production'), action: 'deleted' }, 'comment deleted, not created'],
    ['a comment in another repository', { ...issueCommentPayload('/slipway approve production'), repository: { full_name: 'someone/else' } }, 'no app has source someone/else'],
  ])('ignores %s, saying why', (_what, payload, reason) => {
    const event = 'commit_id' in (payload.comment as object) ? 'commit_comment' : 'issue_comment';
    const decision = decideComment(event, payload, policy);
    expect(decision.action).toBe('ignore');
    expect(decision.action === 'ignore' && decision.reason).toContain(reason);
  });

  it('refuses, to be answered on GitHub, a command for an environment no app has or one without an approval gate', () => {
    const unknown = decideComment('issue_comment', issueCommentPayload('/slipway approve prod'), policy);
    expect(unknown).toMatchObject({ action: 'refuse', reason: 'no app of Codertocat/Hello-World has an environment "prod" (hello: staging, production)' });
    const ungated = decideComment('issue_comment', issueCommentPayload('/slipway approve staging'), policy);
    expect(ungated).toMatchObject({ action: 'refuse', reason: 'staging of hello takes no approvals (no approval gate in the policy)' });
  });

  it('relays to every app of the repository whose environment has an approval gate', () => {
    const config = parseConfig(
      `
gitops: { url: /x }
apps:
  web:
    source: { github: Codertocat/Hello-World }
    images: [w]
    environments: [ { name: production, overlay: o/w, argocd: { application: w }, approval: { required: true } } ]
  api:
    source: { github: codertocat/hello-world }
    images: [a]
    environments: [ { name: production, overlay: o/a, argocd: { application: a }, approval: { required: true } } ]
  docs:
    source: { github: Codertocat/Hello-World }
    images: [d]
    environments: [ { name: production, overlay: o/d, argocd: { application: d } } ]
  other:
    source: { github: someone/else }
    images: [o]
    environments: [ { name: production, overlay: o/o, argocd: { application: o }, approval: { required: true } } ]
`,
      'monorepo.yaml',
    );
    const decision = decideComment('issue_comment', issueCommentPayload('/slipway approve production'), summarize({ version: 't', source: 't', config }));
    expect(decision.action === 'relay' && decision.apps).toEqual(['web', 'api']);
  });

  it.each([
    ['not an object', 'issue_comment', []],
    ['no comment', 'issue_comment', { action: 'created', repository: { full_name: 'Codertocat/Hello-World' } }],
    ['no issue', 'issue_comment', { ...issueCommentPayload('/slipway approve production'), issue: undefined }],
    ['no commit on a commit comment', 'commit_comment', (() => { const p = commitCommentPayload('/slipway approve production'); (p.comment as { commit_id?: string }).commit_id = 'main'; return p; })()],
  ] as const)('rejects a payload with %s', (_what, event, payload) => {
    expect(() => decideComment(event, payload, policy)).toThrow(PayloadError);
  });
});

describe('githubAnswer', () => {
  const approve = { decision: 'approve' as const, environment: 'production' };
  const recorded = (app: string): DecisionOutcome => ({ app, recorded: true, result: { requestId: 'r' } });
  const refused = (app: string, reason: string, nothingWaiting = false): DecisionOutcome => ({ app, recorded: false, reason, nothingWaiting });

  it('reacts when the decision was recorded, and says nothing more', () => {
    expect(githubAnswer(approve, [recorded('hello')])).toEqual({ react: true });
  });

  it('replies with the reason when it was refused', () => {
    const answer = githubAnswer(approve, [refused('hello', 'Codertocat asked for 1.4.0 (6113728) and may not approve it too')]);
    expect(answer).toEqual({ react: false, reply: 'Slipway did not record this approval for production:\n- hello: Codertocat asked for 1.4.0 (6113728) and may not approve it too' });
  });

  it('replies when nothing waits anywhere, so the person knows nothing happened', () => {
    expect(githubAnswer(approve, [refused('hello', 'env/hello/production is not waiting for approval', true)]).reply).toContain('is not waiting for approval');
  });

  it('does not reply about an app that waits for nothing once another app took the decision, but does about a refusal', () => {
    expect(githubAnswer(approve, [recorded('web'), refused('api', 'not waiting', true)])).toEqual({ react: true });
    expect(githubAnswer(approve, [recorded('web'), refused('api', 'not an approver')])).toEqual({ react: true, reply: 'Slipway did not record this approval for production:\n- api: not an approver' });
  });

  it('never writes a reply that is a command itself', () => {
    expect(replyText({ decision: 'reject', environment: 'production' }, [{ reason: '/slipway approve production' }])).toMatch(/^Slipway did not record this rejection/);
  });
});
