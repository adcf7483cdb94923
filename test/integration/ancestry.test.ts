/**
 * The ancestry check against real repositories with the real git CLI, through a `git` on the
 * PATH that logs each invocation and can be told to fail the next fetches (a flaky network).
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAncestryChecker } from '../../activities/gitops/index.js';
import type { GitTarget } from '../../activities/types.js';

const run = promisify(execFile);
let root: string;
let env: NodeJS.ProcessEnv;
let log: string;
let failFetches: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'slipway-ancestry-test-'));
  const realGit = (await run('sh', ['-c', 'command -v git'])).stdout.trim();
  const bin = join(root, 'bin');
  await run('mkdir', ['-p', bin]);
  log = join(root, 'git.log');
  failFetches = join(root, 'fail-fetches');
  await writeFile(
    join(bin, 'git'),
    `#!/bin/sh
echo "$*" >> "${log}"
if [ "$1" = fetch ] && [ -f "${failFetches}" ]; then
  n=$(cat "${failFetches}")
  if [ "$n" -gt 0 ]; then
    echo $((n - 1)) > "${failFetches}"
    echo "fatal: unable to access 'https://git.example/': Connection reset by peer" >&2
    exit 128
  fi
fi
exec "${realGit}" "$@"
`,
  );
  await chmod(join(bin, 'git'), 0o755);
  env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let count = 0;
/** A bare remote with a few commits on main, and a work tree to push more from. */
async function freshRemote(): Promise<{ target: GitTarget; commits: string[]; push: () => Promise<string>; cacheDir: string }> {
  const dir = join(root, `remote-${++count}`);
  const bare = join(dir, 'gitops.git');
  const work = join(dir, 'work');
  const g = async (cwd: string, ...args: string[]) => (await run('git', args, { cwd })).stdout.trim();
  await run('mkdir', ['-p', dir]);
  await run('git', ['init', '--quiet', '--bare', '--initial-branch=main', bare]);
  await run('git', ['clone', '--quiet', bare, work]);
  await g(work, 'config', 'user.email', 't@example.com');
  await g(work, 'config', 'user.name', 't');
  const push = async () => {
    await writeFile(join(work, 'file.txt'), `${Math.random()}\n`);
    await g(work, 'add', '-A');
    await g(work, 'commit', '--quiet', '-m', 'change');
    await g(work, 'push', '--quiet', 'origin', 'HEAD:main');
    return g(work, 'rev-parse', 'HEAD');
  };
  const commits = [await push(), await push(), await push()];
  return { target: { url: bare, branch: 'main', author: { name: 't', email: 't@example.com' } }, commits, push, cacheDir: join(dir, 'cache') };
}

async function gitCalls(): Promise<string[]> {
  const text = await readFile(log, 'utf8').catch(() => '');
  await writeFile(log, '');
  return text.split('\n').filter(Boolean);
}
const fetches = (calls: string[]) => calls.filter((c) => c.startsWith('fetch ')).length;
const inits = (calls: string[]) => calls.filter((c) => c.startsWith('init ')).length;

describe('isAncestor on a cached mirror', () => {
  it('issue 19 item 5: a second call does not clone again, and does not fetch when both commits are known', async () => {
    const { target, commits, cacheDir } = await freshRemote();
    const isAncestor = createAncestryChecker({ cacheDir });
    await gitCalls();

    expect(await isAncestor(target, commits[0]!, commits[2]!, env)).toBe(true);
    const first = await gitCalls();
    expect([inits(first), fetches(first)]).toEqual([1, 1]);

    expect(await isAncestor(target, commits[0]!, commits[2]!, env)).toBe(true);
    expect(await isAncestor(target, commits[2]!, commits[1]!, env)).toBe(false);
    const later = await gitCalls();
    expect([inits(later), fetches(later)]).toEqual([0, 0]);
    expect(await readdir(cacheDir)).toHaveLength(1);
  });

  it('issue 19 item 5: a commit pushed after the mirror was made is found by one incremental fetch', async () => {
    const { target, commits, push, cacheDir } = await freshRemote();
    const isAncestor = createAncestryChecker({ cacheDir });
    expect(await isAncestor(target, commits[0]!, commits[1]!, env)).toBe(true);
    await gitCalls();

    const later = await push();
    expect(await isAncestor(target, commits[2]!, later, env)).toBe(true);
    expect(await isAncestor(target, later, commits[2]!, env)).toBe(false);
    const calls = await gitCalls();
    expect([inits(calls), fetches(calls)]).toEqual([0, 1]);
  });

  it('issue 19 item 5: concurrent calls for one remote share one mirror and one fetch', async () => {
    const { target, commits, cacheDir } = await freshRemote();
    const isAncestor = createAncestryChecker({ cacheDir });
    await gitCalls();
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => isAncestor(target, commits[i % 2]!, commits[2]!, env)));
    expect(answers).toEqual(Array(6).fill(true));
    const calls = await gitCalls();
    expect([inits(calls), fetches(calls)]).toEqual([1, 1]);
  });

  it('issue 19 item 5: a failing fetch is retried, then reported as an error, never as "not an ancestor"', async () => {
    const { target, commits, push, cacheDir } = await freshRemote();
    const isAncestor = createAncestryChecker({ cacheDir, attempts: 3, retryDelayMs: 10 });
    expect(await isAncestor(target, commits[0]!, commits[1]!, env)).toBe(true);

    // One dropped connection: the retry answers.
    const second = await push();
    await writeFile(failFetches, '1');
    await gitCalls();
    expect(await isAncestor(target, commits[0]!, second, env)).toBe(true);
    expect(fetches(await gitCalls())).toBe(2);

    // The network stays down: after 3 attempts the failure itself, retryable, not `false`.
    const third = await push();
    await writeFile(failFetches, '10');
    const failure = await isAncestor(target, commits[0]!, third, env).then(
      (answer) => answer,
      (err: unknown) => err,
    );
    await rm(failFetches, { force: true });
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).nonRetryable).toBe(false);
    expect((failure as ApplicationFailure).message).toMatch(/Connection reset by peer/);
    expect(fetches(await gitCalls())).toBe(3);

    // A remote that is gone is reported as that, at once.
    await rm(target.url, { recursive: true, force: true });
    const gone = await isAncestor(target, commits[0]!, 'f'.repeat(40), env).catch((err: unknown) => err);
    expect((gone as ApplicationFailure).type).toBe('InvalidConfig');
    expect(fetches(await gitCalls())).toBe(1);
  });
});
