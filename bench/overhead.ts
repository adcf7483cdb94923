/**
 * Bench 1, engine overhead: a full release (build, staging, tag, production; instant activities)
 * against the baseline workflow running as many no-op activities as the release's workflows ran
 * together (counted from their histories). Both on one worker, in one run, interleaved so they
 * share the machine's conditions. Target: ratio ≤ 1.3.
 */
import { instantActivities } from './instant-activities.js';
import { releaseHistory } from './histories.js';
import { benchCommit, benchPipeline, benchPolicyText, startBenchRelease } from './pipeline.js';
import { BenchPolicy } from './policy.js';
import { mean, percentile, printTable, round, writeResult } from './report.js';
import { startBenchWorker, type BenchTemporal } from './temporal.js';

const ROUNDS = 20;
const WARMUP = 3;

export async function benchOverhead(t: BenchTemporal): Promise<Record<string, unknown>> {
  const taskQueue = 'bench-overhead';
  // A fresh app for each release (its environment workflows start from nothing), all in the policy up front.
  const apps = Array.from({ length: 1 + WARMUP + ROUNDS }, (_, i) => `overhead-${process.pid}-${i}`);
  const policy = new BenchPolicy(benchPolicyText(apps));
  const worker = await startBenchWorker(t, taskQueue, instantActivities(), policy.store);
  let n = 0;
  let baselines = 0;
  async function timedRelease() {
    const app = apps[n++]!;
    const pipeline = benchPipeline(app);
    const commit = benchCommit();
    const started = performance.now();
    const handle = await startBenchRelease(t.client, taskQueue, app, commit, { version: '1.0.0' });
    await handle.result();
    return { ms: performance.now() - started, pipeline, commit, releaseId: handle.workflowId };
  }
  async function timedBaseline(count: number) {
    const started = performance.now();
    await t.client.workflow.execute('baseline', { workflowId: `baseline-${process.pid}-${baselines++}`, taskQueue, args: [count] });
    return performance.now() - started;
  }

  try {
    const first = await timedRelease();
    const history = await releaseHistory(t.client, first.pipeline, first.commit, first.releaseId);
    const activities = history.activities;
    for (let i = 0; i < WARMUP; i++) {
      await timedRelease();
      await timedBaseline(activities);
    }
    const release: number[] = [];
    const base: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      release.push((await timedRelease()).ms);
      base.push(await timedBaseline(activities));
    }
    const ratio = percentile(release, 50) / percentile(base, 50);
    const rows = [
      { workflow: `release (${history.workflows} workflows, ${activities} activities, ${history.events} events)`, p50_ms: round(percentile(release, 50)), mean_ms: round(mean(release)), p99_ms: round(percentile(release, 99)) },
      { workflow: `baseline (1 workflow, ${activities} no-op activities)`, p50_ms: round(percentile(base, 50)), mean_ms: round(mean(base)), p99_ms: round(percentile(base, 99)) },
    ];
    printTable(`engine overhead — ${ROUNDS} rounds, ratio of medians ${round(ratio, 2)} (target ≤ 1.3)`, rows);
    const data = { rounds: ROUNDS, activities, historyEvents: history.events, workflows: history.workflows, releaseMs: release, baselineMs: base, ratio, target: 1.3 };
    writeResult('overhead', data);
    return { ratio: round(ratio, 2), activities };
  } finally {
    await worker.stop();
  }
}
