/**
 * Replays recorded workflow histories (test/histories/) against today's workflow code. A change
 * that would break running workflows — a reordered step, a new activity without `patched()` —
 * fails here with a non-determinism error. Record new histories with
 * `npx vitest run test/integration/release-workflow.test.ts test/integration/backup.test.ts`
 * (they land in test-output/histories/).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { Worker, DefaultLogger, Runtime } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';

const dir = join(process.cwd(), 'test', 'histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

describe('replay of recorded histories', () => {
  it('has histories for success, rollback and superseded releases, and for good and failed backups', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'release-success.json',
        'promotion-rollback.json',
        'release-superseded.json',
        'backup-success.json',
        'backup-verify-failed.json',
        'backup-dump-failed.json',
      ]),
    );
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
    await Worker.runReplayHistory({ workflowBundle: { codePath: bundle } }, history, `replay-${file}`);
  });
});
