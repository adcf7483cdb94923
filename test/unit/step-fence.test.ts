import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareSteps, fenceVerdict, LOG_FORMAT, parseStep, parseStepLog, stepTrailer, type StepCommit } from '../../activities/gitops/step-fence.js';
import type { WriteStep } from '../../activities/types.js';

const stepArb = fc.record({
  epoch: fc.uuid(),
  sequence: fc.integer({ min: 0, max: 1_000_000 }),
  phase: fc.constantFrom<WriteStep['phase']>('write', 'compensation'),
});

const at = (commit: string, step: WriteStep | undefined, app = 'todo', environment = 'staging'): StepCommit => ({ commit, app, environment, ...(step ? { step } : {}) });

describe('step fence', () => {
  it('a step trailer reads back as the same step', () => {
    fc.assert(
      fc.property(stepArb, (step) => {
        expect(parseStep(stepTrailer(step).replace(/^Slipway-Step: /, ''))).toEqual(step);
      }),
    );
  });

  it('a compensation comes after its own write and before the next promotion', () => {
    const e = 'e1';
    expect(compareSteps({ epoch: e, sequence: 4, phase: 'write' }, { epoch: e, sequence: 4, phase: 'compensation' })).toBeLessThan(0);
    expect(compareSteps({ epoch: e, sequence: 4, phase: 'compensation' }, { epoch: e, sequence: 5, phase: 'write' })).toBeLessThan(0);
  });

  it('the verdict is decided by the newest step commit of the same app and environment only', () => {
    fc.assert(
      fc.property(stepArb, stepArb, (mine, theirs) => {
        const sameChain = { ...theirs, epoch: mine.epoch };
        const commits = [at('other-env', { ...sameChain, sequence: sameChain.sequence + 10 }, 'todo', 'production'), at('no-step', undefined), at('latest', sameChain), at('older', { ...mine, sequence: 0 })];
        const verdict = fenceVerdict(mine, 'todo', 'staging', commits);
        const order = compareSteps(sameChain, mine);
        expect(verdict.kind).toBe(order > 0 ? 'stale' : order === 0 ? 'already-landed' : 'go');
        // Another run chain says nothing about this one's order.
        expect(fenceVerdict(mine, 'todo', 'staging', [at('latest', { ...theirs, epoch: `${mine.epoch}-other` })]).kind).toBe('go');
      }),
    );
  });

  it('reads git log output, skipping commits without Slipway trailers and refusing malformed steps', () => {
    const record = (hash: string, message: string) => `\x1e${hash}\x1f${message}`;
    const out =
      record('a1', 'promote todo\n\nSlipway-App: todo\nSlipway-Environment: staging\nSlipway-Step: 7 write (e1)\n') +
      record('b2', 'a person edits the README\n') +
      record('c3', 'old slipway\n\nSlipway-App: todo\nSlipway-Environment: staging\n') +
      record('d4', 'forged\n\nSlipway-App: todo\nSlipway-Environment: staging\nSlipway-Step: seven write (e1)\n');
    expect(parseStepLog(out)).toEqual([
      at('a1', { epoch: 'e1', sequence: 7, phase: 'write' }),
      at('c3', undefined),
      at('d4', undefined),
    ]);
    expect(LOG_FORMAT).toContain('%H');
  });
});
