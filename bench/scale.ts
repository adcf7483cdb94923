/**
 * Bench 2, scale: 200 and 500 concurrent releases of different apps, instant activities, on the
 * dev server and on the production server (PostgreSQL), with one and with two worker processes on
 * one task queue. Per run: releases per minute, p50/p99 release time, failures (target 0),
 * history events per environment promotion (release + environment + promotion workflows over the
 * number of promotions; target < 100), and each process's peak memory and CPU seconds — the bench
 * process (the client), each worker, the Temporal server, PostgreSQL. The CPU shares decide, per
 * server, what the bottleneck was (bottleneck.ts).
 * Env: SLIPWAY_BENCH_SCALE (sizes, default 200,500), SLIPWAY_BENCH_SCALE_SERVERS (dev,production),
 * SLIPWAY_BENCH_SCALE_WORKERS (1,2).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGroupProcess, type GroupProcess } from '../infra/kube/process-group.js';
import { serverBottleneckLine, type CpuFigures, type ScaleRowFigures } from './bottleneck.js';
import { releaseHistory } from './histories.js';
import { benchCommit, benchPipeline, benchPolicyText, startBenchRelease } from './pipeline.js';
import { BenchPolicy } from './policy.js';
import { machineBusySeconds, processProbe, processTreeProbe, type Usage, type UsageProbe } from './process-usage.js';
import { percentile, printTable, round, writeResult } from './report.js';
import { BENCH_SERVER_KINDS, type BenchServerKind, type BenchTemporal } from './temporal.js';

const SCALE_WORKER = fileURLToPath(new URL('./scale-worker.ts', import.meta.url));
const SAMPLE_MS = 1000;

function listFromEnv(name: string, fallback: string): string[] {
  const items = (process.env[name]?.trim() || fallback).split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new Error(`${name}: an empty item in "${process.env[name]}"`);
  return items;
}

function positiveIntegers(name: string, fallback: string): number[] {
  return listFromEnv(name, fallback).map((s) => {
    if (!/^[1-9]\d*$/.test(s)) throw new Error(`${name}: expected positive integers separated by commas, got "${s}"`);
    return Number(s);
  });
}

export interface ScaleSettings {
  sizes: number[];
  servers: BenchServerKind[];
  workers: number[];
}

export function scaleSettings(): ScaleSettings {
  const servers = listFromEnv('SLIPWAY_BENCH_SCALE_SERVERS', BENCH_SERVER_KINDS.join(',')).map((s) => {
    if (!BENCH_SERVER_KINDS.includes(s as BenchServerKind)) throw new Error(`SLIPWAY_BENCH_SCALE_SERVERS: "${s}" is not one of ${BENCH_SERVER_KINDS.join(', ')}`);
    return s as BenchServerKind;
  });
  return { sizes: positiveIntegers('SLIPWAY_BENCH_SCALE', '200,500'), servers, workers: positiveIntegers('SLIPWAY_BENCH_SCALE_WORKERS', '1,2') };
}

interface WorkerProcess {
  pid: number;
  stop(): Promise<void>;
}

/** Starts bench/scale-worker.ts in its own process group and waits for its `ready`. */
async function startScaleWorker(t: BenchTemporal, taskQueue: string, policyFile: string, logFile: string): Promise<WorkerProcess> {
  const group: GroupProcess = startGroupProcess(process.execPath, ['--import', import.meta.resolve('tsx'), SCALE_WORKER], logFile, {
    ...process.env,
    TEMPORAL_ADDRESS: t.server.address,
    TASK_QUEUE: taskQueue,
    WORKFLOW_BUNDLE: t.bundlePath,
    SLIPWAY_CONFIG: policyFile,
  });
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const deadline = Date.now() + 120_000;
  while (!/^ready$/m.test(log())) {
    const why = group.exited() ?? (Date.now() > deadline ? 'not ready within 120 s' : undefined);
    if (why) {
      await group.stop(0);
      throw new Error(`scale worker ${why}:\n${log().slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  // SIGTERM first: the SDK shuts the worker down; the group is killed if that takes longer.
  return { pid: group.pid, stop: () => group.stop(30_000) };
}

interface Outcome {
  ok: boolean;
  ms: number;
  releaseId?: string;
  error?: string;
}

interface RowResult {
  table: Record<string, string | number>;
  figures: ScaleRowFigures;
  raw: Record<string, unknown>;
}

async function scaleRow(t: BenchTemporal, workerCount: number, size: number, maxWorkers: number): Promise<RowResult> {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-bench-scale-'));
  const taskQueue = `bench-scale-${t.kind}-${workerCount}w-${size}-${Date.now()}`;
  const releases = Array.from({ length: size }, (_, i) => {
    const app = `scale-${t.kind}-${workerCount}w${size}-${process.pid}-${i}`;
    return { pipeline: benchPipeline(app), commit: benchCommit() };
  });
  const policy = new BenchPolicy(benchPolicyText(releases.map((r) => r.pipeline.app)));
  const workers: WorkerProcess[] = [];
  let sampler: NodeJS.Timeout | undefined;
  try {
    const starting = await Promise.allSettled(Array.from({ length: workerCount }, (_, i) => startScaleWorker(t, taskQueue, policy.file, join(dir, `worker-${i + 1}.log`))));
    for (const w of starting) if (w.status === 'fulfilled') workers.push(w.value);
    const failed = starting.flatMap((w) => (w.status === 'rejected' ? [String(w.reason)] : []));
    if (failed.length) throw new Error(`${failed.length} of ${workerCount} scale workers did not start:\n${failed.join('\n')}`);

    const databasePid = t.databasePid();
    const probes: Record<string, UsageProbe> = {
      client: processProbe(process.pid),
      server: processProbe(t.serverPid()),
      ...(databasePid === undefined ? {} : { database: processTreeProbe(databasePid) }),
      ...Object.fromEntries(workers.map((w, i) => [`worker${i + 1}`, processProbe(w.pid)])),
    };
    for (const p of Object.values(probes)) p.start();
    const busy0 = machineBusySeconds();
    sampler = setInterval(() => Object.values(probes).forEach((p) => p.sample()), SAMPLE_MS);

    // Every release has a deadline: a stuck run ends as failures, not as a bench that never returns.
    // Generous, as a 2-core machine shared with other work may run a tenth of its usual rate.
    const deadlineMs = (600 + 3 * size) * 1000;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no result within ${deadlineMs / 1000} s`)), deadlineMs);
    });
    deadline.catch(() => undefined);
    const wallStart = performance.now();
    const outcomes: Outcome[] = await Promise.all(
      releases.map(async (r): Promise<Outcome> => {
        const started = performance.now();
        let releaseId: string | undefined;
        try {
          const handle = await Promise.race([startBenchRelease(t.client, taskQueue, r.pipeline.app, r.commit, { version: '1.0.0' }), deadline]);
          releaseId = handle.workflowId;
          const result = await Promise.race([handle.result(), deadline]);
          return { ok: result.outcome === 'released', ms: performance.now() - started, releaseId, error: result.outcome === 'released' ? undefined : `outcome ${result.outcome}` };
        } catch (err) {
          if (releaseId) await t.client.workflow.getHandle(releaseId).terminate('scale bench: past its deadline').catch(() => undefined);
          return { ok: false, ms: performance.now() - started, releaseId, error: String(err) };
        }
      }),
    );
    const wallMs = performance.now() - wallStart;
    clearTimeout(timer);
    clearInterval(sampler);
    const machineBusy = machineBusySeconds() - busy0;
    const usage: Record<string, Usage> = Object.fromEntries(Object.entries(probes).map(([name, p]) => [name, p.finish()]));

    let events = 0;
    let promotions = 0;
    const done = releases.map((r, i) => ({ r, o: outcomes[i]! })).filter(({ o }) => o.ok);
    for (let i = 0; i < done.length; i += 20) {
      for (const h of await Promise.all(done.slice(i, i + 20).map(({ r, o }) => releaseHistory(t.client, r.pipeline, r.commit, o.releaseId!)))) {
        events += h.events;
        promotions += h.promotions;
      }
    }

    const times = outcomes.filter((o) => o.ok).map((o) => o.ms);
    const failures = outcomes.filter((o) => !o.ok);
    const workersS = workers.map((_, i) => usage[`worker${i + 1}`]!.cpuS);
    const ours = Object.values(usage).reduce((sum, u) => sum + u.cpuS, 0);
    const cpu: CpuFigures = {
      wallS: wallMs / 1000,
      cores: availableParallelism(),
      clientS: usage.client!.cpuS,
      workersS,
      serverS: usage.server!.cpuS,
      databaseS: usage.database?.cpuS,
      otherS: Math.max(0, machineBusy - ours),
    };
    const mb = (u: Usage | undefined) => (u ? round(u.peakRssBytes / 2 ** 20) : '–');
    const s = (n: number | undefined) => (n === undefined ? '–' : round(n, 1));
    const perWorker = (f: (i: number) => string | number, prefix: string) =>
      Object.fromEntries(Array.from({ length: maxWorkers }, (_, i) => [`${prefix} w${i + 1}`, i < workerCount ? f(i) : '–']));
    const table: Record<string, string | number> = {
      server: t.kind,
      workers: workerCount,
      releases: size,
      'releases/min': round((size / wallMs) * 60_000),
      'p50 s': round(percentile(times, 50) / 1000, 2),
      'p99 s': round(percentile(times, 99) / 1000, 2),
      'wall s': round(wallMs / 1000, 1),
      failures: failures.length,
      'events/promotion': round(events / promotions),
      'MB client': mb(usage.client),
      ...perWorker((i) => mb(usage[`worker${i + 1}`]), 'MB'),
      'MB server': mb(usage.server),
      'MB pg': mb(usage.database),
      'cpu client': s(cpu.clientS),
      ...perWorker((i) => s(workersS[i]), 'cpu'),
      'cpu server': s(cpu.serverS),
      'cpu pg': s(cpu.databaseS),
      'cpu other': s(cpu.otherS),
    };
    return {
      table,
      figures: { workers: workerCount, releases: size, releasesPerMin: (size / wallMs) * 60_000, cpu },
      raw: { ...table, cpu, usage, timesMs: times, errors: failures.slice(0, 5).map((f) => f.error) },
    };
  } finally {
    clearInterval(sampler);
    await Promise.all(workers.map((w) => w.stop()));
    rmSync(dirname(policy.file), { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the matrix; `temporal(kind)` gives the bench run's one server of that kind, shared by its rows. */
export async function benchScale(temporal: (kind: BenchServerKind) => Promise<BenchTemporal>): Promise<Array<Record<string, string | number>>> {
  const settings = scaleSettings();
  const maxWorkers = Math.max(...settings.workers);
  const rows: RowResult[] = [];
  for (const kind of settings.servers) {
    const t = await temporal(kind);
    for (const size of settings.sizes) {
      for (const workers of settings.workers) {
        const row = await scaleRow(t, workers, size, maxWorkers);
        console.log(`scale: ${kind} server, ${workers} worker${workers === 1 ? '' : 's'}, ${size} releases: ${row.table['releases/min']} releases/min, ${row.table.failures} failures`);
        rows.push(row);
      }
    }
  }
  printTable(
    `scale — concurrent releases of different apps (targets: 0 failures, < 100 events/promotion). MB: each process's peak RSS (pg: peak of its processes' summed Pss); cpu: CPU seconds during the run (other: the rest of the machine); ${availableParallelism()} cores`,
    rows.map((r) => r.table),
  );
  const lines = settings.servers.map((kind) => serverBottleneckLine(kind, rows.filter((r) => r.table.server === kind).map((r) => r.figures)));
  for (const line of lines) console.log(line);
  writeResult('scale', {
    settings,
    runs: rows.map((r) => r.raw),
    bottlenecks: lines,
    note: 'workers run in their own processes; the client is the bench process; pg memory is summed Pss sampled every second, every other peak is VmHWM since the run started',
  });
  return rows.map((r) => r.table);
}
