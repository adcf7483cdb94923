/**
 * A bench's Temporal: its own server — the dev server, or the production server on PostgreSQL —
 * the workflow bundle (real workflows + baseline), and workers on it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type WorkerOptions } from '@temporalio/worker';
import type { PolicyStore } from '../activities/policy/index.js';
import { startDevServer } from '../infra/temporal/dev-server.js';
import { startProductionServer } from '../infra/temporal/production-server.js';
import { buildWorkflowBundle } from '../worker/bundle-code.js';
import { createSlipwayWorker } from '../worker/create-worker.js';
import { postmasterPid } from './process-usage.js';
import { RESULTS_DIR } from './report.js';

export type BenchServerKind = 'dev' | 'production';
export const BENCH_SERVER_KINDS: readonly BenchServerKind[] = ['dev', 'production'];

export interface BenchTemporal {
  kind: BenchServerKind;
  server: { address: string };
  client: Client;
  bundlePath: string;
  /** The server's own process: the dev server's `temporal` CLI, or `temporal-server`. */
  serverPid(): number;
  /** PostgreSQL's postmaster, under the production server; none for the dev server. */
  databasePid(): number | undefined;
  stop(): Promise<void>;
}

let runtimeInstalled = false;
let bundle: Promise<string> | undefined;

/** Written once per bench run to a file, so workers load it the way the product's worker does (workflowBundlePath). */
function benchBundlePath(): Promise<string> {
  bundle ??= (async () => {
    const code = await buildWorkflowBundle(fileURLToPath(new URL('./workflows.ts', import.meta.url)));
    const path = `${RESULTS_DIR}bench-workflow-bundle.js`;
    writeFileSync(path, code);
    return path;
  })();
  return bundle;
}

/** Starts a server of the given kind; the dev server's output goes to `logFile`, the production server logs in its own folder. */
export async function startBenchTemporal(logFile: string, kind: BenchServerKind = 'dev'): Promise<BenchTemporal> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    runtimeInstalled = true;
  }
  mkdirSync(RESULTS_DIR, { recursive: true });
  const server =
    kind === 'dev'
      ? await startDevServer({ startTimeoutMs: 90_000, logFile }).then((s) => ({ address: s.address, pid: () => s.process.pid!, databaseDir: undefined, stop: () => s.stop() }))
      : await startProductionServer({ startTimeoutMs: 120_000 }).then((s) => ({ address: s.address, pid: () => s.pid(), databaseDir: s.postgres.dataDir, stop: () => s.stop() }));
  try {
    const bundlePath = await benchBundlePath();
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection, namespace: 'default' });
    return {
      kind,
      server: { address: server.address },
      client,
      bundlePath,
      serverPid: server.pid,
      databasePid: () => (server.databaseDir === undefined ? undefined : postmasterPid(server.databaseDir)),
      async stop() {
        await connection.close();
        await server.stop();
      },
    };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

export interface BenchWorker {
  stop(): Promise<void>;
}

/** A worker with the given activities and policy (its slipway.yaml, see policy.ts), as the product's worker runs. */
export async function startBenchWorker(t: BenchTemporal, taskQueue: string, activities: object, policy: PolicyStore, tuning: Partial<WorkerOptions> = {}): Promise<BenchWorker> {
  const connection = await NativeConnection.connect({ address: t.server.address });
  const worker = await createSlipwayWorker({
    connection,
    namespace: 'default',
    taskQueue,
    activities,
    policy,
    workflowBundlePath: t.bundlePath,
    tuning,
  });
  const running = worker.run();
  running.catch((err: unknown) => console.error(`bench worker on ${taskQueue} stopped: ${String(err)}`));
  return {
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
      await connection.close();
    },
  };
}
