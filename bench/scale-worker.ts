/**
 * A worker of the scale bench in its own process, so each worker's CPU and memory are its own
 * and two of them share a task queue as two replicas do: the instant activities, nothing else.
 * Env: see worker-entry.ts. Prints `ready` once polling.
 */
import { instantActivities } from './instant-activities.js';
import { runBenchWorkerProcess } from './worker-entry.js';

await runBenchWorkerProcess(instantActivities());
