/**
 * A git remote that accepts a connection and never answers, and workers killed mid-write: every
 * git command has a deadline and takes its helpers down with it, no writer queues for ever behind
 * a hung one, and the clones a killed worker leaves behind are removed when a worker starts.
 * Real git against a real bare repository, reached through a stand-in ssh (flaky-ssh-remote.ts)
 * that can hang; no Temporal.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newCloneFolder, sweepAbandonedClones } from '../../activities/gitops/clone-root.js';
import { createGitopsActivities } from '../../activities/gitops/index.js';
import { KeyedLock } from '../../activities/gitops/keyed-lock.js';
import type { CommitContext, GitTarget, WriteOverlayInput } from '../../activities/types.js';
import { FailureType } from '../../activities/types.js';
import { seedGitopsRepo, type SeededRepo } from '../../infra/examples/seed-repo.js';
import { flakySshRemote, type FlakySshRemote } from '../support/flaky-ssh-remote.js';
import { failureOf } from '../support/failures.js';

const run = promisify(execFile);
const IMAGES = ['todoapp/frontend', 'todoapp/backend', 'todoapp/backend-todos', 'todoapp/broadcaster'];
const STAGING = '1.2/overlays/staging';
const quiet = { info: () => {}, warn: () => {} };

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'slipway-git-hang-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let count = 0;
async function hangingRemote(): Promise<{ repo: SeededRepo; remote: FlakySshRemote; git: GitTarget; clones: string }> {
  const dir = join(root, `r${++count}`);
  await mkdir(dir);
  const repo = await seedGitopsRepo(dir);
  const remote = flakySshRemote(repo.barePath, dir);
  return { repo, remote, git: { ...repo.git, url: remote.url }, clones: join(dir, 'clones') };
}

function writeOf(git: GitTarget, tag: string, over: Partial<CommitContext> = {}): WriteOverlayInput {
  return {
    git,
    overlay: STAGING,
    images: IMAGES.map((name) => ({ name, newTag: tag })),
    context: { app: 'todoapp', environment: 'staging', releaseId: `release/todoapp/${tag}`, sourceCommit: tag, kind: 'promote', ...over },
  };
}

/** Running, as opposed to gone or a zombie waiting to be reaped (killed, its parent gone too). */
function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const headOf = async (repo: SeededRepo) => (await run('git', ['--git-dir', repo.barePath, 'rev-parse', 'main'])).stdout.trim();

describe('issue 13 item 1: a hung git remote costs one deadline, not the worker', () => {
  it('a clone from a remote that never answers fails retryably (GitUnavailable) at the git deadline, and the hung connection is killed too', async () => {
    const { repo, remote, git, clones } = await hangingRemote();
    const gitops = createGitopsActivities({ logger: quiet, env: remote.env, gitTimeoutMs: 1_500, clones: { root: clones } });
    remote.hangNext();

    const started = Date.now();
    const failure = await failureOf(gitops.writeOverlayImages(writeOf(git, 'aaaa111')));
    const took = Date.now() - started;

    expect(failure.type).toBe(FailureType.GitUnavailable);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toMatch(/git clone did not finish within 1\.5 s/);
    expect(took).toBeLessThan(15_000);
    // The "ssh" git started (and what it started) is gone with it: nothing of the attempt lingers.
    expect(remote.hungPids()).toHaveLength(1);
    expect(isAlive(remote.hungPids()[0]!)).toBe(false);
    // Its clone folder is gone as well, and nothing was pushed.
    expect(await readdir(join(clones, String(process.pid)))).toEqual([]);
    expect(await headOf(repo)).toBe(repo.commit);
  });

  it('a write queued behind a hung write of the same branch runs once the hung one hits its deadline: the rollback is not blocked', async () => {
    const { repo, remote, git, clones } = await hangingRemote();
    // One instance: the in-process lock queues the second write behind the first.
    const gitops = createGitopsActivities({ logger: quiet, env: remote.env, gitTimeoutMs: 2_000, clones: { root: clones } });
    remote.hangNext();
    const hung = failureOf(gitops.writeOverlayImages(writeOf(git, 'bbbb222')));
    const rollback = gitops.writeOverlayImages(writeOf(git, 'cccc333', { kind: 'rollback', undo: true }));

    expect((await hung).type).toBe(FailureType.GitUnavailable);
    const landed = await rollback;
    expect(landed.changed).toBe(true);
    expect(await headOf(repo)).toBe(landed.commit);
  });

  it('a write waiting behind another leaves the queue when its activity is cancelled', async () => {
    const lock = new KeyedLock();
    let releaseFirst!: () => void;
    const first = lock.run('k', () => new Promise<void>((resolve) => (releaseFirst = resolve)));
    const cancel = new AbortController();
    let beats = 0;
    const waiting = lock.run('k', async () => 'ran', { signal: cancel.signal, whileWaiting: () => beats++, waitBeatMs: 20 });
    await new Promise((r) => setTimeout(r, 120));
    cancel.abort(new Error('activity cancelled'));
    await expect(waiting).rejects.toThrow('activity cancelled');
    // It heartbeat while it waited, so its activity could learn of the cancellation.
    expect(beats).toBeGreaterThan(0);
    // The next writer waits only for the holder, not for the one that gave up.
    const third = lock.run('k', async () => 'third');
    releaseFirst();
    await first;
    await expect(third).resolves.toBe('third');
  });
});

describe('issue 13 item 12: clones a killed worker leaves behind', () => {
  it('a worker SIGKILLed mid-write leaves its clone; the next worker start removes it and keeps live workers\' clones', async () => {
    const { remote, git, clones } = await hangingRemote();
    // A worker process that clones and then stalls on a fetch that never answers, as in a write.
    const script = join(root, `stall-${count}.mjs`);
    await writeFile(
      script,
      `import { createGitopsActivities } from ${JSON.stringify(new URL('../../activities/gitops/index.ts', import.meta.url).pathname)};
const gitops = createGitopsActivities({ env: ${JSON.stringify(remote.env)}, gitTimeoutMs: 600000, clones: { root: ${JSON.stringify(clones)} }, logger: { info() {}, warn() {} },
  beforePush: async () => { console.log('pushing'); await new Promise(() => {}); } });
await gitops.writeOverlayImages(${JSON.stringify(writeOf(git, 'dddd444'))});
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('pushing') && resolve());
      child.once('exit', (code) => reject(new Error(`the stalling worker exited early (${code})`)));
    });
    const left = join(clones, String(child.pid));
    expect((await readdir(left)).length).toBe(1);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(existsSync(left)).toBe(true);

    // A live worker's folder (this process's parent stands in for one) is not touched.
    const live = join(clones, String(process.ppid));
    await mkdir(join(live, 'clone-x'), { recursive: true });

    const removed = await sweepAbandonedClones(clones);
    expect(removed).toContain(left);
    expect(existsSync(left)).toBe(false);
    expect(existsSync(join(live, 'clone-x'))).toBe(true);
  });

  it('clones past the space bound are refused retryably instead of filling the disk', async () => {
    const { git, remote, clones } = await hangingRemote();
    const other = join(clones, String(process.ppid), 'clone-big');
    await mkdir(other, { recursive: true });
    await writeFile(join(other, 'blob'), Buffer.alloc(256 * 1024));
    const gitops = createGitopsActivities({ logger: quiet, env: remote.env, clones: { root: clones, maxBytes: 128 * 1024 } });
    const failure = await failureOf(gitops.writeOverlayImages(writeOf(git, 'eeee555')));
    expect(failure.type).toBe(FailureType.GitUnavailable);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toMatch(/clones already take .* \(bound 128 KiB\)/);
    await expect(newCloneFolder({ root: clones, maxBytes: 1024 * 1024 })).resolves.toContain(join(clones, String(process.pid)));
  });
});
