/**
 * Bench 2, scale: 50, 100 and 200 concurrent releases of different apps on one worker (in this
 * process), instant activities. Releases per minute, p50/p99 release time, the process's peak RSS
 * (worker + client + bench), history events per environment promotion (release + environment +
 * promotion workflows over the number of promotions; target < 150) and failures (target 0).
 */
import { instantActivities } from './instant-activities.js';
import { releaseHistory } from './histories.js';
import { benchCommit, benchPipeline, benchPolicyText, startBenchRelease } from './pipeline.js';
import { BenchPolicy } from './policy.js';
import { percentile, printTable, round, writeResult } from './report.js';
import { startBenchWorker, type BenchTemporal } from './temporal.js';

const SIZES = (process.env.SLIPWAY_BENCH_SCALE ?? '50,100,200').split(',').map(Number);

export async function benchScale(t: BenchTemporal): Promise<Array<Record<string, string | number>>> {
  const rows: Array<Record<string, string | number>> = [];
  const raw: unknown[] = [];
  for (const size of SIZES) {
    const taskQueue = `bench-scale-${size}`;
    const releases = Array.from({ length: size }, (_, i) => {
      const app = `scale${size}-${process.pid}-${i}`;
      return { pipeline: benchPipeline(app), commit: benchCommit() };
    });
    const policy = new BenchPolicy(benchPolicyText(releases.map((r) => r.pipeline.app)));
    const worker = await startBenchWorker(t, taskQueue, instantActivities(), policy.store);
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);
    try {
      const wallStart = performance.now();
      const outcomes = await Promise.all(
        releases.map(async (r) => {
          const started = performance.now();
          try {
            const handle = await startBenchRelease(t.client, taskQueue, r.pipeline.app, r.commit, { version: '1.0.0' });
            const result = await handle.result();
            return { ok: result.outcome === 'released', ms: performance.now() - started, releaseId: handle.workflowId };
          } catch (err) {
            return { ok: false, ms: performance.now() - started, error: String(err) };
          }
        }),
      );
      const wallMs = performance.now() - wallStart;
      clearInterval(sampler);

      let events = 0;
      let promotions = 0;
      for (let i = 0; i < releases.length; i += 20) {
        const chunk = releases.slice(i, i + 20).map((r, j) => ({ r, o: outcomes[i + j]! })).filter(({ o }) => o.ok);
        for (const h of await Promise.all(chunk.map(({ r, o }) => releaseHistory(t.client, r.pipeline, r.commit, o.releaseId!)))) {
          events += h.events;
          promotions += h.promotions;
        }
      }
      const times = outcomes.filter((o) => o.ok).map((o) => o.ms);
      const failures = outcomes.filter((o) => !o.ok);
      const row = {
        releases: size,
        'releases/min': round((size / wallMs) * 60_000),
        'p50 s': round(percentile(times, 50) / 1000, 2),
        'p99 s': round(percentile(times, 99) / 1000, 2),
        'wall s': round(wallMs / 1000, 1),
        'peak rss MB': round(peakRss / 2 ** 20),
        'events/promotion': round(events / promotions),
        failures: failures.length,
      };
      rows.push(row);
      raw.push({ ...row, timesMs: times, errors: failures.slice(0, 5).map((f) => (f as { error?: string }).error) });
    } finally {
      clearInterval(sampler);
      await worker.stop();
    }
  }
  printTable('scale — concurrent releases of different apps on one worker (targets: 0 failures, < 150 events/promotion)', rows);
  writeResult('scale', { runs: raw, note: 'rss is the bench process: worker, client and bench together' });
  return rows;
}
