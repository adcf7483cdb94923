/**
 * Starting and killing worker processes (test/support/worker-process.ts) for fault tests: each
 * acts on a FakeWorld and can be SIGKILLed; a test starts a new one to take over.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface WorkerProcessEnv {
  temporalAddress: string;
  taskQueue: string;
  worldDir: string;
  workflowBundle: string;
  /** The worker's policy file. */
  policyFile: string;
  /** More environment (SLIPWAY_WORKER_* for a versioned worker). */
  extra?: Record<string, string>;
}

/** Spawns a worker process and resolves once it polls; rejects if it exits first. */
export function startWorkerProcess(env: WorkerProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/worker-process.ts'], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: env.temporalAddress,
      TASK_QUEUE: env.taskQueue,
      WORLD_DIR: env.worldDir,
      WORKFLOW_BUNDLE: env.workflowBundle,
      SLIPWAY_CONFIG: env.policyFile,
      ...env.extra,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve(child);
    });
    child.once('exit', (code, signal) => reject(new Error(`worker process exited early with ${signal ?? code}`)));
  });
}

export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** SIGKILL, and wait until the process is gone. */
export function killWorker(child: ChildProcess): Promise<void> {
  if (!isRunning(child)) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
