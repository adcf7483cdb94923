/**
 * The same change as guarded.ts without `patched()` — the mistake the replay suite is there to
 * catch: a release recorded without the pause replays with it, and the worker calls that a
 * non-determinism. Never deployed; the upgrade test replays histories against it.
 */
import { sleep } from '@temporalio/workflow';
import { release as releaseAsItIs } from '../../../workflows/release.js';

export * from '../../../workflows/index.js';

export async function release(...args: Parameters<typeof releaseAsItIs>): ReturnType<typeof releaseAsItIs> {
  await sleep('10 ms');
  return releaseAsItIs(...args);
}
