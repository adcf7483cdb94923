/**
 * Worker A of the crash bench, in its own process so it can be SIGKILLed: the real gitops
 * activities, whose push never happens. At the push it prints `holding push` and keeps
 * heartbeating, as a live worker in a slow `git push` does (bounded-process.ts heartbeats while
 * git runs) — so the only thing that stops its heartbeats is the kill.
 * Env: TEMPORAL_ADDRESS, TASK_QUEUE, WORKFLOW_BUNDLE, SLIPWAY_CONFIG (its policy file),
 * CLONE_ROOT. Prints `ready` once polling.
 */
import { heartbeat } from '../activities/activity-context.js';
import { createGitopsActivities } from '../activities/gitops/index.js';
import { runBenchWorkerProcess } from './worker-entry.js';

await runBenchWorkerProcess(
  createGitopsActivities({
    logger: { info() {}, warn() {} },
    clones: { root: process.env.CLONE_ROOT! },
    beforePush: () => {
      console.log('holding push');
      setInterval(() => heartbeat({ pushing: true }), 500);
      return new Promise<void>(() => {});
    },
  }),
  // The workflow's last task was sticky to this worker; a short timeout hands it to worker B
  // after the kill in a second instead of the default five.
  { stickyQueueScheduleToStartTimeout: '1s' },
);
