/**
 * Bench 6, crash recovery: a worker dies in the middle of an overlay write — committed, about to
 * push — and the time from its SIGKILL until another worker's retry of that write has landed and
 * the workflow is done. With the real gitops activities on a real bare repository, worker A in its
 * own process (bench/crash-worker.ts, whose push never happens) and worker B in this one.
 * Measured for the options the promotion gives its git steps (heartbeat: the kill is noticed
 * within `heartbeatTimeout`) and for the short-step options they had before (no heartbeat: the
 * attempt must run out its whole `stepTimeout`). Target: done within heartbeatTimeout + 2 s.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { WriteOverlayResult } from '../activities/types.js';
import { createGitopsActivities } from '../activities/gitops/index.js';
import { seedGitopsRepo, type SeededRepo } from '../infra/examples/seed-repo.js';
import type { GitStepInput, gitStep } from './git-step-workflow.js';
import { benchCommit, benchPolicyText } from './pipeline.js';
import { BenchPolicy } from './policy.js';
import { percentile, printTable, round, writeResult } from './report.js';
import { startBenchWorker, type BenchTemporal } from './temporal.js';

const RUNS = Number(process.env.SLIPWAY_BENCH_CRASH_RUNS ?? 3);
/** Short enough that a baseline run costs seconds, not the 5-minute default; the ratio is what matters. */
const LIMITS = { stepTimeout: 20_000, heartbeatTimeout: 2_000 };
const OVERLAY = '1.2/overlays/staging';
const IMAGES = ['todoapp/frontend', 'todoapp/backend', 'todoapp/backend-todos', 'todoapp/broadcaster'];
const VARIANTS = [
  { name: 'heartbeat', heartbeat: true, options: `gitStepOptions: heartbeatTimeout ${LIMITS.heartbeatTimeout / 1000} s` },
  { name: 'baseline', heartbeat: false, options: `shortStepOptions: stepTimeout ${LIMITS.stepTimeout / 1000} s, no heartbeat` },
] as const;
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Sample {
  variant: string;
  run: number;
  /** From the workflow's start to A's SIGKILL: how long the first attempt had run when A died. */
  heldMs: number;
  killToLandedMs: number;
  killToDoneMs: number;
  attempt: number;
  /** Why the attempt before the one that landed ended, from the history (HEARTBEAT, START_TO_CLOSE). */
  retriedAfter: string;
  commit: string;
}

export async function benchCrashRecovery(t: BenchTemporal): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-bench-crash-'));
  const repo = await seedGitopsRepo(dir);
  const pushLog = join(dir, 'pushes.log');
  const hook = join(repo.barePath, 'hooks', 'post-receive');
  writeFileSync(hook, `#!/bin/sh\nwhile read old new ref; do echo "$(date +%s%N) $new" >> '${pushLog}'; done\n`);
  chmodSync(hook, 0o755);
  const clones = join(dir, 'clones');
  const policy = new BenchPolicy(benchPolicyText(['todoapp'], repo.bareUrl));

  const samples: Sample[] = [];
  const problems: string[] = [];
  try {
    // Interleaved, so both variants see the same machine over the bench's minutes.
    for (let run = 0; run < RUNS; run++) {
      for (const variant of VARIANTS) {
        try {
          samples.push(await crashOnce(t, { repo, policy, clones, pushLog, run, variant }));
        } catch (err) {
          problems.push(`${variant.name} run ${run}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(join(policy.file, '..'), { recursive: true, force: true });
  }

  const of = (name: string) => samples.filter((s) => s.variant === name);
  const p50Done = (name: string) => percentile(of(name).map((s) => s.killToDoneMs), 50);
  const rows = VARIANTS.map((v) => {
    const mine = of(v.name);
    const done = mine.map((s) => s.killToDoneMs);
    const landed = mine.map((s) => s.killToLandedMs);
    return {
      variant: `${v.name} (${v.options})`,
      runs: mine.length,
      'landed p50 s': round(percentile(landed, 50) / 1000, 2),
      'landed max s': round(Math.max(...landed) / 1000, 2),
      'done p50 s': round(percentile(done, 50) / 1000, 2),
      'done max s': round(Math.max(...done) / 1000, 2),
      'done p50 ÷ heartbeat': round(p50Done(v.name) / p50Done('heartbeat'), 1),
      'retried after': [...new Set(mine.map((s) => s.retriedAfter))].join(', '),
    };
  });
  printTable(
    `crash recovery — SIGKILL of the worker mid-write → retried write landed / workflow done (target: done within heartbeatTimeout + 2 s = ${(LIMITS.heartbeatTimeout + 2000) / 1000} s); ${problems.length} runs unusable`,
    rows,
  );
  for (const s of samples) console.log(`${s.variant} run ${s.run}: one commit ${s.commit.slice(0, 12)} (attempt ${s.attempt}, first attempt held ${round(s.heldMs / 1000, 1)} s before the kill)`);
  if (problems.length) console.log(problems.join('\n'));
  const ratio = p50Done('baseline') / p50Done('heartbeat');
  writeResult('crash-recovery', { runs: RUNS, limits: LIMITS, samples, problems, ratioBaselineToHeartbeat: ratio, target: { doneMs: LIMITS.heartbeatTimeout + 2000 } });
  return { heartbeatP50: p50Done('heartbeat'), baselineP50: p50Done('baseline'), ratio };
}

interface Run {
  repo: SeededRepo;
  policy: BenchPolicy;
  clones: string;
  pushLog: string;
  run: number;
  variant: (typeof VARIANTS)[number];
}

async function crashOnce(t: BenchTemporal, r: Run): Promise<Sample> {
  const taskQueue = `bench-crash-${r.variant.name}-${r.run}-${Date.now()}`;
  const workflowId = `bench-crash/${r.variant.name}/${r.run}/${Date.now()}`;
  const sourceCommit = benchCommit();
  const a = spawnWorkerA(t, taskQueue, r);
  let b: Awaited<ReturnType<typeof startBenchWorker>> | undefined;
  try {
    await a.line('ready', 60_000);
    const input: GitStepInput = {
      write: {
        git: r.repo.git,
        overlay: OVERLAY,
        images: IMAGES.map((name) => ({ name, newTag: sourceCommit.slice(0, 7) })),
        context: { app: 'todoapp', environment: 'staging', releaseId: workflowId, sourceCommit, kind: 'promote' },
      },
      limits: LIMITS,
      heartbeat: r.variant.heartbeat,
    };
    const startedAt = Date.now();
    const handle = await t.client.workflow.start<typeof gitStep>('gitStep', { workflowId, taskQueue, args: [input] });
    await a.line('holding push', 60_000);
    // B polls before A dies, as a second replica would: the retry waits for Temporal, not for a worker.
    b = await startBenchWorker(
      t,
      taskQueue,
      createGitopsActivities({ logger: { info() {}, warn() {} }, clones: { root: r.clones } }),
      r.policy.store,
    );
    const killedAt = Date.now();
    await a.kill();
    const result = await withDeadline(handle.result() as Promise<WriteOverlayResult>, LIMITS.stepTimeout * 3, async () => {
      await handle.terminate('crash bench: no result in time').catch(() => {});
    });
    const doneAt = Date.now();

    const landing = pushes(r.pushLog).find(([, sha]) => sha === result.commit);
    if (!landing) throw new Error(`the workflow answered ${result.commit}, which no push brought to the repository`);
    const commits = execFileSync('git', ['--git-dir', r.repo.barePath, 'log', '--format=%H', '--fixed-strings', `--grep=Slipway-Release: ${workflowId}`, 'main'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    if (commits.length !== 1 || commits[0] !== result.commit) throw new Error(`expected one commit of ${workflowId} on main (${result.commit}), found ${commits.length}: ${commits.join(' ')}`);

    const { attempt, identity, retriedAfter } = await lastAttempt(handle);
    if (identity.startsWith(`${a.pid}@`)) throw new Error(`the landed attempt ran on the killed worker (${identity})`);
    if (attempt < 2) throw new Error(`the write landed on attempt ${attempt}: worker A's attempt was not the one that was retried`);
    return {
      variant: r.variant.name,
      run: r.run,
      heldMs: killedAt - startedAt,
      killToLandedMs: Number(BigInt(landing[0]) / 1_000_000n) - killedAt,
      killToDoneMs: doneAt - killedAt,
      attempt,
      retriedAfter,
      commit: result.commit,
    };
  } finally {
    await a.kill();
    await b?.stop();
  }
}

/** The attempt that completed the write: its number, the worker that ran it, and how the one before it ended. */
async function lastAttempt(handle: { fetchHistory(): Promise<{ events?: Array<Record<string, any>> | null }> }): Promise<{ attempt: number; identity: string; retriedAfter: string }> {
  const events = (await handle.fetchHistory()).events ?? [];
  const started = events.map((e) => e.activityTaskStartedEventAttributes).filter(Boolean).pop();
  if (!started) throw new Error('no activity attempt in the history');
  const timeoutType = started.lastFailure?.timeoutFailureInfo?.timeoutType;
  return {
    attempt: started.attempt ?? 1,
    identity: started.identity ?? '',
    retriedAfter: timeoutType === undefined || timeoutType === null ? (started.lastFailure?.message ?? 'nothing') : TIMEOUT_NAMES[Number(timeoutType)] ?? String(timeoutType),
  };
}

/** temporal.api.enums.v1.TimeoutType */
const TIMEOUT_NAMES: Record<number, string> = { 1: 'START_TO_CLOSE', 2: 'SCHEDULE_TO_START', 3: 'SCHEDULE_TO_CLOSE', 4: 'HEARTBEAT' };

function pushes(log: string): Array<[string, string]> {
  return existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]) : [];
}

interface WorkerA {
  pid: number;
  /** Resolves once the worker has printed `text` (at any time since it started). */
  line(text: string, timeoutMs: number): Promise<void>;
  /** SIGKILL, and wait until the process is gone. */
  kill(): Promise<void>;
}

function spawnWorkerA(t: BenchTemporal, taskQueue: string, r: Run): WorkerA {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./crash-worker.ts', import.meta.url))], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: t.server.address,
      TASK_QUEUE: taskQueue,
      WORKFLOW_BUNDLE: t.bundlePath,
      SLIPWAY_CONFIG: r.policy.file,
      CLONE_ROOT: r.clones,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const seen = new Set<string>();
  const waiting: Array<() => void> = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    seen.add(l.trim());
    for (const wake of waiting.splice(0)) wake();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => {
    gone = true;
    for (const wake of waiting.splice(0)) wake();
  });
  return {
    pid: child.pid!,
    line: (text, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`worker A did not print "${text}" within ${timeoutMs} ms`)), timeoutMs);
        const check = () => {
          if (seen.has(text)) return clearTimeout(timer), resolve();
          if (gone) return clearTimeout(timer), reject(new Error(`worker A exited (${child.signalCode ?? child.exitCode}) before printing "${text}"`));
          waiting.push(check);
        };
        check();
      }),
    async kill() {
      if (!gone) child.kill('SIGKILL');
      await exited;
    },
  };
}

async function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => Promise<void>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void onTimeout();
      reject(new Error(`no result within ${ms} ms of the kill`));
    }, ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
