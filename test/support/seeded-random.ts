/**
 * A small seeded PRNG (mulberry32) for fault tests: the random choices a run made (kill points,
 * delays) come back with the same seed, so a failure seen once can be replayed.
 */
export interface SeededRandom {
  seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  between(min: number, max: number): number;
}

export function seededRandom(seed: number = Number(process.env.SLIPWAY_FAULT_SEED) || Math.floor(Math.random() * 2 ** 31)): SeededRandom {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { seed, next, between: (min, max) => min + Math.floor(next() * (max - min + 1)) };
}
