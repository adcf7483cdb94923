/**
 * Replays recorded workflow histories against today's workflow code. Each folder of
 * test/histories/ holds the histories one version of Slipway's workflows recorded (v1: the first
 * wave; v2: the worker owns the policy; v3: fenced writes, the newer release wins, matched replies,
 * guarded rollbacks, environments that need a person, releases that notice a gone environment,
 * flagged and overdue backups; v4: tags that cannot go backwards, verification on a scratch
 * server, metric checks; v5: pull-request mode — merged, closed, superseded, rolled back
 * through a rollback pull request). Workflows of every version may still be running in users'
 * clusters, so a change that would break any of them — a reordered step, a new activity without
 * `patched()` — fails here with a non-determinism error. When a change alters the commands a
 * workflow issues, keep the folders as they are and add one for the new version, recorded with
 * `npx vitest run test/integration/release-workflow.test.ts test/integration/backup.test.ts`
 * (and the environment-order, environment-attention, release-environment-gone,
 * approval-request-delivery, backup-pg-versions, metric-checks and promotion-pull-request tests for the paths they take; they land in test-output/histories/).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { Worker, DefaultLogger, Runtime } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';

const dir = join(process.cwd(), 'test', 'histories');
const versions = readdirSync(dir).filter((f) => /^v\d+$/.test(f)).sort();
const files = versions.flatMap((version) => readdirSync(join(dir, version)).filter((f) => f.endsWith('.json')).sort().map((f) => `${version}/${f}`));

describe('replay of recorded histories', () => {
  it.each(versions)('%s has histories for success, rollback and superseded releases, and for good and failed backups', (version) => {
    expect(files.filter((f) => f.startsWith(`${version}/`)).map((f) => f.slice(version.length + 1))).toEqual(
      expect.arrayContaining([
        'release-success.json',
        'promotion-rollback.json',
        'release-superseded.json',
        'environment-race.json',
        'backup-success.json',
        'backup-verify-failed.json',
        'backup-dump-failed.json',
      ]),
    );
  });

  it('keeps the histories of every version so far', () => {
    expect(versions).toEqual(expect.arrayContaining(['v1', 'v2', 'v3', 'v4', 'v5']));
  });

  it.each(files)('%s replays without non-determinism', async (file) => {
    try {
      Runtime.install({ logger: new DefaultLogger('ERROR') });
    } catch {
      /* installed by an earlier test in this process */
    }
    const history = historyFromJSON(JSON.parse(readFileSync(join(dir, file), 'utf8')));
    const bundle = inject('workflowBundlePath');
    expect(bundle, 'the suite builds the workflow bundle in global setup').toBeTruthy();
    // Under the workflow id it ran with: workflows derive ids from their own (a release's request
    // ids), and messages in the history carry them.
    const workflowId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowId ?? `replay-${file.replace('/', '-')}`;
    await Worker.runReplayHistory({ workflowBundle: { codePath: bundle } }, history, workflowId);
  });
});
