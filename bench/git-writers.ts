/**
 * Bench 3, concurrent git writers: N writers push to one branch of a real bare repository at once,
 * each with its own gitops activities instance (its own in-process lock, as N workers would have),
 * so they really race at the remote. A write that runs out of push attempts is retried the way
 * Temporal retries the activity. Commits landed, retries, and lost updates (target 0): a writer
 * told "landed at X" whose X is not on the branch, or does not hold its images.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ApplicationFailure } from '@temporalio/common';
import { createGitopsActivities } from '../activities/gitops/index.js';
import { seedGitopsRepo } from '../infra/examples/seed-repo.js';
import { printTable, round, writeResult } from './report.js';

const run = promisify(execFile);
const WRITERS = [8, 16];
const OVERLAY = '1.2/overlays/staging';
const IMAGES = ['todoapp/frontend', 'todoapp/backend'];
const quiet = { info() {}, warn() {} };

export async function benchGitWriters(): Promise<Array<Record<string, string | number>>> {
  const rows: Array<Record<string, string | number>> = [];
  for (const n of WRITERS) {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-bench-git-'));
    try {
      const repo = await seedGitopsRepo(dir);
      const git = async (...args: string[]) => (await run('git', ['--git-dir', repo.barePath, ...args])).stdout.trim();
      let pushAttempts = 0;
      let activityRetries = 0;
      const started = performance.now();
      const landed = await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const tag = `writer-${i}-${Date.now()}`;
          const activities = createGitopsActivities({ logger: quiet, beforePush: async () => void pushAttempts++ });
          for (;;) {
            try {
              const result = await activities.writeOverlayImages({
                git: repo.git,
                overlay: OVERLAY,
                images: IMAGES.map((name) => ({ name, newTag: tag })),
                context: { app: 'todoapp', environment: 'staging', releaseId: `bench/writer-${i}`, sourceCommit: tag, kind: 'promote' },
              });
              return { tag, commit: result.commit };
            } catch (err) {
              if (err instanceof ApplicationFailure && err.nonRetryable) throw err;
              activityRetries++;
            }
          }
        }),
      );
      const ms = performance.now() - started;
      let lost = 0;
      for (const w of landed) {
        const onBranch = await run('git', ['--git-dir', repo.barePath, 'merge-base', '--is-ancestor', w.commit, 'main']).then(() => true, () => false);
        const holds = onBranch && (await git('show', `${w.commit}:${OVERLAY}/kustomization.yaml`)).includes(`newTag: ${w.tag}`);
        if (!holds) lost++;
      }
      const commits = Number(await git('rev-list', '--count', `${repo.commit}..main`));
      lost += Math.max(0, n - commits);
      rows.push({
        writers: n,
        'commits landed': commits,
        'push attempts': pushAttempts,
        'push retries': pushAttempts - n,
        'activity retries': activityRetries,
        'lost updates': lost,
        'wall s': round(ms / 1000, 2),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  printTable('git — concurrent writers to one branch of a real bare repository (target: 0 lost updates)', rows);
  writeResult('git-writers', { runs: rows });
  return rows;
}
