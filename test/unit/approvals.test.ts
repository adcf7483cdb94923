/**
 * The approval gate's rules as plain code: who may approve through which channel, how many
 * different people, and four eyes. GitHub decisions are checked against GitHub by the worker
 * (test/integration/github-approvals.test.ts); here, what the workflow decides by itself.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/schema.js';
import { ApprovalWait, approvalRules } from '../../workflows/approvals.js';
import type { PromotionRequest } from '../../workflows/types.js';

const where = 'todoapp/production';

function gate(approval: string, requestedBy?: string): ApprovalWait {
  const config = parseConfig(
    `
gitops: { url: /srv/gitops.git }
apps:
  todoapp:
    images: [todoapp/web]
    environments:
      - { name: production, overlay: o, argocd: { application: todoapp-production }, approval: ${approval} }
`,
    'slipway.yaml',
  );
  const env = config.apps.todoapp!.environments[0]!;
  const request = { requestId: 'r#production', replyTo: 'release/r', app: 'todoapp', environment: env, commit: 'abcdef1234', version: '1.4.0', kind: 'promote', requestedAt: 0 } as unknown as PromotionRequest;
  return new ApprovalWait(request, approvalRules(env.approval!, requestedBy), 1_000);
}

describe('approval rules', () => {
  it('refuses someone who is not among the approvers, and takes someone who is', () => {
    const wait = gate('{ approvers: { users: [alice, bob] } }');
    expect(wait.problem({ by: 'mallory' }, true, 'cli', where)).toBe('mallory is not among the approvers of todoapp/production (alice, bob)');
    expect(wait.problem({ by: 'Alice' }, true, 'cli', where)).toBeUndefined();
  });

  it('refuses the release’s own author under four eyes, and lets them reject it', () => {
    const wait = gate('{}', 'alice');
    expect(wait.problem({ by: 'alice' }, true, 'cli', where)).toMatch(/alice asked for 1\.4\.0 \(abcdef1\) and may not approve it too/);
    expect(wait.problem({ by: 'alice' }, false, 'cli', where)).toBeUndefined();
    expect(wait.problem({ by: 'bob' }, true, 'cli', where)).toBeUndefined();
    expect(gate('{ fourEyes: false }', 'alice').problem({ by: 'alice' }, true, 'cli', where)).toBeUndefined();
  });

  it('refuses a channel the policy does not take', () => {
    const wait = gate('{ channels: [github] }');
    expect(wait.problem({ by: 'alice' }, true, 'cli', where)).toBe('todoapp/production does not take decisions through cli (the policy accepts: github)');
    expect(wait.problem({ by: 'alice' }, true, 'ui', where)).toMatch(/through ui/);
    expect(wait.problem({ by: 'alice', channel: 'github' }, true, 'github', where)).toMatch(/must carry the signed webhook delivery/);
  });

  it('needs two different people where the policy says two, and one rejection ends the wait', () => {
    const wait = gate('{ count: 2 }');
    expect(wait.take({ by: 'alice' }, true, 'cli', 2_000)).toMatchObject({ approvals: 1, needed: 2 });
    expect(wait.decided).toBe(false);
    expect(wait.problem({ by: 'ALICE' }, true, 'ui', where)).toBe('ALICE has approved 1.4.0 (abcdef1) already; 1 more needed from someone else');
    wait.take({ by: 'bob' }, true, 'ui', 3_000);
    expect(wait.approved).toBe(true);
    expect(wait.approvedBy).toBe('cli:alice, ui:bob');

    const rejected = gate('{ count: 2 }');
    rejected.take({ by: 'alice' }, true, 'cli', 2_000);
    rejected.take({ by: 'carol', comment: 'not during the incident' }, false, 'cli', 2_500);
    expect(rejected.decided).toBe(true);
    expect(rejected.approved).toBe(false);
    expect(rejected.rejection).toMatchObject({ by: 'carol', channel: 'cli', reason: 'not during the incident' });
  });

  it('takes nothing once decided, and only for the build waiting', () => {
    const wait = gate('{}');
    expect(wait.problem({ by: 'bob', version: '1.3.9' }, true, 'cli', where)).toMatch(/waiting for approval of 1\.4\.0 \(abcdef1\), not 1\.3\.9/);
    wait.take({ by: 'bob' }, true, 'cli', 2_000);
    expect(wait.problem({ by: 'carol' }, true, 'cli', where)).toMatch(/is made/);
  });

  it('keeps one approval by anyone for requests whose environment predates the rules', () => {
    const legacy = approvalRules({ required: true, timeout: 1 } as never, 'alice');
    expect(legacy).toEqual({ count: 1, fourEyes: false, channels: ['github', 'cli', 'ui'], requestedBy: 'alice' });
  });
});
