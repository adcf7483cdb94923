/**
 * One holder at a time per key, in arrival order, within this process. No hold outlives the
 * attempt that took it: a waiter whose signal aborts (its activity was cancelled or timed out)
 * leaves the queue at once, and the holder's work is itself bounded (every git command has a
 * deadline), so a hung remote delays the next writer by one deadline, never for ever.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>, options: { signal?: AbortSignal; whileWaiting?: () => void; waitBeatMs?: number } = {}): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    try {
      await waitFor(previous, options);
      return await fn();
    } finally {
      // Also when this waiter gave up: the next one then waits only for `previous`.
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

function waitFor(turn: Promise<void>, options: { signal?: AbortSignal; whileWaiting?: () => void; waitBeatMs?: number }): Promise<void> {
  const { signal, whileWaiting } = options;
  if (!signal && !whileWaiting) return turn;
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const beat = whileWaiting ? setInterval(whileWaiting, options.waitBeatMs ?? 2_000) : undefined;
    const onAbort = () => settle(() => reject(signal!.reason ?? new Error('aborted')));
    const settle = (how: () => void) => {
      clearInterval(beat);
      signal?.removeEventListener('abort', onAbort);
      how();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    turn.then(() => settle(resolve));
  });
}
