/**
 * Starting and killing worker processes for fault tests: test/support/worker-process.ts acts on a
 * FakeWorld; `script: 'test/support/real-worker-process.ts'` runs the real activities. Each can be
 * SIGKILLed; a test starts a new one to take over.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface WorkerProcessEnv {
  temporalAddress: string;
  taskQueue: string;
  worldDir: string;
  workflowBundle: string;
  /** The worker's policy file. */
  policyFile: string;
  /** More environment (SLIPWAY_WORKER_* for a versioned worker; KUBECONFIG, CLONE_ROOT… for the real one). */
  extra?: Record<string, string>;
  /** The worker program (default: the FakeWorld's). */
  script?: string;
  /** Each line the worker prints (`pushing <commit>` from the real one before a push). */
  onLine?: (line: string) => void;
}

/** Spawns a worker process and resolves once it polls; rejects if it exits first. */
export function startWorkerProcess(env: WorkerProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', env.script ?? 'test/support/worker-process.ts'], {
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
      const text = chunk.toString();
      if (env.onLine) for (const line of text.split('\n').filter(Boolean)) env.onLine(line);
      if (text.includes('ready')) resolve(child);
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
