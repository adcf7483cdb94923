/**
 * The environment's queue and ledger as plain code: what a request that arrives becomes, what a
 * withdrawal does, and what is recorded — no Temporal server involved.
 */
import { describe, expect, it } from 'vitest';
import { ApprovalWait, approvalRules } from '../../workflows/approvals.js';
import { EnvironmentLedger, RECENT_KEPT, recordedOutcome } from '../../workflows/environment-ledger.js';
import type { PromotionOutcome, PromotionRequest } from '../../workflows/types.js';

let clock = 1_000;
const now = () => ++clock;
const allVersioned = { followers: () => true, unseen: () => true };
const asOlderRuns = { followers: () => false, unseen: () => false };

function request(release: string, commit: string, overrides: Partial<PromotionRequest> = {}): PromotionRequest {
  return {
    requestId: `${release}#production`,
    replyTo: release,
    app: 'todoapp',
    environment: { name: 'production' } as PromotionRequest['environment'],
    git: {} as PromotionRequest['git'],
    engine: {} as PromotionRequest['engine'],
    images: [{ name: 'todoapp/web', newTag: commit.padEnd(40, '0') }],
    commit: commit.padEnd(40, '0'),
    version: undefined,
    requestedAt: clock,
    kind: 'promote',
    ...overrides,
  };
}

const promoted: PromotionOutcome = { outcome: 'promoted', gitopsCommit: 'g1'.padEnd(40, '0'), previousImages: [{ name: 'todoapp/web', newTag: 'old' }], alreadyDeployed: false };

describe('environment ledger: queue', () => {
  it('puts the first request in flight and the second behind it', () => {
    const ledger = new EnvironmentLedger();
    const a = request('release/a', 'aaa');
    const b = request('release/b', 'bbb');
    expect(ledger.receive(a, now())).toEqual({ kind: 'queued', superseded: [], behind: undefined });
    expect(ledger.receive(b, now())).toEqual({ kind: 'queued', superseded: [], behind: a });
    expect(ledger.head).toBe(a);
    expect(ledger.waiting).toBe(b);
  });

  it('supersedes the waiting request, and its followers, with a newer one; the one in flight stays', () => {
    const ledger = new EnvironmentLedger();
    const a = request('release/a', 'aaa');
    const b = request('release/b', 'bbb');
    const bAgain = request('release/b2', 'bbb');
    const c = request('release/c', 'ccc');
    ledger.receive(a, now());
    ledger.receive(b, now());
    expect(ledger.receive(bAgain, now())).toEqual({ kind: 'follower', of: b });
    const admission = ledger.receive(c, now());
    expect(admission.kind).toBe('queued');
    if (admission.kind !== 'queued') return;
    expect(admission.superseded.map((s) => s.request.replyTo)).toEqual(['release/b', 'release/b2']);
    expect(admission.superseded.every((s) => s.outcome.outcome === 'superseded' && s.outcome.by === 'release/c')).toBe(true);
    expect(ledger.pending.map((p) => p.replyTo)).toEqual(['release/a', 'release/c']);
    expect(ledger.recent.map((r) => [r.releaseId, r.outcome, r.reason])).toEqual([
      ['release/b2', 'superseded', 'superseded by release/c'],
      ['release/b', 'superseded', 'superseded by release/c'],
    ]);
  });

  it('gives followers of the head the head’s answer when it finishes', () => {
    const ledger = new EnvironmentLedger();
    const a = request('release/a', 'aaa');
    const a2 = request('release/a2', 'aaa');
    ledger.receive(a, now());
    expect(ledger.receive(a2, now())).toEqual({ kind: 'follower', of: a });
    const answers = ledger.finishHead(promoted, now());
    expect(answers).toEqual([
      { request: a, outcome: promoted },
      { request: a2, outcome: promoted },
    ]);
    expect(ledger.pending).toEqual([]);
    expect(ledger.followers.size).toBe(0);
  });

  it('does not make a rollback a follower of a promotion of the same build', () => {
    const ledger = new EnvironmentLedger();
    ledger.receive(request('release/a', 'aaa'), now());
    expect(ledger.receive(request('rollback/a', 'aaa', { kind: 'rollback' }), now()).kind).toBe('queued');
  });

  it('answers a request for the build already running at once, without queueing it', () => {
    const ledger = new EnvironmentLedger();
    const a = request('release/a', 'aaa');
    ledger.receive(a, now());
    ledger.deployed(a, 'g1', now());
    ledger.finishHead(promoted, now());
    const again = request('release/a-again', 'aaa');
    const admission = ledger.receive(again, now());
    expect(admission).toMatchObject({ kind: 'already-deployed', answer: { request: again, outcome: { outcome: 'promoted', gitopsCommit: 'g1', alreadyDeployed: true } } });
    expect(ledger.pending).toEqual([]);
  });

  it('answers a duplicate of a finished request with the answer it got, whole', () => {
    const ledger = new EnvironmentLedger();
    const a = request('release/a', 'aaa');
    ledger.receive(a, now());
    const failed: PromotionOutcome = { outcome: 'failed', reason: 'Degraded: pod crash', failureType: 'ArgoDegraded', rolledBack: true, rollbackCommit: 'r1' };
    ledger.finishHead(failed, now());
    expect(ledger.receive(a, now())).toEqual({ kind: 'duplicate', answer: { request: a, outcome: failed } });
    // A duplicate of a request still pending gets nothing now: it gets the answer when it comes.
    const b = request('release/b', 'bbb');
    ledger.receive(b, now());
    expect(ledger.receive(b, now())).toEqual({ kind: 'duplicate', answer: undefined });
  });
});

describe('environment ledger: withdrawals', () => {
  it('marks the request in flight as withdrawn, for the workflow to stop it before it starts', () => {
    const ledger = new EnvironmentLedger();
    const a = request('release/a', 'aaa');
    ledger.receive(a, now());
    expect(ledger.withdraw(a.requestId, now(), allVersioned)).toEqual({ kind: 'in-flight' });
    expect(ledger.isWithdrawn(a.requestId)).toBe(true);
    expect(ledger.finishHead({ outcome: 'cancelled' }, now()).map((x) => x.outcome.outcome)).toEqual(['cancelled']);
    expect(ledger.recent[0]).toMatchObject({ releaseId: 'release/a', outcome: 'cancelled' });
  });

  it('carries a withdrawal of the request in flight across continue-as-new', () => {
    const ledger = new EnvironmentLedger();
    const a = request('release/a', 'aaa');
    ledger.receive(a, now());
    ledger.withdraw(a.requestId, now(), allVersioned);
    const next = new EnvironmentLedger(JSON.parse(JSON.stringify(ledger.carry())));
    expect(next.head?.requestId).toBe(a.requestId);
    expect(next.isWithdrawn(a.requestId)).toBe(true);
  });

  it('removes a waiting request and records it as cancelled', () => {
    const ledger = new EnvironmentLedger();
    const a = request('release/a', 'aaa');
    const b = request('release/b', 'bbb');
    ledger.receive(a, now());
    ledger.receive(b, now());
    expect(ledger.withdraw(b.requestId, now(), allVersioned)).toEqual({ kind: 'removed', request: b });
    expect(ledger.pending).toEqual([a]);
    expect(ledger.recent[0]).toMatchObject({ releaseId: 'release/b', outcome: 'cancelled' });
  });

  it('takes a withdrawn follower out, so it gets no answer meant for another release', () => {
    const ledger = new EnvironmentLedger();
    const a = request('release/a', 'aaa');
    const a2 = request('release/a2', 'aaa');
    const a3 = request('release/a3', 'aaa');
    ledger.receive(a, now());
    ledger.receive(a2, now());
    ledger.receive(a3, now());
    expect(ledger.withdraw(a2.requestId, now(), allVersioned)).toEqual({ kind: 'removed', request: a2 });
    expect(ledger.recent[0]).toMatchObject({ releaseId: 'release/a2', outcome: 'cancelled' });
    expect(ledger.finishHead(promoted, now()).map((x) => x.request.replyTo)).toEqual(['release/a', 'release/a3']);
  });

  it('leaves a follower alone for runs recorded before followers could be withdrawn', () => {
    const ledger = new EnvironmentLedger();
    const a = request('release/a', 'aaa');
    const a2 = request('release/a2', 'aaa');
    ledger.receive(a, now());
    ledger.receive(a2, now());
    expect(ledger.withdraw(a2.requestId, now(), asOlderRuns)).toEqual({ kind: 'unknown' });
    expect(ledger.finishHead(promoted, now()).map((x) => x.request.replyTo)).toEqual(['release/a', 'release/a2']);
  });

  it('remembers a withdrawal that overtook its request, so the request never queues', () => {
    const ledger = new EnvironmentLedger();
    const a = request('release/a', 'aaa');
    expect(ledger.withdraw(a.requestId, now(), allVersioned)).toEqual({ kind: 'unknown' });
    expect(ledger.receive(a, now())).toEqual({ kind: 'withdrawn' });
    expect(ledger.pending).toEqual([]);
    expect(ledger.recent[0]).toMatchObject({ releaseId: 'release/a', outcome: 'cancelled' });
    // The duplicate that a retry may send is answered from the record, not queued either.
    expect(ledger.receive(a, now())).toMatchObject({ kind: 'duplicate', answer: { outcome: { outcome: 'cancelled' } } });
  });

  it('does not remember withdrawals of unseen requests for older runs, nor of finished ones', () => {
    const older = new EnvironmentLedger();
    const a = request('release/a', 'aaa');
    older.withdraw(a.requestId, now(), asOlderRuns);
    expect(older.receive(a, now()).kind).toBe('queued');

    const ledger = new EnvironmentLedger();
    ledger.receive(a, now());
    ledger.finishHead(promoted, now());
    ledger.withdraw(a.requestId, now(), allVersioned);
    expect(ledger.isWithdrawn(a.requestId)).toBe(false);
  });
});

describe('environment ledger: records', () => {
  it('keeps the newest records first and at most the configured number', () => {
    const ledger = new EnvironmentLedger();
    for (let i = 0; i < RECENT_KEPT + 5; i++) {
      ledger.receive(request(`release/${i}`, `c${i}`), now());
      ledger.finishHead({ outcome: 'rejected', by: 'alice', reason: `not now ${i}` }, now());
    }
    expect(ledger.recent).toHaveLength(RECENT_KEPT);
    expect(ledger.recent[0]).toMatchObject({ releaseId: `release/${RECENT_KEPT + 4}`, reason: `rejected by alice: not now ${RECENT_KEPT + 4}` });
  });

  it('records each outcome with its reason and the commit that matters', () => {
    const ledger = new EnvironmentLedger();
    const outcomes: PromotionOutcome[] = [
      promoted,
      { outcome: 'failed', reason: 'health deadline', failureType: 'ArgoTimeout', rolledBack: true, rollbackCommit: 'r1' },
      { outcome: 'approval-timed-out', after: 90_000 },
      { outcome: 'cancelled' },
    ];
    for (const [i, outcome] of outcomes.entries()) {
      ledger.receive(request(`release/${i}`, `c${i}`), now());
      ledger.finishHead(outcome, now());
    }
    expect(ledger.recent.map((r) => [r.outcome, r.reason, r.gitopsCommit])).toEqual([
      ['cancelled', undefined, undefined],
      ['approval-timed-out', 'no approval within 1m30s', undefined],
      ['failed', 'health deadline', 'r1'],
      ['promoted', undefined, promoted.gitopsCommit],
    ]);
    expect(ledger.recent.map((r) => recordedOutcome(r))).toEqual([...outcomes].reverse());
  });

  it('rebuilds an answer from a record carried from a run that kept only names and reasons', () => {
    const legacy = { requestId: 'r', releaseId: 'release/x', commit: 'c', kind: 'promote' as const, requestedAt: 1, finishedAt: 61_001 };
    expect(recordedOutcome({ ...legacy, outcome: 'superseded', reason: 'superseded by release/y' })).toEqual({ outcome: 'superseded', by: 'release/y' });
    expect(recordedOutcome({ ...legacy, outcome: 'approval-timed-out' })).toEqual({ outcome: 'approval-timed-out', after: 61_000 });
  });

  it('numbers promotions across continue-as-new', () => {
    const ledger = new EnvironmentLedger();
    expect([ledger.nextSequence(), ledger.nextSequence()]).toEqual([1, 2]);
    expect(new EnvironmentLedger(ledger.carry()).nextSequence()).toBe(3);
  });
});

describe('environment ledger: approvals', () => {
  it('takes a decision only while the head waits for approval, from someone named, for the build waiting', () => {
    const ledger = new EnvironmentLedger();
    const a = request('release/a', 'abcdef1', { version: '1.4.0' });
    const where = 'todoapp/production';
    expect(ledger.approvalProblem({ by: 'alice' }, true, 'cli', where)).toMatch(/not waiting for approval \(nothing is pending\)/);
    ledger.receive(a, now());
    expect(ledger.approvalProblem({ by: 'alice' }, true, 'cli', where)).toMatch(/it is queued: 1.4.0 \(abcdef1\)/);
    ledger.gate = { phase: 'awaiting-approval', since: now() };
    ledger.approval = new ApprovalWait(a, approvalRules({ required: true, timeout: 60_000 } as never, undefined), now());
    expect(ledger.approvalProblem({ by: ' ' }, true, 'cli', where)).toMatch(/must say who/);
    expect(ledger.approvalProblem({ by: 'alice', version: '1.3.0' }, true, 'cli', where)).toMatch(/approval of 1.4.0 \(abcdef1\), not 1.3.0/);
    expect(ledger.approvalProblem({ by: 'alice', version: 'abcdef' }, true, 'cli', where)).toBeUndefined();
    expect(ledger.approval.take({ by: 'alice' }, true, 'cli', now())).toEqual({ requestId: a.requestId, version: '1.4.0', approvals: 1, needed: 1 });
    expect(ledger.approvalProblem({ by: 'bob' }, true, 'cli', where)).toMatch(/not waiting for approval \(the decision on 1.4.0 \(abcdef1\) is made\)/);
    ledger.finishHead(promoted, now(), { approvedBy: ledger.approval.approvedBy });
    expect(ledger.recent[0]).toMatchObject({ approvedBy: 'cli:alice' });
    expect(ledger.approval).toBeUndefined();
  });
});
