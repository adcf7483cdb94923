/**
 * `npm run bench [-- overhead scale git failure ancestry crash]`: runs the benches (all by default), each against
 * its baseline in this one process, prints a table per bench and writes JSON to bench/results/.
 * Benches that need Temporal share one dev server started here.
 */
import { kustomizePath } from '../infra/kustomize.js';
import { benchAncestry } from './ancestry.js';
import { benchCrashRecovery } from './crash-recovery.js';
import { benchFailureDetection } from './failure-detection.js';
import { benchGitWriters } from './git-writers.js';
import { benchOverhead } from './overhead.js';
import { RESULTS_DIR } from './report.js';
import { benchScale } from './scale.js';
import { startBenchTemporal, type BenchTemporal } from './temporal.js';

const ALL = ['overhead', 'scale', 'git', 'failure', 'ancestry', 'crash'] as const;
const chosen = process.argv.slice(2).length ? process.argv.slice(2) : [...ALL];
for (const name of chosen) if (!ALL.includes(name as (typeof ALL)[number])) throw new Error(`unknown bench ${name}; choose from ${ALL.join(', ')}`);

// The gitops activities render every overlay edit with kustomize before committing it, and find it here.
process.env.SLIPWAY_KUSTOMIZE ??= kustomizePath();
let temporal: BenchTemporal | undefined;
const needsTemporal = chosen.some((c) => c !== 'git' && c !== 'ancestry');
try {
  if (needsTemporal) temporal = await startBenchTemporal(`${RESULTS_DIR}temporal-dev-server.log`);
  for (const name of chosen) {
    const started = Date.now();
    if (name === 'overhead') await benchOverhead(temporal!);
    if (name === 'scale') await benchScale(temporal!);
    if (name === 'git') await benchGitWriters();
    if (name === 'failure') await benchFailureDetection(temporal!);
    if (name === 'ancestry') await benchAncestry();
    if (name === 'crash') await benchCrashRecovery(temporal!);
    console.log(`(${name}: ${Math.round((Date.now() - started) / 1000)} s)`);
  }
  console.log(`\nJSON results in ${RESULTS_DIR}`);
} finally {
  await temporal?.stop();
}
process.exit(0);
