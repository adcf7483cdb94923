/** How the CLI turns what a person typed into one build: exact, or refused with what matched. */
import { describe, expect, it } from 'vitest';
import { findTarget, isNewerBuild, previousBuild, resolveReleaseCommit, TargetError } from '../../client/commands/targets.js';
import { cancelTarget } from '../../client/commands/cancel-target.js';
import type { DeploymentRecord } from '../../workflows/types.js';

const A = 'abcdef1' + '1'.repeat(33);
const B = 'abcdef1' + '2'.repeat(33);
const C = '1234567' + '3'.repeat(33);

function record(commit: string, version: string | undefined, finishedAt: number, over: Partial<DeploymentRecord> = {}): DeploymentRecord {
  return { requestId: `r-${finishedAt}`, releaseId: `release/x/${commit}`, commit, version, kind: 'promote', outcome: 'promoted', requestedAt: finishedAt - 1, finishedAt, ...over };
}

const refused = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TargetError);
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
};

describe('issue 19 item 4: exact CLI targets', () => {
  it('release: a full SHA as given; a short one only when exactly one known build has it', () => {
    expect(resolveReleaseCommit(A, [])).toBe(A);
    expect(resolveReleaseCommit('1234567', [{ commit: A }, { commit: C }])).toBe(C);
    expect(refused(() => resolveReleaseCommit('abcdef1', [{ commit: A }, { commit: B }]))).toMatch(new RegExp(`ambiguous, it matches ${A}, ${B}`));
    expect(refused(() => resolveReleaseCommit('7654321', [{ commit: A }]))).toMatch(/give the full 40-character commit SHA/);
    expect(refused(() => resolveReleaseCommit('abcdef', [{ commit: A }]))).toMatch(/must be a hex commit SHA/);
  });

  it('promote / rollback --to: an exact version, or a unique commit prefix of at least 7', () => {
    const records = [record(A, '1.1.0', 30), record(B, '1.0.0', 20), record(A, '1.1.0', 10), record(C, undefined, 5, { outcome: 'failed', reason: 'x', failureType: 'x' } as Partial<DeploymentRecord>)];
    expect(findTarget(records, 'v1.0.0')?.commit).toBe(B);
    expect(findTarget(records, 'abcdef11')?.commit).toBe(A);
    expect(findTarget(records, '9999999')).toBeUndefined();
    // A failed deployment is not a build to go to.
    expect(findTarget(records, '1234567')).toBeUndefined();
    expect(refused(() => findTarget(records, ''))).toMatch(/at least 7 hex characters/);
    expect(refused(() => findTarget(records, 'abc'))).toMatch(/at least 7 hex characters/);
    expect(refused(() => findTarget(records, 'abcdef1'))).toMatch(new RegExp(`ambiguous, it matches ${A} \\(1\\.1\\.0\\), ${B} \\(1\\.0\\.0\\)`));
    expect(refused(() => findTarget([record(A, '2.0.0', 2), record(B, '2.0.0', 1)], '2.0.0'))).toMatch(/more than one build/);
  });

  it('a build is newer by semver when both have versions, otherwise by when it first arrived', () => {
    // 1.0.0, then 1.2.0, then a rollback to 1.0.0: 1.2.0 is newer than what runs.
    const recent = [record(A, '1.0.0', 30, { kind: 'rollback' }), record(B, '1.2.0', 20), record(A, '1.0.0', 10)];
    const current = { commit: A, version: '1.0.0', at: 30 };
    expect(isNewerBuild({ commit: B, version: '1.2.0' }, current, recent)).toBe(true);
    expect(isNewerBuild({ commit: B, version: '1.0.0-rc.1' }, current, recent)).toBe(false);
    expect(isNewerBuild({ commit: A, version: '1.0.0' }, current, recent)).toBe(false);
    const unversioned = recent.map((r) => ({ ...r, version: undefined }));
    expect(isNewerBuild({ commit: B }, { commit: A, at: 30 }, unversioned)).toBe(true);
    expect(isNewerBuild({ commit: A }, { commit: B, at: 20 }, unversioned)).toBe(false);
  });

  it('`slipway rollback` with no --to after a rollback goes further back, never forward to the build rolled back from', () => {
    const recent = [record(A, '1.0.5', 40, { kind: 'rollback' }), record(B, '1.2.0', 30), record(A, '1.0.5', 20), record(C, '1.0.0', 10)];
    const state = { app: 'x', environment: 'production', current: { requestId: 'r-40', releaseId: 'x', commit: A, version: '1.0.5', images: [], gitopsCommit: 'g', at: 40 }, recent };
    expect(previousBuild(state)?.version).toBe('1.0.0');
    expect(previousBuild({ ...state, recent: recent.slice(0, 3) })).toBeUndefined();
  });
});

describe('slipway cancel: only releases, promotions and rollbacks', () => {
  it('takes the ids releases, `slipway promote`, `slipway rollback` and environments\' promotions run under', () => {
    expect(cancelTarget(`release/todoapp/${A}`)).toEqual({ ok: true, workflowType: 'release' });
    expect(cancelTarget('release/todoapp/v1.4.0')).toEqual({ ok: true, workflowType: 'release' });
    expect(cancelTarget('promote/todoapp/production/1.4.0-m1x2y3')).toEqual({ ok: true, workflowType: 'release' });
    expect(cancelTarget('rollback/todoapp/production/1.3.9-m1x2y3')).toEqual({ ok: true, workflowType: 'release' });
    expect(cancelTarget('promotion/todoapp/production/abcdef111111-4')).toEqual({ ok: true, workflowType: 'promotion' });
  });

  it('refuses an environment workflow, saying what it takes and why not that one', () => {
    const refusal = cancelTarget('env/todoapp/production');
    expect(refusal.ok).toBe(false);
    const problem = (refusal as { problem: string }).problem;
    expect(problem).toMatch(/^error: cancel takes a release, promotion or rollback id: release\/<app>\/<commit or tag>/);
    expect(problem).toContain('"env/todoapp/production" is none of these: that is an environment workflow');
  });

  it('refuses backups, other workflows and malformed ids', () => {
    for (const id of ['backup/todoapp/production', 'backup/todoapp/production-manual-2026-01-01T00:00:00Z', 'env/todoapp', 'release/todoapp', 'release/todoapp/a/b', 'promote/todoapp/1.4.0', 'rollback//production/x', 'Release/todoapp/abc', 'temporal-sys-scheduler', '']) {
      expect(cancelTarget(id).ok, id).toBe(false);
    }
  });
});
