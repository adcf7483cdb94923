/**
 * A worker in its own process with the real activities — git writes (createGitopsActivities), Argo
 * CD through the Kubernetes API, Temporal itself for the environment requests, log notifications —
 * for fault tests that SIGKILL workers over real components.
 *
 * Env: TEMPORAL_ADDRESS, TASK_QUEUE, WORKFLOW_BUNDLE, SLIPWAY_CONFIG (its policy file), KUBECONFIG
 * (a kubeconfig file of the test's API server), CLONE_ROOT (where its clones go, so a test can look
 * for leftovers), MIRROR_DIR (the ancestry and overlay-reading mirrors, shared by the test's
 * workers as by workers on one machine). With PUSH_PAUSE_MS set, before each push it prints
 * `pushing <commit>` and waits a random 0..PUSH_PAUSE_MS ms (seeded by PUSH_SEED), so a test can
 * kill it right at a push. Pull-request mode's activities call GitHub at GITHUB_API_URL (a test's
 * Prism-validated GitHub) with the token of the variable the policy names. Prints `swept <n>` (clone
 * folders of dead workers it removed) and then `ready` once polling.
 */
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { KubeConfig } from '@kubernetes/client-node';
import { createArgoActivities } from '../../activities/argocd/index.js';
import { runProgram } from '../../activities/bounded-process.js';
import { createControlActivities } from '../../activities/control/index.js';
import { createPullRequestActivities } from '../../activities/github/index.js';
import { createAncestryChecker, createGitopsActivities, createPullRequestWriteActivities, sweepAbandonedClones } from '../../activities/gitops/index.js';
import { createOverlayReader } from '../../activities/gitops/read-at-revision.js';
import { createNotifyActivities } from '../../activities/notify/index.js';
import { PolicyStore } from '../../activities/policy/index.js';
import { createSlipwayWorker } from '../../worker/create-worker.js';
import { seededRandom } from './seeded-random.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`real-worker-process: ${name} is not set`);
  return value;
};

Runtime.install({ logger: new DefaultLogger('ERROR') });

const cloneRoot = env('CLONE_ROOT');
const mirrors = env('MIRROR_DIR');
// As worker/main.ts does at start-up: what killed workers left goes before any new clone is made.
const swept = await sweepAbandonedClones(cloneRoot);
console.log(`swept ${swept.length}`);

const pauseMs = Number(process.env.PUSH_PAUSE_MS ?? 0);
const random = seededRandom(Number(process.env.PUSH_SEED) || 1);
const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(env('KUBECONFIG'));

const connection = await NativeConnection.connect({ address: env('TEMPORAL_ADDRESS') });
const worker = await createSlipwayWorker({
  connection,
  namespace: 'default',
  taskQueue: env('TASK_QUEUE'),
  activities: {
    ...createGitopsActivities({
      clones: { root: cloneRoot },
      beforePush: pauseMs > 0 ? announcePush : undefined,
    }),
    ...createPullRequestWriteActivities({ clones: { root: cloneRoot }, mirrors, beforePush: pauseMs > 0 ? announcePush : undefined }),
    ...createPullRequestActivities(),
    ...createArgoActivities({ kubeConfig, isAncestor: createAncestryChecker({ cacheDir: mirrors }), readOverlayAt: createOverlayReader({ cacheDir: mirrors }) }),
    ...createControlActivities(),
    ...createNotifyActivities(),
  },
  policy: new PolicyStore({ kind: 'file', path: env('SLIPWAY_CONFIG') }),
  workflowBundlePath: process.env.WORKFLOW_BUNDLE,
  // A short sticky timeout so a replacement worker picks up workflow tasks quickly.
  tuning: { stickyQueueScheduleToStartTimeout: '2s' },
});
const running = worker.run();
console.log('ready');
await running;
await connection.close();

/** Says which commit is about to be pushed, then lets a test's kill land before or during the push. */
async function announcePush({ dir }: { dir: string }): Promise<void> {
  const head = await runProgram({ file: 'git', args: ['rev-parse', 'HEAD'], cwd: dir, timeoutMs: 10_000 });
  console.log(`pushing ${head.stdout.trim()}`);
  await new Promise((r) => setTimeout(r, random.between(0, pauseMs)));
}
