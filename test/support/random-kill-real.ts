/**
 * The random-kill fault test over the real activities, defined once and run on each Temporal
 * server (test/integration/faults-random-kill-real.test.ts on the suite's dev server,
 * faults-random-kill-production.test.ts on the production server on PostgreSQL). Importing this
 * module registers the test, on the server test/support/scenario-temporal.ts names at that moment.
 *
 * The scenario: a real bare git repository (the TodoApp
 * example, with three apps' overlays), the real Argo CD syncing them into the suite's shared
 * Kubernetes cluster (kwok nodes run the pods), and worker processes running the
 * real gitops, argocd and control activities — two at a time, one SIGKILLed every few seconds
 * (some right after they announce a push, so the kill lands before or in the middle of
 * `git push`) and replaced. About 20 releases of the three apps overlap and supersede each other;
 * four builds are bad (their pods never become Ready — in staging, or in production only — so
 * Argo CD's health assessment says Degraded once their Deployments pass a short progress deadline).
 *
 * Afterwards the test reads what happened from git itself — a post-receive hook logs every branch
 * head (old new), and each Slipway commit's trailers name its release, environment, kind and step —
 * and from Temporal's histories, and checks:
 *  - exactly one promote commit per (release, environment) that ran, and one rollback commit per
 *    failed one; that rollback's health was awaited (a waitForHealthy at the rollback commit
 *    completed after the rollback write, in the promotion's history) and reported (the release's
 *    failure names that commit);
 *  - no environment ends on a build older than the newest release (by start time, as environments
 *    order releases) that completed there;
 *  - staging and production hold what the releases' results say;
 *  - no force push: every observed branch head descends from the one before, in one chain;
 *  - no release, promotion or environment request left open;
 *  - no temporary clone left behind.
 * The schedule and kill points come from a seeded PRNG; the seed is printed (rerun with
 * SLIPWAY_FAULT_SEED=<seed>).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Client, Connection, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter, type ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import type { ArgoApplication } from '../../activities/argocd/index.js';
import { parseConfig } from '../../config/schema.js';
import { environmentWorkflowId, releaseWorkflowId } from '../../core/ids.js';
import { createApplications } from '../../infra/demo/applications.js';
import { seedGitopsRepo, type SeededRepo } from '../../infra/examples/seed-repo.js';
import { environmentStateQuery, releaseStatusQuery } from '../../workflows/messages.js';
import type { release } from '../../workflows/release.js';
import type { PromotionOutcome, PromotionWorkflowInput, ReleasePipeline, ReleaseResult, ReleaseStatus } from '../../workflows/types.js';
import { commitSha, startRelease, uniqueApp } from './pipelines.js';
import { deleteApplications, sharedCluster, unreadyBuild } from './cluster.js';
import { TestPolicy } from './policy.js';
import { seededRandom } from './seeded-random.js';
import { scenarioTemporal } from './scenario-temporal.js';
import { uniqueTaskQueue } from './temporal.js';
import { isRunning, killWorker } from './worker-processes.js';

const IMAGES = ['todoapp/frontend', 'todoapp/backend', 'todoapp/backend-todos', 'todoapp/broadcaster'];
const ENVIRONMENTS = ['staging', 'production'] as const;
type Env = (typeof ENVIRONMENTS)[number];
/** Releases per app: 20 in all. */
const RELEASES_PER_APP = [7, 7, 6];
/** Bad builds: Degraded in the environment named. */
const BAD: Env[] = ['staging', 'staging', 'production', 'production'];
/** Workers are killed until every release is done or this long after the first release started. */
const KILL_WINDOW_MS = 150_000;
/** Every release must be done this long after the first one started. */
const RELEASES_DEADLINE_MS = 210_000;
/** A bad build's Deployments are Degraded this long after they stop making progress. */
const PROGRESS_DEADLINE_S = 5;
/** How long the bare repository's pre-receive hook holds each push, so a kill can land inside one. */
const PUSH_HOLD_S = 0.25;
/** A worker waits up to this long between announcing a push and starting it. */
const PUSH_PAUSE_MS = 120;

const overlayOf = (app: string, env: Env) => `1.2/${app}/${env}`;

/** Which Temporal the scenario runs on (set by the test file before it imports this module). */
const { label: scenarioLabel, address: scenarioAddress } = scenarioTemporal();

const apps = RELEASES_PER_APP.map(() => uniqueApp('rk'));
const random = seededRandom();
const taskQueue = uniqueTaskQueue('faults-kill-real');

let dir: string;
let repo: SeededRepo;
const cluster = sharedCluster();
let client: Client;
let policy: TestPolicy;
let pushLog: string;
let cloneRoot: string;
let mirrorDir: string;
/** This run's own copy of the suite's workflow bundle (see copyBundle). */
let bundleCopy: string;
/** The branch head once the apps' overlays are in: where the observed chain of heads starts. */
let firstHead: string;
const live: RealWorker[] = [];
const everyWorker: RealWorker[] = [];

// ------------------------------------------------------------------ git, read straight from the bare repository

function git(...args: string[]): string {
  return execFileSync('git', ['--git-dir', repo.barePath, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).trim();
}

function isAncestor(ancestor: string, descendant: string): boolean {
  try {
    execFileSync('git', ['--git-dir', repo.barePath, 'merge-base', '--is-ancestor', ancestor, descendant], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The overlay's image tags at a commit, in the file's order. */
function tagsAt(rev: string, overlay: string): string[] {
  const doc = parse(git('show', `${rev}:${overlay}/kustomization.yaml`)) as { images: Array<{ name: string; newTag: string }> };
  return doc.images.map((i) => `${i.name}:${i.newTag}`);
}

const tagsOf = (commit: string) => IMAGES.map((name) => `${name}:${commit}`);

interface SlipwayCommit {
  sha: string;
  parent: string;
  subject: string;
  release: string;
  environment: string;
  kind: string;
  step?: string;
}

/** Every Slipway commit on main, oldest first, with its trailers. */
function slipwayCommits(): SlipwayCommit[] {
  const out = git('log', '--reverse', '--format=%x1e%H%x1f%P%x1f%s%x1f%B', 'main');
  const commits: SlipwayCommit[] = [];
  for (const record of out.split('\x1e')) {
    const [sha, parents, subject, body] = record.split('\x1f');
    if (!sha?.trim() || body === undefined) continue;
    const trailer = (key: string) => new RegExp(`^${key}: (.*)$`, 'm').exec(body)?.[1]?.trim();
    const release = trailer('Slipway-Release');
    if (!release) continue;
    commits.push({
      sha: sha.trim(),
      parent: parents!.split(' ')[0]!,
      subject: subject!,
      release,
      environment: trailer('Slipway-Environment') ?? '',
      kind: (trailer('Slipway-Kind') ?? '').split(' ')[0]!,
      step: trailer('Slipway-Step'),
    });
  }
  return commits;
}

interface HeadUpdate {
  at: number;
  old: string;
  new: string;
}

/** What the post-receive hook saw: every update of main, with the time it landed. */
function headUpdates(): HeadUpdate[] {
  if (!existsSync(pushLog)) return [];
  return readFileSync(pushLog, 'utf8')
    .split('\n')
    .filter((l) => l.endsWith(' refs/heads/main'))
    .map((l) => {
      const [at, old, updated] = l.split(' ');
      return { at: Number(at), old: old!, new: updated! };
    });
}

// ------------------------------------------------------------------ worker processes

interface RealWorker {
  child: ChildProcess;
  pid: number;
  name: string;
}

interface PushSeen {
  worker: RealWorker;
  commit: string;
  at: number;
}

const pushWaiters = new Set<(push: PushSeen) => void>();
let workerCount = 0;
let sweptFolders = 0;

/** Spawns a worker with the real activities; resolves once it polls, rejects if it exits first. */
function startRealWorker(): Promise<RealWorker> {
  const name = `w${++workerCount}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/real-worker-process.ts'], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: scenarioAddress(),
      TASK_QUEUE: taskQueue,
      WORKFLOW_BUNDLE: bundleCopy,
      SLIPWAY_CONFIG: policy.file,
      KUBECONFIG: cluster.kubeconfigPath,
      CLONE_ROOT: cloneRoot,
      MIRROR_DIR: mirrorDir,
      PUSH_PAUSE_MS: String(PUSH_PAUSE_MS),
      PUSH_SEED: String(random.seed + workerCount),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const worker: RealWorker = { child, pid: child.pid!, name };
  everyWorker.push(worker);
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line === 'ready') resolve(worker);
      else if (line.startsWith('swept ')) sweptFolders += Number(line.slice('swept '.length));
      else if (line.startsWith('pushing ')) {
        const push = { worker, commit: line.slice('pushing '.length).trim(), at: Date.now() };
        for (const wake of [...pushWaiters]) wake(push);
      }
    });
    child.once('exit', (code, signal) => reject(new Error(`worker ${name} exited before it was ready (${signal ?? code})`)));
  });
}

/** The next push a live worker announces, or undefined after `timeoutMs`. */
function nextPush(timeoutMs: number): Promise<PushSeen | undefined> {
  return new Promise((resolve) => {
    const done = (push: PushSeen | undefined) => {
      clearTimeout(timer);
      pushWaiters.delete(wake);
      resolve(push);
    };
    const wake = (push: PushSeen) => {
      if (live.includes(push.worker) && isRunning(push.worker.child)) done(push);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    pushWaiters.add(wake);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ the world

/** The policy the workers own: three apps, staging (a short soak) then production, no build step, no tag. */
function policyText(): string {
  const appYaml = (app: string) => `  ${app}:
    images: [${IMAGES.join(', ')}]
    build: none
    environments:
      - name: staging
        overlay: ${overlayOf(app, 'staging')}
        argocd: { application: ${app}-staging, namespace: argocd, timeout: 60s }
        checks: [ { soak: 1s } ]
      - name: production
        overlay: ${overlayOf(app, 'production')}
        argocd: { application: ${app}-production, namespace: argocd, timeout: 60s }
`;
  return `gitops: { url: "${repo.bareUrl}", branch: main, author: { name: Slipway, email: slipway@example.com } }
engine: { heartbeatTimeout: 4s, stepTimeout: 20s }
apps:
${apps.map(appYaml).join('')}`;
}

function applicationOf(app: string, env: Env): ArgoApplication {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: `${app}-${env}`, namespace: 'argocd' },
    spec: {
      project: 'default',
      source: { repoURL: repo.bareUrl, targetRevision: 'main', path: overlayOf(app, env) },
      destination: { server: 'https://kubernetes.default.svc', namespace: namespaceOf(app, env) },
      syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ['CreateNamespace=true'] },
    },
  };
}

/** Each app's namespace per environment on the shared cluster (ends in the environment: production-only bad builds key on it). */
const namespaceOf = (app: string, env: Env) => `${app}-${env}`;

/** Adds each app's overlays (copies of the example's, over its shared base, deploying to the app's own namespaces) to main in one commit. */
function addAppOverlays(): void {
  const work = join(dir, 'seed-work');
  execFileSync('git', ['clone', '--quiet', repo.barePath, work]);
  for (const app of apps) {
    for (const env of ENVIRONMENTS) {
      cpSync(join(work, '1.2', 'overlays', env), join(work, overlayOf(app, env)), { recursive: true });
      const file = join(work, overlayOf(app, env), 'kustomization.yaml');
      writeFileSync(file, readFileSync(file, 'utf8').replace(/^namespace: .*$/m, `namespace: ${namespaceOf(app, env)}`));
    }
  }
  const author = ['-c', 'user.name=TodoApp Team', '-c', 'user.email=team@todoapp.example', '-c', 'commit.gpgsign=false'];
  execFileSync('git', [...author, 'add', '--all'], { cwd: work });
  execFileSync('git', [...author, 'commit', '--quiet', '-m', `overlays for ${apps.join(', ')}`], { cwd: work });
  execFileSync('git', ['push', '--quiet', 'origin', 'HEAD:main'], { cwd: work });
  rmSync(work, { recursive: true, force: true });
}

/** A post-receive hook logging every head update with the time it landed; a pre-receive hook that holds each push a moment. */
function installHooks(): void {
  const hooks = join(repo.barePath, 'hooks');
  writeFileSync(join(hooks, 'pre-receive'), `#!/bin/sh\ncat >/dev/null\nsleep ${PUSH_HOLD_S}\n`, { mode: 0o755 });
  writeFileSync(
    join(hooks, 'post-receive'),
    `#!/bin/sh\nwhile read old new ref; do echo "$(date +%s%3N) $old $new $ref" >> '${pushLog}'; done\n`,
    { mode: 0o755 },
  );
}

/**
 * Replacement workers start throughout the run, and another test run in this tree rewrites the
 * suite's bundle at its start: each worker loads a copy taken once, when two reads agree.
 */
async function copyBundle(): Promise<string> {
  const source = inject('workflowBundlePath');
  for (let tries = 0; ; tries++) {
    const first = readFileSync(source);
    await sleep(300);
    const second = readFileSync(source);
    if (first.equals(second) || tries >= 20) {
      const copy = join(dir, 'workflow-bundle.js');
      writeFileSync(copy, second);
      return copy;
    }
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'slipway-kill-real-'));
  bundleCopy = await copyBundle();
  pushLog = join(dir, 'pushes.log');
  cloneRoot = join(dir, 'clones');
  mirrorDir = join(dir, 'mirrors');
  mkdirSync(cloneRoot);
  repo = await seedGitopsRepo(dir, { deployment: { progressDeadlineSeconds: PROGRESS_DEADLINE_S } });
  addAppOverlays();
  installHooks();
  firstHead = git('rev-parse', 'main');

  console.log(`random kills against the real ${cluster.describe}, on ${scenarioLabel}`);
  await createApplications(cluster.kubeConfig, apps.flatMap((app) => ENVIRONMENTS.map((env) => applicationOf(app, env))));
  policy = TestPolicy.fromText(policyText());
  client = new Client({ connection: await Connection.connect({ address: scenarioAddress() }), namespace: 'default' });
});

afterAll(async () => {
  for (const w of everyWorker) await killWorker(w.child);
  if (client) {
    // Nothing of this run keeps going on the shared server: its releases, and its environments' owners.
    const ids = [...planned.map((p) => releaseWorkflowId(p.app, p.commit)), ...apps.flatMap((a) => ENVIRONMENTS.map((e) => environmentWorkflowId(a, e)))];
    for (const id of ids) await client.workflow.getHandle(id).terminate('faults-random-kill-real: test over').catch(() => undefined);
  }
  await deleteApplications(cluster.kubeConfig, apps.flatMap((app) => ENVIRONMENTS.map((env) => `${app}-${env}`)));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ------------------------------------------------------------------ the schedule

interface Planned {
  app: string;
  commit: string;
  version: string;
  /** When to start it, after the first release. */
  atMs: number;
  bad?: Env;
}

const planned: Planned[] = plan();

/**
 * Each app gets its releases in bursts of one to three, a few hundred ms apart (so the newer ones
 * replace the older ones waiting), the bursts a few seconds apart. A bad build is the last of its
 * burst, with a longer pause after it, so that it runs rather than being replaced.
 */
function plan(): Planned[] {
  const bursts: Planned[][] = [];
  apps.forEach((app, a) => {
    let at = random.between(0, 2_000);
    let made = 0;
    while (made < RELEASES_PER_APP[a]!) {
      const size = Math.min(random.between(1, 3), RELEASES_PER_APP[a]! - made);
      const burst: Planned[] = [];
      for (let i = 0; i < size; i++, made++) {
        burst.push({ app, commit: commitSha(), version: `${a + 1}.${made}.0`, atMs: at });
        at += random.between(100, 500);
      }
      bursts.push(burst);
      at += random.between(6_000, 12_000);
    }
  });
  // The bad builds: the last releases of four bursts picked at random.
  const lasts = bursts.map((b) => b.at(-1)!);
  for (let i = lasts.length - 1; i > 0; i--) {
    const j = random.between(0, i);
    [lasts[i], lasts[j]] = [lasts[j]!, lasts[i]!];
  }
  BAD.forEach((env, i) => {
    const p = lasts[i]!;
    p.bad = env;
    // Never Ready anywhere (so staging fails), or only in namespaces ending in "production".
    p.commit = unreadyBuild(env === 'staging' ? 'anywhere' : 'production');
    // Room to run before the app's next burst comes.
    for (const later of bursts.flat()) if (later.app === p.app && later.atMs > p.atMs) later.atMs += 8_000;
  });
  return bursts.flat().sort((x, y) => x.atMs - y.atMs);
}

// ------------------------------------------------------------------ what Temporal recorded

/** How a release that failed at an environment names it: the environment's answer. */
type FailedReply = Extract<PromotionOutcome, { outcome: 'failed' }> & { requestId: string; environment: string };

interface ReleaseSeen {
  p: Planned;
  releaseId: string;
  startedAt: number;
  open: boolean;
  result?: ReleaseResult;
  failure?: { type?: string; message: string; reply?: FailedReply };
  status?: ReleaseStatus;
}

function phaseOf(r: ReleaseSeen, env: Env): string {
  return r.status?.environments.find((e) => e.environment === env)?.phase ?? 'unknown';
}

interface PromotionSeen {
  workflowId: string;
  open: boolean;
  releaseId: string;
  environment: string;
  requestId: string;
  retried: string[];
  /** The rollback write's commit, and whether a waitForHealthy at it completed after that write. */
  rollback?: { commit: string; changed: boolean; healthAwaited: boolean };
}

const decode = (payloads: { payloads?: unknown[] | null } | null | undefined): any =>
  payloads?.payloads?.[0] ? defaultPayloadConverter.fromPayload(payloads.payloads[0] as never) : undefined;

type HistoryEvents = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>;

/** Activities that needed more than one attempt, with why the one before failed (a kill shows as a timeout). */
function retriedActivities(events: HistoryEvents): string[] {
  const types = new Map<string, string>();
  const retried: string[] = [];
  for (const e of events) {
    if (e.activityTaskScheduledEventAttributes) types.set(String(e.eventId), e.activityTaskScheduledEventAttributes.activityType?.name ?? '?');
    const started = e.activityTaskStartedEventAttributes;
    if (started && (started.attempt ?? 1) > 1) {
      const why = started.lastFailure?.timeoutFailureInfo ? `${timeoutName(started.lastFailure.timeoutFailureInfo.timeoutType)} timeout` : 'failure';
      retried.push(`${types.get(String(started.scheduledEventId))} after a ${why}`);
    }
  }
  return retried;
}

function timeoutName(type: unknown): string {
  return ({ 1: 'start-to-close', 2: 'schedule-to-start', 3: 'schedule-to-close', 4: 'heartbeat' } as Record<string, string>)[String(type)] ?? String(type);
}

async function promotionSeen(workflowId: string, runId: string, open: boolean): Promise<PromotionSeen> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const events = history.events ?? [];
  const input = decode(events[0]?.workflowExecutionStartedEventAttributes?.input) as PromotionWorkflowInput;
  const scheduled = new Map<string, { type: string; input: any }>();
  const completed: Array<{ eventId: number; type: string; input: any; result: any }> = [];
  for (const e of events) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(String(e.eventId), { type: s.activityType?.name ?? '', input: decode(s.input) });
    const c = e.activityTaskCompletedEventAttributes;
    if (c) {
      const of = scheduled.get(String(c.scheduledEventId))!;
      completed.push({ eventId: Number(e.eventId), ...of, result: decode(c.result) });
    }
  }
  const seen: PromotionSeen = {
    workflowId,
    open,
    releaseId: input.request.replyTo,
    environment: input.request.environment.name,
    requestId: input.request.requestId,
    retried: retriedActivities(events),
  };
  const write = completed.find((c) => c.type === 'writeOverlayImages' && c.input.context?.kind === 'rollback');
  if (write) {
    const commit = write.result.commit as string;
    const healthAwaited = completed.some((c) => c.eventId > write.eventId && c.type === 'waitForHealthy' && c.input.commit === commit);
    seen.rollback = { commit, changed: Boolean(write.result.changed), healthAwaited };
  }
  return seen;
}

async function listPromotions(expected: number): Promise<Array<{ workflowId: string; runId: string; open: boolean }>> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const found: Array<{ workflowId: string; runId: string; open: boolean }> = [];
    for await (const w of client.workflow.list({ query: `WorkflowType = 'promotion' AND TaskQueue = '${taskQueue}'` })) {
      found.push({ workflowId: w.workflowId, runId: w.runId, open: w.status.name === 'RUNNING' });
    }
    if (found.length >= expected || Date.now() > deadline) return found;
    await sleep(500);
  }
}

// ------------------------------------------------------------------ the test

it(`20 overlapping releases over real git and the real Argo CD on ${scenarioLabel}, workers SIGKILLed at random and mid-push: once, in order, never forced, nothing left`, async () => {
  console.log(`faults-random-kill-real: seed ${random.seed} (rerun with SLIPWAY_FAULT_SEED=${random.seed}); apps ${apps.join(', ')}`);
  const testStarted = Date.now();
  live.push(...(await Promise.all([startRealWorker(), startRealWorker()])));

  // ---- the releases, on their schedule
  const pipelineOf = (app: string): ReleasePipeline => {
    const config = parseConfig(policyText(), 'faults-random-kill-real slipway.yaml');
    return { app, appConfig: config.apps[app]!, git: config.gitops, engine: config.engine };
  };
  const handles = new Map<Planned, WorkflowHandle<typeof release>>();
  const settled = new Map<Planned, { result?: ReleaseResult; error?: unknown }>();
  const t0 = Date.now();
  const runs = planned.map(async (p) => {
    await sleep(p.atMs);
    const handle = await startRelease(client, taskQueue, pipelineOf(p.app), p.commit, { version: p.version });
    handles.set(p, handle);
    settled.set(p, await handle.result().then((result) => ({ result }), (error: unknown) => ({ error })));
  });
  let allDone = false;
  const finished = Promise.all(runs).then(() => {
    allDone = true;
  });

  // ---- the kills: one every few seconds, most of them right at an announced push
  const kills: Array<{ at: number; worker: string; atPush?: string; killedAt: number }> = [];
  const startups: number[] = [];
  while (!allDone && Date.now() - t0 < KILL_WINDOW_MS) {
    await sleep(random.between(300, 1_500));
    if (allDone) break;
    let victim = live[random.between(0, live.length - 1)]!;
    let atPush: string | undefined;
    if (random.next() < 0.6) {
      const push = await nextPush(6_000);
      if (allDone) break;
      if (push) {
        await sleep(random.between(0, 300));
        victim = push.worker;
        atPush = push.commit;
      }
    }
    const killedAt = Date.now();
    await killWorker(victim.child);
    kills.push({ at: killedAt - t0, worker: victim.name, killedAt, ...(atPush ? { atPush } : {}) });
    live.splice(live.indexOf(victim), 1);
    live.push(await startRealWorker());
    startups.push(Date.now() - killedAt);
  }
  await Promise.race([finished, sleep(Math.max(0, RELEASES_DEADLINE_MS - (Date.now() - t0)))]);
  const releasesTook = Date.now() - t0;

  // ---- what the kills hit: a push that landed after its worker died was killed in mid-push
  const updates = headUpdates();
  const landedAt = new Map(updates.map((u) => [u.new, u.at]));
  const atPushKills = kills.filter((k) => k.atPush);
  const midPush = atPushKills.filter((k) => (landedAt.get(k.atPush!) ?? 0) > k.killedAt);
  const beforePush = atPushKills.filter((k) => !landedAt.has(k.atPush!));
  console.log(
    `faults-random-kill-real: ${kills.length} kills (${atPushKills.length} at an announced push: ${midPush.length} in mid-push — the commit landed after the worker died —, ` +
      `${beforePush.length} whose commit never landed (killed before its push, or the push lost a race), ${atPushKills.length - midPush.length - beforePush.length} just after it landed); ` +
      `${sweptFolders} clone folder(s) of dead workers swept at start-up; a replacement took ${Math.round(startups.reduce((a, b) => a + b, 0) / Math.max(1, startups.length))} ms on average to be ready; releases took ${Math.round(releasesTook / 1000)} s`,
  );
  console.log(`faults-random-kill-real: kills ${kills.map((k) => `+${(k.at / 1000).toFixed(1)}s ${k.worker}${k.atPush ? ` at push ${k.atPush.slice(0, 7)}` : ''}`).join('; ')}`);

  // ---- the releases as Temporal has them
  const seen: ReleaseSeen[] = [];
  for (const p of planned) {
    const releaseId = releaseWorkflowId(p.app, p.commit);
    const handle = handles.get(p) ?? client.workflow.getHandle<typeof release>(releaseId);
    const description = await handle.describe().catch(() => undefined);
    const r: ReleaseSeen = { p, releaseId, startedAt: description?.startTime.getTime() ?? Number.NaN, open: description?.status.name !== 'COMPLETED' && description?.status.name !== 'FAILED' };
    const s = settled.get(p);
    if (s?.result) r.result = s.result;
    if (s?.error) {
      const cause = (s.error instanceof WorkflowFailedError ? s.error.cause : s.error) as ApplicationFailure | undefined;
      r.failure = { type: cause?.type ?? undefined, message: cause?.message ?? String(s.error), reply: cause?.details?.[0] as FailedReply | undefined };
    }
    if (!r.open) r.status = await handle.query(releaseStatusQuery).catch(() => undefined);
    seen.push(r);
  }
  const tally = new Map<string, number>();
  for (const r of seen) {
    const key = r.open ? 'open' : r.result?.outcome ?? `failed in ${r.failure?.reply?.environment ?? '?'}`;
    tally.set(key, (tally.get(key) ?? 0) + 1);
  }
  console.log(`faults-random-kill-real: outcomes ${[...tally].map(([k, n]) => `${k} ×${n}`).join(', ')}`);
  console.log(
    `faults-random-kill-real: releases by start\n${[...seen]
      .sort((a, b) => a.startedAt - b.startedAt)
      .map((r) => `  +${((r.startedAt - t0) / 1000).toFixed(1)}s ${r.p.app} ${r.p.version}${r.p.bad ? ` (bad in ${r.p.bad})` : ''}: ${ENVIRONMENTS.map((e) => `${e} ${phaseOf(r, e)}`).join(', ')}`)
      .join('\n')}`,
  );

  // ---- no release left open, and each ended as a release ends
  expect.soft(seen.filter((r) => r.open).map((r) => `${r.releaseId} (${r.p.version})`), 'releases left open').toEqual([]);
  expect.soft(
    seen.filter((r) => !r.open && !r.result && r.failure?.type !== 'ReleaseFailed').map((r) => `${r.releaseId}: ${r.failure?.type} ${r.failure?.message}`),
    'releases that ended other than released, superseded or failed at an environment',
  ).toEqual([]);

  // ---- the results are the ones the builds deserve: a good build never fails, a bad one never passes where it is bad
  const wrongResults: string[] = [];
  for (const r of seen.filter((x) => x.status)) {
    for (const env of ENVIRONMENTS) {
      const phase = phaseOf(r, env);
      if (phase === 'failed' && r.p.bad !== env) wrongResults.push(`${r.releaseId} (${r.p.version}, ${r.p.bad ? `bad in ${r.p.bad}` : 'good'}) failed in ${env}: ${r.failure?.message}`);
      if (phase === 'promoted' && r.p.bad === env) wrongResults.push(`${r.releaseId} (${r.p.version}, bad in ${env}) was promoted in ${env}`);
    }
    if (phaseOf(r, 'production') === 'promoted' && phaseOf(r, 'staging') !== 'promoted') wrongResults.push(`${r.releaseId} reached production without passing staging`);
    if (r.failure?.reply && (r.failure.reply.failureType !== 'ApplicationDegraded' || !r.failure.reply.rolledBack)) {
      wrongResults.push(`${r.releaseId} failed in ${r.failure.reply.environment} as ${r.failure.reply.failureType} (rolled back: ${r.failure.reply.rolledBack}): ${r.failure.message}`);
    }
  }
  expect.soft(wrongResults, 'releases whose results are not what their builds deserve').toEqual([]);
  const failedEnvs = seen.filter((r) => r.failure?.reply).length;
  expect.soft(failedEnvs, 'bad builds that ran and were rolled back (some must, or rollbacks went untested)').toBeGreaterThanOrEqual(1);

  // ---- git: one promote commit per (release, environment) that ran, one rollback per failed one, each where the results say
  const commits = slipwayCommits();
  const byRelease = new Set(seen.map((r) => r.releaseId));
  expect.soft(commits.filter((c) => !byRelease.has(c.release)).map((c) => `${c.sha} ${c.subject}`), 'Slipway commits of no release of this run').toEqual([]);
  const promotions = await listPromotions(seen.reduce((n, r) => n + ENVIRONMENTS.filter((e) => ['promoted', 'failed'].includes(phaseOf(r, e))).length, 0));
  const promotionsSeen = await Promise.all(promotions.map((p) => promotionSeen(p.workflowId, p.runId, p.open)));
  expect.soft(promotionsSeen.filter((p) => p.open).map((p) => p.workflowId), 'promotions left open').toEqual([]);
  const retried = [...promotionsSeen.flatMap((p) => p.retried)];
  for (const r of seen) retried.push(...retriedActivities((await client.workflow.getHandle(r.releaseId).fetchHistory()).events ?? []));
  const retryTally = new Map<string, number>();
  for (const what of retried) retryTally.set(what, (retryTally.get(what) ?? 0) + 1);
  console.log(`faults-random-kill-real: activities retried in releases and promotions: ${[...retryTally].map(([k, n]) => `${k} ×${n}`).join(', ') || 'none'}`);

  const commitProblems: string[] = [];
  const healthProblems: string[] = [];
  for (const r of seen.filter((x) => x.status)) {
    for (const env of ENVIRONMENTS) {
      const phase = phaseOf(r, env);
      const overlay = overlayOf(r.p.app, env);
      const mine = commits.filter((c) => c.release === r.releaseId && c.environment === env);
      const promotes = mine.filter((c) => c.kind === 'promote');
      const rollbacks = mine.filter((c) => c.kind === 'rollback');
      const children = promotionsSeen.filter((p) => p.releaseId === r.releaseId && p.environment === env);
      const where = `${r.releaseId} (${r.p.version}) in ${env} [${phase}]`;
      const list = (cs: SlipwayCommit[]) => cs.map((c) => `${c.sha.slice(0, 7)} "${c.subject}" ${c.step ?? ''}`).join(', ') || 'none';
      const ran = phase === 'promoted' || phase === 'failed';
      if (promotes.length !== (ran ? 1 : 0)) commitProblems.push(`${where}: ${promotes.length} promote commits, expected ${ran ? 1 : 0}: ${list(promotes)}`);
      if (rollbacks.length !== (phase === 'failed' ? 1 : 0)) commitProblems.push(`${where}: ${rollbacks.length} rollback commits, expected ${phase === 'failed' ? 1 : 0}: ${list(rollbacks)}`);
      if (children.length !== (ran ? 1 : 0)) commitProblems.push(`${where}: ${children.length} promotion workflows (${children.map((c) => c.workflowId).join(', ')}), expected ${ran ? 1 : 0}`);
      const promote = promotes[0];
      if (ran && promote && tagsAt(promote.sha, overlay).join() !== tagsOf(r.p.commit).join()) {
        commitProblems.push(`${where}: its promote commit ${promote.sha.slice(0, 7)} holds ${tagsAt(promote.sha, overlay).join(', ')}, not the release's images`);
      }
      // What the release says it deployed there: its result, or (for one that failed further on) its step's record.
      const reported = r.result?.environments[env]?.gitopsCommit ?? r.status?.steps.find((step) => step.name === env && step.state === 'done')?.detail;
      if (phase === 'promoted' && promote && reported !== promote.sha) {
        commitProblems.push(`${where}: the release reports ${reported ?? 'no commit'} as its commit there, git has ${promote.sha}`);
      }
      if (phase !== 'failed' || !promote) continue;
      const rollback = rollbacks[0];
      const reportedRollback = r.failure?.reply?.environment === env ? r.failure.reply.rollbackCommit : undefined;
      if (!rollback) continue;
      if (tagsAt(rollback.sha, overlay).join() !== tagsAt(promote.parent, overlay).join()) {
        commitProblems.push(`${where}: rollback ${rollback.sha.slice(0, 7)} holds ${tagsAt(rollback.sha, overlay).join(', ')}; before the promotion it held ${tagsAt(promote.parent, overlay).join(', ')}`);
      }
      if (reportedRollback !== rollback.sha) healthProblems.push(`${where}: the release reports the rollback at ${reportedRollback ?? 'no commit'}, git has it at ${rollback.sha}`);
      const child = children[0];
      if (child && child.rollback?.commit !== rollback.sha) healthProblems.push(`${where}: ${child.workflowId}'s rollback write answered ${child.rollback?.commit ?? 'nothing'}, git has ${rollback.sha}`);
      else if (child?.rollback && !child.rollback.healthAwaited) {
        healthProblems.push(`${where}: ${child.workflowId} never completed a waitForHealthy at its rollback commit ${rollback.sha.slice(0, 7)} after writing it (write answered changed: ${child.rollback.changed})`);
      }
    }
  }
  expect.soft(commitProblems, 'promote and rollback commits per (release, environment)').toEqual([]);
  expect.soft(healthProblems, 'rollbacks whose health was not awaited or not reported').toEqual([]);

  // ---- never backwards: each environment ends on the newest release (by start time) that completed there
  const initial = (env: Env) => tagsAt(firstHead, overlayOf(apps[0]!, env));
  const backwards: string[] = [];
  for (const app of apps) {
    for (const env of ENVIRONMENTS) {
      const completed = seen.filter((r) => r.p.app === app && phaseOf(r, env) === 'promoted').sort((a, b) => a.startedAt - b.startedAt);
      const newest = completed.at(-1);
      const expected = newest ? tagsOf(newest.p.commit) : initial(env);
      const actual = tagsAt('main', overlayOf(app, env));
      if (actual.join() === expected.join()) continue;
      const holder = seen.find((r) => r.p.app === app && actual.join() === tagsOf(r.p.commit).join());
      backwards.push(
        `${app}/${env} ends on ${holder ? `${holder.p.version} (${holder.releaseId}, started +${holder.startedAt - t0} ms, ${phaseOf(holder, env)} there)` : actual.join(', ')}; ` +
          `the newest release that completed there is ${newest ? `${newest.p.version} (${newest.releaseId}, started +${newest.startedAt - t0} ms)` : 'none (the initial images)'}`,
      );
    }
  }
  expect.soft(backwards, 'environments not on the newest release that completed there').toEqual([]);

  // ---- no force push: every head the hook saw descends from the one before, in one unbroken chain
  const finalHead = git('rev-parse', 'main');
  const forced: string[] = [];
  const next = new Map<string, string>();
  for (const u of updates) {
    if (!isAncestor(u.old, u.new)) forced.push(`${u.old.slice(0, 7)} → ${u.new.slice(0, 7)} does not descend from the head before it`);
    if (next.has(u.old)) forced.push(`${u.old.slice(0, 7)} was replaced twice: by ${next.get(u.old)!.slice(0, 7)} and by ${u.new.slice(0, 7)}`);
    next.set(u.old, u.new);
  }
  let walked = 0;
  let chainEnd = firstHead;
  for (; next.has(chainEnd) && walked <= updates.length; walked++) chainEnd = next.get(chainEnd)!;
  if (walked !== updates.length || chainEnd !== finalHead) forced.push(`the observed heads do not form one chain from ${firstHead.slice(0, 7)} to ${finalHead.slice(0, 7)} (${walked} of ${updates.length} updates followed)`);
  expect.soft(forced, 'branch updates that were not fast-forwards').toEqual([]);
  expect.soft(updates.length, 'pushes observed').toBeGreaterThanOrEqual(commits.length);

  // ---- every environment is idle: nothing in flight, nothing waiting
  const busy: string[] = [];
  for (const app of apps) {
    for (const env of ENVIRONMENTS) {
      const state = await client.workflow.getHandle(environmentWorkflowId(app, env)).query(environmentStateQuery).catch((err: Error) => ({ error: err.message }));
      if ('error' in state) busy.push(`${app}/${env}: ${state.error}`);
      else if (state.inFlight || state.waiting) busy.push(`${app}/${env}: in flight ${state.inFlight?.releaseId ?? '-'} (${state.inFlight?.phase ?? ''}), waiting ${state.waiting?.releaseId ?? '-'}`);
    }
  }
  expect.soft(busy, 'environments with a request still open').toEqual([]);

  // ---- no temporary clone left behind: dead workers' folders were swept, live ones hold no clone
  const livePids = new Set(live.map((w) => String(w.pid)));
  const leftovers = readdirSync(cloneRoot).flatMap((entry) => {
    const inside = readdirSync(join(cloneRoot, entry));
    if (!livePids.has(entry)) return [`${entry}/ (a dead worker's folder): ${inside.join(', ') || 'empty'}`];
    return inside.map((clone) => `${entry}/${clone} (a live worker's clone)`);
  });
  expect.soft(leftovers, 'temporary clones left behind').toEqual([]);

  // ---- the run really killed workers, and in the middle of pushes
  expect.soft(kills.length, 'kills').toBeGreaterThanOrEqual(6);
  expect.soft(midPush.length, 'kills in the middle of a git push').toBeGreaterThanOrEqual(1);
  console.log(`faults-random-kill-real: ${commits.length} Slipway commits, ${updates.length} head updates, ${promotionsSeen.length} promotions; whole test ${Math.round((Date.now() - testStarted) / 1000)} s`);
}, 330_000);
