/**
 * The environment's queue and ledger as plain code: what a request that arrives becomes, what a
 * withdrawal does, and what is recorded — no Temporal server involved.
 */
import { describe, expect, it } from 'vitest';
import { ApprovalWait, approvalRules } from '../../workflows/approvals.js';
import { attentionAfter, attentionRefusal, interveningCommit, resolveProblem } from '../../workflows/environment-attention.js';
import { EnvironmentLedger, RECENT_KEPT, RESOLUTIONS_KEPT, recordedOutcome } from '../../workflows/environment-ledger.js';
import { compareSemver } from '../../core/version.js';
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

describe('environment ledger: a newer release wins over an older one', () => {
  /** A request from a release that started at `startedAt` (epoch ms, as the release sends it). */
  const aged = (release: string, commit: string, startedAt: number, overrides: Partial<PromotionRequest> = {}) =>
    request(release, commit, { releaseStartedAt: startedAt, ...overrides });
  const byArrival = { byAge: () => false };

  it('answers an older release that arrives after a newer one completed here as superseded, and never queues it', () => {
    const ledger = new EnvironmentLedger();
    const newer = aged('release/b', 'bbb', 200);
    ledger.receive(newer, now());
    ledger.deployed(newer, 'g1', now());
    ledger.finishHead(promoted, now());
    const older = aged('release/a', 'aaa', 100);
    expect(ledger.receive(older, now())).toEqual({ kind: 'stale', answer: { request: older, outcome: { outcome: 'superseded', by: 'release/b' } } });
    expect(ledger.pending).toEqual([]);
    expect(ledger.recent[0]).toMatchObject({ releaseId: 'release/a', outcome: 'superseded', reason: 'superseded by release/b' });
    expect(ledger.recent[0]!.notes?.[0]).toMatch(/^release\/b \(bbb0000\) started later and completed here/);
    // A retry of the same request gets the same answer from the record.
    expect(ledger.receive(older, now())).toMatchObject({ kind: 'duplicate', answer: { outcome: { outcome: 'superseded', by: 'release/b' } } });
  });

  it('does not let an older arrival supersede a newer waiting request: the older one is superseded by it', () => {
    const ledger = new EnvironmentLedger();
    const inFlight = aged('release/x', 'xxx', 150);
    const newer = aged('release/b', 'bbb', 200);
    const older = aged('release/a', 'aaa', 100);
    ledger.receive(inFlight, now());
    ledger.receive(newer, now());
    expect(ledger.receive(older, now())).toMatchObject({ kind: 'stale', answer: { request: older, outcome: { outcome: 'superseded', by: 'release/b' } } });
    expect(ledger.pending).toEqual([inFlight, newer]);
    // And the other way round, as before: a newer arrival replaces the older one waiting.
    const newest = aged('release/c', 'ccc', 300);
    expect(ledger.receive(newest, now())).toMatchObject({ kind: 'queued', superseded: [{ request: newer, outcome: { outcome: 'superseded', by: 'release/c' } }] });
  });

  it('lets an older request wait behind a newer one in flight, and finds it stale once the newer one deployed', () => {
    const ledger = new EnvironmentLedger();
    const newer = aged('release/b', 'bbb', 200);
    const older = aged('release/a', 'aaa', 100);
    ledger.receive(newer, now());
    expect(ledger.receive(older, now()).kind).toBe('queued');
    // Should the newer one fail, the older build may still go.
    expect(ledger.newerCompleted(older)).toBeUndefined();
    ledger.deployed(newer, 'g1', now());
    ledger.finishHead(promoted, now());
    expect(ledger.head).toBe(older);
    expect(ledger.newerCompleted(older)).toEqual({ releaseId: 'release/b', commit: newer.commit, version: undefined, where: 'completed' });
  });

  it('counts a release answered "already running" as completed here', () => {
    const ledger = new EnvironmentLedger();
    const first = aged('release/a', 'aaa', 100);
    ledger.receive(first, now());
    ledger.deployed(first, 'g1', now());
    ledger.finishHead(promoted, now());
    expect(ledger.receive(aged('tag/a', 'aaa', 300), now()).kind).toBe('already-deployed');
    expect(ledger.newest?.releaseId).toBe('tag/a');
    expect(ledger.receive(aged('release/b', 'bbb', 200), now())).toMatchObject({ kind: 'stale', answer: { outcome: { by: 'tag/a' } } });
  });

  it('takes an explicit rollback or override of an older release, and keeps the newest release the newest', () => {
    const ledger = new EnvironmentLedger();
    const newer = aged('release/b', 'bbb', 200);
    ledger.receive(newer, now());
    ledger.deployed(newer, 'g1', now());
    ledger.finishHead(promoted, now());
    const rollback = aged('rollback/a', 'aaa', 100, { kind: 'rollback' });
    const override = aged('promote/a', 'aa2', 110, { override: { reason: 'hotfix' }, requestedBy: 'alice' });
    expect(ledger.receive(rollback, now()).kind).toBe('queued');
    expect(ledger.receive(override, now()).kind).toBe('queued');
    expect(ledger.newerCompleted(rollback)?.releaseId).toBe('release/b');
    ledger.deployed(rollback, 'g2', now());
    ledger.finishHead(promoted, now());
    expect(ledger.newest).toMatchObject({ releaseId: 'release/b', startedAt: 200 });
    expect(ledger.receive(aged('release/late', 'ddd', 150), now()).kind).toBe('stale');
  });

  it('breaks a tie of start times by the release workflow id', () => {
    const ledger = new EnvironmentLedger();
    const b = aged('release/b', 'bbb', 100);
    ledger.receive(b, now());
    ledger.deployed(b, 'g1', now());
    ledger.finishHead(promoted, now());
    expect(ledger.receive(aged('release/a', 'aaa', 100), now()).kind).toBe('stale');
    expect(ledger.receive(aged('release/c', 'ccc', 100), now()).kind).toBe('queued');
  });

  it('keeps arrival order for requests without a start time, and for runs recorded before releases were compared', () => {
    const ledger = new EnvironmentLedger();
    const newer = aged('release/b', 'bbb', 200);
    ledger.receive(newer, now());
    ledger.deployed(newer, 'g1', now());
    ledger.finishHead(promoted, now());
    expect(ledger.receive(request('release/old-client', 'aaa'), now()).kind).toBe('queued');
    const older = new EnvironmentLedger(ledger.carry());
    older.finishHead(promoted, now());
    expect(older.receive(aged('release/a', 'a22', 100), now(), byArrival).kind).toBe('queued');
  });

  it('carries the newest release across continue-as-new', () => {
    const ledger = new EnvironmentLedger();
    const newer = aged('release/b', 'bbb', 200, { version: '2.2.0' });
    ledger.receive(newer, now());
    ledger.deployed(newer, 'g1', now());
    ledger.finishHead(promoted, now());
    const next = new EnvironmentLedger(JSON.parse(JSON.stringify(ledger.carry())));
    expect(next.newest).toEqual({ releaseId: 'release/b', startedAt: 200, commit: newer.commit, version: '2.2.0' });
    expect(next.receive(aged('release/a', 'aaa', 100), now())).toMatchObject({ kind: 'stale', answer: { outcome: { by: 'release/b' } } });
  });

  it('takes a start time later than the request’s arrival as the arrival, so no request can claim to be newer than all to come', () => {
    const ledger = new EnvironmentLedger();
    const arrival = now();
    const forged = aged('release/forged', 'fff', arrival + 10_000_000);
    ledger.receive(forged, arrival);
    ledger.deployed(ledger.head!, 'g1', now());
    ledger.finishHead(promoted, now());
    expect(ledger.newest?.startedAt).toBe(arrival);
    expect(ledger.receive(aged('release/later', 'ccc', now()), now()).kind).toBe('queued');
  });
});

describe('environment ledger: a pushed tag never takes an environment to a lower version', () => {
  /** A request from a release started by pushing the tag `v<version>`, at `startedAt`. */
  const tagged = (release: string, commit: string, version: string, startedAt: number, overrides: Partial<PromotionRequest> = {}) =>
    request(release, commit, { version, pushedTag: `v${version}`, releaseStartedAt: startedAt, ...overrides });
  const ran = (ledger: EnvironmentLedger, r: PromotionRequest) => {
    expect(ledger.receive(r, now()).kind).toBe('queued');
    ledger.deployed(ledger.head!, 'g1', now());
    ledger.finishHead(promoted, now());
  };

  it('answers a replayed older tag superseded on arrival, although its release started last, and records why; nothing queues', () => {
    const ledger = new EnvironmentLedger();
    ran(ledger, tagged('release/t/v1.4.0@aaa', 'aaa', '1.4.0', 100));
    ran(ledger, tagged('release/t/v1.5.0@bbb', 'bbb', '1.5.0', 200));
    const replayed = tagged('release/t/v1.4.0@aaa', 'aaa', '1.4.0', 900, { requestId: 'replayed#production' });
    expect(ledger.receive(replayed, now())).toEqual({ kind: 'stale', answer: { request: replayed, outcome: { outcome: 'superseded', by: 'release/t/v1.5.0@bbb' } } });
    expect(ledger.pending).toEqual([]);
    expect(ledger.current?.commit).toBe('bbb'.padEnd(40, '0'));
    expect(ledger.recent[0]).toMatchObject({ requestId: 'replayed#production', outcome: 'superseded', reason: 'superseded by release/t/v1.5.0@bbb' });
    expect(ledger.recent[0]!.notes).toEqual([
      'tag v1.4.0 is 1.4.0, lower than 1.5.0 (bbb0000) of release/t/v1.5.0@bbb, the newest version that completed here: a pushed tag never takes an environment to a lower version (slipway promote or rollback can)',
    ]);
  });

  it('takes a tag of the same version on another commit (a re-created tag), and a higher one', () => {
    const ledger = new EnvironmentLedger();
    ran(ledger, tagged('release/t/v1.5.0@aaa', 'aaa', '1.5.0', 100));
    const recreated = tagged('release/t/v1.5.0@bbb', 'bbb', '1.5.0', 200);
    expect(ledger.higherVersionCompleted(recreated)).toBeUndefined();
    ran(ledger, recreated);
    expect(ledger.current?.commit).toBe('bbb'.padEnd(40, '0'));
    expect(ledger.receive(tagged('release/t/v1.5.1@ccc', 'ccc', '1.5.1', 300), now()).kind).toBe('queued');
  });

  it('lets explicit requests take a lower version: a promote that names no tag, a rollback, an override', () => {
    const ledger = new EnvironmentLedger();
    ran(ledger, tagged('release/t/v1.5.0@bbb', 'bbb', '1.5.0', 100));
    const promote = request('promote/t/production/1.4.0', 'aaa', { version: '1.4.0', releaseStartedAt: 200 });
    const rollback = tagged('rollback/t/production/1.4.0', 'aa1', '1.4.0', 201, { kind: 'rollback' });
    const override = tagged('promote/t/production/1.3.0', 'aa2', '1.3.0', 202, { override: { reason: 'hotfix' }, requestedBy: 'alice' });
    for (const r of [promote, rollback, override]) expect(ledger.higherVersionCompleted(r)).toBeUndefined();
    expect(ledger.receive(promote, now()).kind).toBe('queued');
    expect(ledger.receive(rollback, now()).kind).toBe('queued');
  });

  it('compares from the newest versioned release that completed, which an explicit rollback lowers and a bare commit leaves alone', () => {
    const ledger = new EnvironmentLedger();
    ran(ledger, tagged('release/t/v1.5.0@bbb', 'bbb', '1.5.0', 100));
    ran(ledger, request('rollback/t/production/1.4.0', 'aaa', { version: '1.4.0', kind: 'rollback', releaseStartedAt: 200 }));
    // A hotfix above what runs now goes; one below it does not.
    expect(ledger.higherVersionCompleted(tagged('release/t/v1.4.1@ddd', 'ddd', '1.4.1', 300))).toBeUndefined();
    expect(ledger.higherVersionCompleted(tagged('release/t/v1.3.9@eee', 'eee', '1.3.9', 300))?.releaseId).toBe('rollback/t/production/1.4.0');
    ran(ledger, request('promote/t/production/fff', 'fff', { releaseStartedAt: 400 }));
    expect(ledger.newest?.releaseId).toBe('promote/t/production/fff');
    expect(ledger.higherVersionCompleted(tagged('release/t/v1.3.9@eee', 'eee', '1.3.9', 500))?.releaseId).toBe('rollback/t/production/1.4.0');
  });

  it('finds a tag that waited behind a higher version in flight lower once that one deployed', () => {
    const ledger = new EnvironmentLedger();
    const higher = tagged('release/t/v2.0.0@bbb', 'bbb', '2.0.0', 100);
    const lower = tagged('release/t/v1.9.0@aaa', 'aaa', '1.9.0', 200);
    ledger.receive(higher, now());
    expect(ledger.receive(lower, now()).kind).toBe('queued');
    // Should the higher one fail, the lower one may still go.
    expect(ledger.higherVersionCompleted(lower)).toBeUndefined();
    ledger.deployed(higher, 'g1', now());
    ledger.finishHead(promoted, now());
    expect(ledger.head).toBe(lower);
    expect(ledger.higherVersionCompleted(lower)).toEqual({ releaseId: higher.replyTo, commit: higher.commit, version: '2.0.0', where: 'completed' });
  });

  it('orders versions as SemVer does: numbers by value, a prerelease below its release', () => {
    const ledger = new EnvironmentLedger();
    ran(ledger, tagged('release/t/v1.10.0@aaa', 'aaa', '1.10.0', 100));
    expect(ledger.higherVersionCompleted(tagged('release/t/v1.9.0@bbb', 'bbb', '1.9.0', 200))).toBeDefined();
    expect(ledger.higherVersionCompleted(tagged('release/t/v1.10.0-rc.1@ccc', 'ccc', '1.10.0-rc.1', 200))).toBeDefined();
    expect(ledger.higherVersionCompleted(tagged('release/t/v1.10.1-rc.1@ddd', 'ddd', '1.10.1-rc.1', 200))).toBeUndefined();
    expect([
      compareSemver('1.0.0-alpha', '1.0.0-alpha.1'),
      compareSemver('1.0.0-alpha.1', '1.0.0-alpha.beta'),
      compareSemver('1.0.0-beta.2', '1.0.0-beta.11'),
      compareSemver('1.0.0-rc.1', '1.0.0'),
      compareSemver('v2.0.0', '2.0.0+build.7'),
      compareSemver('1.9007199254740993.0', '1.9007199254740992.0'),
    ].map((order) => Math.sign(order!))).toEqual([-1, -1, -1, -1, 0, 1]);
    expect(compareSemver('2024.01', '1.0.0')).toBeUndefined();
  });

  it('carries the newest version across continue-as-new, so a replay long after is still refused', () => {
    const ledger = new EnvironmentLedger();
    ran(ledger, tagged('release/t/v1.5.0@bbb', 'bbb', '1.5.0', 100));
    const next = new EnvironmentLedger(JSON.parse(JSON.stringify(ledger.carry())));
    expect(next.newestVersioned).toEqual({ releaseId: 'release/t/v1.5.0@bbb', startedAt: 100, commit: 'bbb'.padEnd(40, '0'), version: '1.5.0' });
    expect(next.receive(tagged('release/t/v1.4.0@aaa', 'aaa', '1.4.0', 900), now())).toMatchObject({ kind: 'stale', answer: { outcome: { by: 'release/t/v1.5.0@bbb' } } });
  });

  it('takes a request from a later run of the same release id as a request of its own; a retry from the same run stays a duplicate', () => {
    const ledger = new EnvironmentLedger();
    const first = tagged('release/t/v1.4.0@aaa', 'aaa', '1.4.0', 100);
    ran(ledger, first);
    ran(ledger, tagged('release/t/v1.5.0@bbb', 'bbb', '1.5.0', 200));
    // The first run retrying its delivery gets the answer it got.
    expect(ledger.receive({ ...first }, now())).toMatchObject({ kind: 'duplicate', answer: { outcome: { outcome: 'promoted' } } });
    // The same id started again after Temporal dropped the first run: same request id, later start.
    const again = tagged('release/t/v1.4.0@aaa', 'aaa', '1.4.0', 900);
    expect(again.requestId).toBe(first.requestId);
    const replay = new EnvironmentLedger(ledger.carry());
    expect(replay.receive(again, now(), { byAge: () => true, byVersion: () => true, laterRun: () => false }).kind).toBe('duplicate');
    expect(ledger.receive(again, now())).toEqual({ kind: 'stale', answer: { request: again, outcome: { outcome: 'superseded', by: 'release/t/v1.5.0@bbb' } } });
    expect(ledger.recent[0]).toMatchObject({ requestId: first.requestId, releaseStartedAt: 900, outcome: 'superseded' });
    // And that run's own retry is now the duplicate, answered as it was.
    expect(ledger.receive({ ...again }, now())).toMatchObject({ kind: 'duplicate', answer: { outcome: { outcome: 'superseded' } } });
  });

  it('queues a lower tag for runs recorded before pushed tags were compared', () => {
    const ledger = new EnvironmentLedger();
    ran(ledger, tagged('release/t/v1.5.0@bbb', 'bbb', '1.5.0', 100));
    expect(ledger.receive(tagged('release/t/v1.4.0@aaa', 'aaa', '1.4.0', 900), now(), { byAge: () => true, byVersion: () => false }).kind).toBe('queued');
  });
});

describe('environment ledger: followers of a request its own release withdrew', () => {
  const cancelled: PromotionOutcome = { outcome: 'cancelled' };

  it('makes the first follower of a withdrawn head the new head, instead of answering it "cancelled"; the others follow it', () => {
    const ledger = new EnvironmentLedger();
    const leader = request('release/l', 'aaa');
    const first = request('promote/f1', 'aaa');
    const second = request('promote/f2', 'aaa');
    const waiting = request('release/w', 'bbb');
    ledger.receive(leader, now());
    ledger.receive(first, now());
    ledger.receive(second, now());
    ledger.receive(waiting, now());
    expect(ledger.withdraw(leader.requestId, now(), allVersioned)).toEqual({ kind: 'in-flight' });

    expect(ledger.finishHead(cancelled, now())).toEqual([{ request: leader, outcome: cancelled }]);
    expect(ledger.pending).toEqual([first, waiting]);
    expect(ledger.isWithdrawn(first.requestId)).toBe(false);
    expect(ledger.recent.map((r) => [r.releaseId, r.outcome])).toEqual([['release/l', 'cancelled']]);
    // The follower runs, and answers the one still following with its own outcome.
    expect(ledger.finishHead(promoted, now())).toEqual([
      { request: first, outcome: promoted },
      { request: second, outcome: promoted },
    ]);
    expect(ledger.head).toBe(waiting);
  });

  it('hands a withdrawn head to its follower where the run is versioned for it; runs recorded before, and a head nobody withdrew, answer all "cancelled"', () => {
    const leader = request('release/l', 'aaa');
    const follower = request('promote/f', 'aaa');
    const ledger = new EnvironmentLedger();
    ledger.receive(leader, now());
    ledger.receive(follower, now());
    ledger.withdraw(leader.requestId, now(), allVersioned);
    expect(ledger.finishHead(cancelled, now(), {}, { handOver: () => true }).map((a) => a.request)).toEqual([leader]);
    expect(ledger.head).toBe(follower);

    const older = new EnvironmentLedger();
    older.receive(leader, now());
    older.receive(follower, now());
    older.withdraw(leader.requestId, now(), allVersioned);
    expect(older.finishHead(cancelled, now(), {}, { handOver: () => false }).map((a) => a.request)).toEqual([leader, follower]);
    expect(older.pending).toEqual([]);

    // A promotion cancelled in the Temporal UI, not withdrawn by its release: the build's deployment was stopped for all.
    const stopped = new EnvironmentLedger();
    stopped.receive(leader, now());
    stopped.receive(follower, now());
    expect(stopped.finishHead(cancelled, now()).map((a) => a.request)).toEqual([leader, follower]);
    expect(stopped.pending).toEqual([]);
  });

  it('gives a withdrawn waiting request’s place to its first follower, which then runs', () => {
    const ledger = new EnvironmentLedger();
    const head = request('release/a', 'aaa');
    const waiting = request('release/b', 'bbb');
    const follower = request('promote/b2', 'bbb');
    ledger.receive(head, now());
    ledger.receive(waiting, now());
    expect(ledger.receive(follower, now())).toEqual({ kind: 'follower', of: waiting });
    expect(ledger.withdraw(waiting.requestId, now(), allVersioned)).toEqual({ kind: 'removed', request: waiting });
    expect(ledger.pending).toEqual([head, follower]);
    expect(ledger.recent[0]).toMatchObject({ releaseId: 'release/b', outcome: 'cancelled' });
    ledger.finishHead(promoted, now());
    expect(ledger.finishHead(promoted, now())).toEqual([{ request: follower, outcome: promoted }]);
  });
});

describe('environment ledger: a refused rollback leaves the environment needing a person', () => {
  const conflictText =
    'overlays/production/kustomization.yaml: not rolled back — the overlay holds todoapp/web:hotfix7, not todoapp/web:bad0001 as this promotion wrote it; ' +
    'last changed by 3b1f9c0d2e4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c (On Call <oncall@todoapp.example>: "hotfix: pin the web image"). Nothing was written; a person decides what runs here';
  const refused: PromotionOutcome = {
    outcome: 'failed', reason: 'todoapp-production is Degraded', failureType: 'ApplicationDegraded', rolledBack: false,
    rollbackError: conflictText, rollbackFailureType: 'RollbackConflict',
  };
  const allow = { name: 'production', rollback: { freeze: 'ignore', approval: false, afterConflict: 'allow' } } as PromotionRequest['environment'];

  it('needs a person after a RollbackConflict, naming the commit in between, its author and since when; not after other failures', () => {
    const bad = request('release/bad', 'bad', { version: '1.5.0' });
    const at = now();
    expect(attentionAfter(bad, refused, at)).toEqual({
      reason: `the rollback of 1.5.0 (bad0000) (release/bad) was refused: ${conflictText}`,
      failureType: 'RollbackConflict',
      interveningCommit: '3b1f9c0d2e4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c',
      interveningAuthor: 'On Call <oncall@todoapp.example>',
      requestId: bad.requestId,
      releaseId: 'release/bad',
      commit: bad.commit,
      version: '1.5.0',
      promotionFailure: 'todoapp-production is Degraded',
      since: at,
    });
    expect(attentionAfter(bad, { ...refused, rolledBack: true, rollbackFailureType: undefined, rollbackError: undefined }, at)).toBeUndefined();
    expect(attentionAfter(bad, { ...refused, rollbackFailureType: 'HealthDeadlineExceeded' }, at)).toBeUndefined();
    expect(attentionAfter(bad, promoted, at)).toBeUndefined();
    expect(interveningCommit('not rolled back; nothing names a commit')).toEqual({});
  });

  it('refuses automated promotions with the reason and how to clear it; explicit ones only where the policy says afterConflict: allow', () => {
    const attention = attentionAfter(request('release/bad', 'bad'), refused, now())!;
    const automated = attentionRefusal(attention, request('release/next', 'ccc'));
    expect(automated).toMatch(/^todoapp\/production needs a person since \d{4}-.*Z: the rollback of bad0000 \(release\/bad\) was refused: .*last changed by 3b1f9c0/);
    expect(automated).toMatch(/Promotions are refused until someone clears it \(slipway resolve todoapp production --reason "…"\)$/);
    const rollback = request('rollback/x', 'aaa', { kind: 'rollback' });
    const override = request('promote/x', 'ccc', { override: { reason: 'the hotfix is in this build' }, requestedBy: 'alice' });
    // Default (absent) is refuse: a person resolves first.
    expect(attentionRefusal(attention, rollback)).toMatch(/rollback\.afterConflict: refuse\) lets no rollback or override past that/);
    expect(attentionRefusal(attention, override)).toMatch(/rollback\.afterConflict: refuse/);
    expect(attentionRefusal(attention, { ...rollback, environment: allow })).toBeUndefined();
    expect(attentionRefusal(attention, { ...override, environment: allow })).toBeUndefined();
    expect(attentionRefusal(attention, { ...request('release/next', 'ccc'), environment: allow })).toMatch(/or an explicit slipway rollback \/ promote --force\)$/);
    expect(attentionRefusal(undefined, request('release/next', 'ccc'))).toBeUndefined();
  });

  it('carries the need for a person across continue-as-new, and records who cleared it, why and how', () => {
    const ledger = new EnvironmentLedger();
    const bad = request('release/bad', 'bad');
    ledger.receive(bad, now());
    ledger.finishHead(refused, now());
    ledger.attention = attentionAfter(bad, refused, now());
    const next = new EnvironmentLedger(JSON.parse(JSON.stringify(ledger.carry())));
    expect(next.attention).toEqual(ledger.attention);

    expect(resolveProblem(next.attention, { by: ' ', reason: 'checked' }, 'todoapp/production')).toMatch(/must say who/);
    expect(resolveProblem(next.attention, { by: 'alice', reason: '' }, 'todoapp/production')).toMatch(/must give its reason/);
    expect(resolveProblem(next.attention, { by: 'alice', reason: 'the hotfix stays' }, 'todoapp/production')).toBeUndefined();
    const at = now();
    const resolution = next.resolve({ by: 'alice', reason: 'the hotfix stays', via: 'resolve', channel: 'cli' }, at);
    expect(resolution).toEqual({ attention: ledger.attention, by: 'alice', reason: 'the hotfix stays', via: 'resolve', channel: 'cli', at });
    expect(next.attention).toBeUndefined();
    expect(resolveProblem(next.attention, { by: 'alice', reason: 'again' }, 'todoapp/production')).toBe('todoapp/production does not need a person: there is nothing to resolve');
    expect(next.resolve({ by: 'bob', reason: 'again', via: 'resolve' }, now())).toBeUndefined();
    const after = new EnvironmentLedger(JSON.parse(JSON.stringify(next.carry())));
    expect(after.attention).toBeUndefined();
    expect(after.resolutions).toEqual([resolution]);

    for (let i = 0; i < RESOLUTIONS_KEPT + 3; i++) {
      after.attention = { ...ledger.attention!, since: i };
      after.resolve({ by: `p${i}`, reason: 'ok', via: 'resolve' }, now());
    }
    expect(after.resolutions).toHaveLength(RESOLUTIONS_KEPT);
    expect(after.resolutions[0]!.by).toBe(`p${RESOLUTIONS_KEPT + 2}`);
  });

  it('does not answer "already running" while a person is needed: the request queues, to be answered at the head', () => {
    const ledger = new EnvironmentLedger();
    const good = request('release/good', 'aaa');
    ledger.receive(good, now());
    ledger.deployed(good, 'g1', now());
    ledger.finishHead(promoted, now());
    const bad = request('release/bad', 'bad');
    ledger.receive(bad, now());
    ledger.finishHead(refused, now());
    ledger.attention = attentionAfter(bad, refused, now());
    const again = request('release/good-again', 'aaa');
    expect(ledger.receive(again, now())).toEqual({ kind: 'queued', superseded: [], behind: undefined });
    expect(ledger.head).toBe(again);
  });
});
