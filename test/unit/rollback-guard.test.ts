import { describe, expect, it } from 'vitest';
import { decideRollback } from '../../activities/gitops/rollback-guard.js';

const point = [{ name: 'web' }, { name: 'api', newTag: 'good' }];
const wrote = [{ name: 'web', newTag: 'bad' }, { name: 'api', newTag: 'bad' }];

describe('decideRollback', () => {
  it('restores while the overlay holds what the promotion wrote (fields it left open ignored)', () => {
    expect(decideRollback([{ name: 'web', newTag: 'bad', newName: 'reg/web' }, { name: 'api', newTag: 'bad' }], point, { wrote, landed: true })).toEqual({ kind: 'restore' });
  });
  it('has nothing to undo when the write never landed and the rollback point is in place', () => {
    expect(decideRollback(point, point, { wrote, landed: false })).toEqual({ kind: 'nothing-to-undo' });
  });
  it('is a conflict when the rollback point is back although the write landed', () => {
    expect(decideRollback(point, point, { wrote, landed: true }).kind).toBe('conflict');
  });
  it('is a conflict when any entry holds something else, whether or not the write landed', () => {
    for (const landed of [true, false]) {
      const decision = decideRollback([{ name: 'web', newTag: 'bad' }, { name: 'api', newTag: 'hotfix' }], point, { wrote, landed });
      expect(decision.kind).toBe('conflict');
    }
  });
  it('a tag left on an entry whose point has none is not the rollback point', () => {
    expect(decideRollback([{ name: 'web', newTag: 'good' }, { name: 'api', newTag: 'good' }], point, { wrote, landed: false }).kind).toBe('conflict');
  });
});
