/**
 * Connecting a test file to the suite's shared Temporal dev server (started in global-setup.ts),
 * running a worker with the activities the test hands it on a task queue of its own, and saving
 * the histories of its runs for the replay suite.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { NativeConnection, Runtime, DefaultLogger, type Worker } from '@temporalio/worker';
import { afterAll, inject } from 'vitest';
import type { PolicyStore } from '../../activities/policy/index.js';
import { createSlipwayWorker } from '../../worker/create-worker.js';
import { suitePolicy } from './policy.js';

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

/**
 * Starts a worker on its own task queue with the prebuilt workflow bundle, the given activities and
 * a policy (by default the suite's, which `pipelineFromYaml` fills).
 */
export async function startTestWorker(activities: object, taskQueue = uniqueTaskQueue('test'), policy: PolicyStore = suitePolicy().store): Promise<RunningWorker> {
  quietRuntime();
  const connection = await NativeConnection.connect({ address: temporalAddress() });
  const worker = await createSlipwayWorker({
    connection,
    namespace: 'default',
    taskQueue,
    activities,
    policy,
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

/**
 * Writes a workflow's history to test-output/histories/<name>.json, the same JSON as
 * `temporal workflow show --output json`; test/histories/ keeps reviewed copies for replay.
 */
export async function saveHistory(client: Client, name: string, workflowId: string): Promise<void> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const dir = join(process.cwd(), 'test-output', 'histories');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), historyToJSON(history));
}

/** Whether a workflow with this id exists (any state). */
export async function workflowExists(client: Client, workflowId: string): Promise<boolean> {
  try {
    await client.workflow.getHandle(workflowId).describe();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/** The workers a test file starts (push them here), all stopped when the file is done. */
export function workersOfThisFile(): RunningWorker[] {
  const workers: RunningWorker[] = [];
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
  });
  return workers;
}
