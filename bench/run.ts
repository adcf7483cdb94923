/**
 * `npm run bench [-- overhead scale git failure ancestry crash]`: runs the benches (all by default), each against
 * its baseline in this one process, prints a table per bench and writes JSON to bench/results/.
 * Benches that need Temporal share the servers started here, each at most once: the dev server,
 * and the production server on PostgreSQL for the scale bench.
 */
import { kustomizePath } from '../infra/kustomize.js';
import { benchAncestry } from './ancestry.js';
import { benchCrashRecovery } from './crash-recovery.js';
import { benchFailureDetection } from './failure-detection.js';
import { benchGitWriters } from './git-writers.js';
import { benchOverhead } from './overhead.js';
import { RESULTS_DIR } from './report.js';
import { benchScale } from './scale.js';
import { startBenchTemporal, type BenchServerKind, type BenchTemporal } from './temporal.js';

const ALL = ['overhead', 'scale', 'git', 'failure', 'ancestry', 'crash'] as const;
const chosen = process.argv.slice(2).length ? process.argv.slice(2) : [...ALL];
for (const name of chosen) if (!ALL.includes(name as (typeof ALL)[number])) throw new Error(`unknown bench ${name}; choose from ${ALL.join(', ')}`);

// The gitops activities render every overlay edit with kustomize before committing it, and find it here.
process.env.SLIPWAY_KUSTOMIZE ??= kustomizePath();
const servers = new Map<BenchServerKind, Promise<BenchTemporal>>();
/** The run's server of that kind, started on first use. */
function temporal(kind: BenchServerKind = 'dev'): Promise<BenchTemporal> {
  let server = servers.get(kind);
  if (!server) {
    server = startBenchTemporal(`${RESULTS_DIR}temporal-${kind}-server.log`, kind);
    servers.set(kind, server);
  }
  return server;
}
try {
  for (const name of chosen) {
    const started = Date.now();
    if (name === 'overhead') await benchOverhead(await temporal());
    if (name === 'scale') await benchScale(temporal);
    if (name === 'git') await benchGitWriters();
    if (name === 'failure') await benchFailureDetection(await temporal());
    if (name === 'ancestry') await benchAncestry();
    if (name === 'crash') await benchCrashRecovery(await temporal());
    console.log(`(${name}: ${Math.round((Date.now() - started) / 1000)} s)`);
  }
  console.log(`\nJSON results in ${RESULTS_DIR}`);
} finally {
  for (const server of servers.values()) await server.then((s) => s.stop()).catch(() => undefined);
}
process.exit(0);
