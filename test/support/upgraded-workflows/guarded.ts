/**
 * Slipway's workflows with one change a next version could make: a release first pauses on a
 * timer — a new command at the very start, before anything a running release has recorded —
 * behind `patched()` as the README's rule asks. Running releases replay without it and carry on;
 * releases started after the upgrade take it. The upgrade test (worker-upgrade.test.ts) deploys
 * this as version N+1 over releases started on the workflows as they are.
 */
import { patched, sleep } from '@temporalio/workflow';
import { release as releaseAsItIs } from '../../../workflows/release.js';

export * from '../../../workflows/index.js';

export const UPGRADE_PATCH = 'upgrade-drill-pause';

export async function release(...args: Parameters<typeof releaseAsItIs>): ReturnType<typeof releaseAsItIs> {
  if (patched(UPGRADE_PATCH)) await sleep('10 ms');
  return releaseAsItIs(...args);
}
