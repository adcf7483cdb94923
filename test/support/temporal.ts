/**
 * Connecting a test file to the suite's shared Temporal dev server (started in global-setup.ts),
 * and running a worker with the activities the test hands it on a task queue of its own.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger, type Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { createSlipwayWorker } from '../../worker/create-worker.js';

let runtimeInstalled = false;

function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
  } catch {
    /* already installed in this process */
  }
}

export function temporalAddress(): string {
  const address = inject('temporalAddress');
  if (!address) throw new Error('no Temporal dev server: this test needs one (do not set SLIPWAY_TEST_TEMPORAL=off)');
  return address;
}

export function uniqueTaskQueue(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export async function testClient(): Promise<Client> {
  const connection = await Connection.connect({ address: temporalAddress() });
  return new Client({ connection, namespace: 'default' });
}

export interface RunningWorker {
  worker: Worker;
  taskQueue: string;
  stop(): Promise<void>;
}

/** Starts a worker on its own task queue with the prebuilt workflow bundle and the given activities. */
export async function startTestWorker(activities: object, taskQueue = uniqueTaskQueue('test')): Promise<RunningWorker> {
  quietRuntime();
  const connection = await NativeConnection.connect({ address: temporalAddress() });
  const worker = await createSlipwayWorker({
    connection,
    namespace: 'default',
    taskQueue,
    activities,
    workflowBundlePath: inject('workflowBundlePath'),
  });
  const running = worker.run();
  return {
    worker,
    taskQueue,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await connection.close();
    },
  };
}
