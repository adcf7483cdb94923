/**
 * Tier: unit (no servers; one property also asks the local git CLI's check-ref-format). The
 * pull-request branch of a write — its name, and how an existing branch is read: ours (with what
 * others pushed on top), late, or someone else's.
 */
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { commitMessage } from '../../activities/gitops/commit-message.js';
import { findOwnCommit, pullRequestBranch, type BranchLogEntry } from '../../activities/gitops/pull-request-mode.js';
import type { CommitContext } from '../../activities/types.js';

/** git's rules for a branch name (git-check-ref-format(1)), written out independently of the code under test. */
function validBranchName(name: string): boolean {
  if (name.startsWith('-') || name.endsWith('/') || name.endsWith('.') || name === '@') return false;
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name) || name.includes('..') || name.includes('@{') || name.includes('//')) return false;
  return name.split('/').every((part) => part.length > 0 && !part.startsWith('.') && !part.endsWith('.lock'));
}

const context = (over: Partial<CommitContext> = {}): CommitContext => ({
  app: 'todoapp',
  environment: 'production',
  releaseId: 'release/todoapp/3f2a9c1d4e5f60718293a4b5c6d7e8f901234567',
  version: 'v1.4.0',
  sourceCommit: '3f2a9c1d4e5f60718293a4b5c6d7e8f901234567',
  kind: 'promote',
  step: { epoch: 'run-1', sequence: 4, phase: 'write' },
  ...over,
});

const anyId = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 60 }), fc.constantFrom('', '.', '..', '/', '@{', '.lock', 'a.lock', '-x', 'x.', 'release/a/b@c'));
const envName = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/);

describe('pullRequestBranch', () => {
  it('names the branch after the release and the environment, readable for the usual ids', () => {
    expect(pullRequestBranch(context())).toBe('slipway/release-todoapp-3f2a9c1d4e5f60718293a4b5c6d7e8f901234567/production');
    expect(pullRequestBranch(context({ kind: 'rollback' }))).toBe('slipway/release-todoapp-3f2a9c1d4e5f60718293a4b5c6d7e8f901234567/production.rollback');
  });

  it('is always a valid branch name of exactly three parts, whatever the release id', () => {
    fc.assert(
      fc.property(anyId, envName, fc.constantFrom<CommitContext['kind']>('promote', 'rollback'), (releaseId, environment, kind) => {
        const branch = pullRequestBranch({ releaseId, environment, kind });
        expect(validBranchName(branch)).toBe(true);
        expect(branch.split('/')).toHaveLength(3);
        expect(branch.length).toBeLessThanOrEqual(8 + 111 + 1 + 30 + 9);
      }),
      { numRuns: 2000 },
    );
  });

  it('git itself accepts every name', () => {
    fc.assert(
      fc.property(anyId, envName, (releaseId, environment) => {
        const branch = pullRequestBranch({ releaseId, environment, kind: 'promote' });
        expect(spawnSync('git', ['check-ref-format', '--branch', branch]).status).toBe(0);
      }),
      { numRuns: 60 },
    );
  });

  it('is deterministic (a retry finds the branch) and gives different releases different branches', () => {
    fc.assert(
      fc.property(anyId, anyId, envName, (a, b, environment) => {
        const branchA = pullRequestBranch({ releaseId: a, environment, kind: 'promote' });
        expect(pullRequestBranch({ releaseId: a, environment, kind: 'promote' })).toBe(branchA);
        // Ids that differ only in / versus - may share a branch (the second write then stops, see findOwnCommit).
        if (a.replaceAll('/', '-') !== b.replaceAll('/', '-')) expect(pullRequestBranch({ releaseId: b, environment, kind: 'promote' })).not.toBe(branchA);
      }),
      { numRuns: 2000 },
    );
  });

  it('gives the promotion and the rollback of one release their own branches', () => {
    fc.assert(
      fc.property(anyId, envName, (releaseId, environment) => {
        expect(pullRequestBranch({ releaseId, environment, kind: 'promote' })).not.toBe(pullRequestBranch({ releaseId, environment, kind: 'rollback' }));
      }),
    );
  });
});

const IMAGES = [{ name: 'todoapp/frontend', newTag: '3f2a9c1' }];
let n = 0;
const entry = (message: string, author = 'Slipway <slipway@example.com>'): BranchLogEntry => ({
  commit: (++n).toString(16).padStart(40, '0'),
  author,
  subject: message.split('\n')[0]!,
  message,
});
const person = (subject: string) => entry(`${subject}\n`, 'Alice <alice@example.com>');

describe('findOwnCommit', () => {
  const mine = commitMessage(context(), IMAGES);

  it('finds this write on the branch, even as the empty "already in place" commit of a later attempt', () => {
    const ours = entry(mine);
    expect(findOwnCommit([ours], commitMessage(context(), IMAGES, { unchanged: true }))).toEqual({ kind: 'found', commit: ours.commit, above: [] });
  });

  it('reports what a person pushed on top of it, newest first, and still answers with our commit', () => {
    const ours = entry(mine);
    const fix = person('bump replicas');
    const later = person('fix typo');
    const verdict = findOwnCommit([later, fix, ours, person('main before')], mine);
    expect(verdict).toEqual({
      kind: 'found',
      commit: ours.commit,
      above: [
        { commit: later.commit, author: 'Alice <alice@example.com>', subject: 'fix typo' },
        { commit: fix.commit, author: 'Alice <alice@example.com>', subject: 'bump replicas' },
      ],
    });
  });

  it('says the branch is taken when it holds no commit of this write: a person\'s branch, another build, another step', () => {
    expect(findOwnCommit([person('my own branch')], mine)).toEqual({ kind: 'taken' });
    expect(findOwnCommit([entry(commitMessage(context({ sourceCommit: 'aaaa111', version: 'v1.3.0' }), IMAGES))], mine)).toEqual({ kind: 'taken' });
    expect(findOwnCommit([entry(commitMessage(context({ step: { epoch: 'run-1', sequence: 2, phase: 'write' } }), IMAGES))], mine)).toEqual({ kind: 'taken' });
    expect(findOwnCommit([entry(commitMessage(context({ environment: 'staging' }), IMAGES))], mine)).toEqual({ kind: 'taken' });
  });

  it('takes a person copying our trailers into a commit below ours as no reason to look past ours', () => {
    const ours = entry(mine);
    const copy = entry(`copied\n\n${mine}`);
    expect(findOwnCommit([ours, copy], mine)).toMatchObject({ kind: 'found', commit: ours.commit });
  });

  it('makes this attempt late when a later step of the environment is on the branch, above ours or instead of it', () => {
    const later = entry(commitMessage(context({ step: { epoch: 'run-1', sequence: 4, phase: 'compensation' } }), IMAGES));
    expect(findOwnCommit([later, entry(mine)], mine)).toMatchObject({ kind: 'stale', by: { commit: later.commit } });
    expect(findOwnCommit([later], mine)).toMatchObject({ kind: 'stale', by: { commit: later.commit } });
  });

  it('never finds a write that carries no Slipway trailers', () => {
    expect(findOwnCommit([entry('plain\n')], 'plain\n')).toEqual({ kind: 'taken' });
  });
});
