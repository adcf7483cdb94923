import { asyncLocalStorage, type Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { sleep } from '../../activities/activity-context.js';

/** Only what sleep reads from the activity context. */
const inActivity = <T>(cancellationSignal: AbortSignal, fn: () => Promise<T>): Promise<T> =>
  asyncLocalStorage.run({ cancellationSignal } as Context, fn);

describe('sleep', () => {
  it('waits the given time outside an activity', async () => {
    const started = Date.now();
    await sleep(30);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });

  it('ends early, resolving, when the signal aborts', async () => {
    const abort = new AbortController();
    const started = Date.now();
    setTimeout(() => abort.abort(), 10);
    await sleep(10_000, abort.signal);
    expect(Date.now() - started).toBeLessThan(5_000);
    await sleep(10_000, abort.signal); // already aborted: at once
  });

  it('rejects with the cancellation when the activity is cancelled', async () => {
    const cancel = new AbortController();
    const waiting = inActivity(cancel.signal, () => sleep(10_000));
    cancel.abort(new CancelledFailure('CANCELLED'));
    await expect(waiting).rejects.toBeInstanceOf(CancelledFailure);
    await expect(inActivity(cancel.signal, () => sleep(10))).rejects.toBeInstanceOf(CancelledFailure);
  });
});
