/** A bench's Temporal: its own dev server, the workflow bundle (real workflows + baseline), and workers on it. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type WorkerOptions } from '@temporalio/worker';
import type { PolicyStore } from '../activities/policy/index.js';
import { startDevServer, type DevServer } from '../infra/temporal/dev-server.js';
import { buildWorkflowBundle } from '../worker/bundle-code.js';
import { createSlipwayWorker } from '../worker/create-worker.js';
import { RESULTS_DIR } from './report.js';

export interface BenchTemporal {
  server: DevServer;
  client: Client;
  bundlePath: string;
  stop(): Promise<void>;
}

export async function startBenchTemporal(logFile: string): Promise<BenchTemporal> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  mkdirSync(RESULTS_DIR, { recursive: true });
  const server = await startDevServer({ startTimeoutMs: 90_000, logFile });
  const code = await buildWorkflowBundle(fileURLToPath(new URL('./workflows.ts', import.meta.url)));
  // Written to a file so workers load it the way the product's worker does (workflowBundlePath).
  const bundlePath = `${RESULTS_DIR}bench-workflow-bundle.js`;
  writeFileSync(bundlePath, code);
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: 'default' });
  return {
    server,
    client,
    bundlePath,
    async stop() {
      await connection.close();
      await server.stop();
    },
  };
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
