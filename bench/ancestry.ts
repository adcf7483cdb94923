/**
 * Bench 5, the "is this revision ours" check: a GitOps branch of 20,000 commits, 10 promotions
 * waiting at once, each asking whether Argo CD's reported branch head contains its commit, over
 * a few rounds in which the branch moves on (other teams' commits). Before: a fresh repository
 * fetching the whole branch on every call (the old check, kept here only as the baseline). After:
 * the worker's isAncestor on its cached mirror (cold on the first round, incremental later).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createAncestryChecker, type IsAncestorFn } from '../activities/gitops/index.js';
import type { GitTarget } from '../activities/types.js';
import { mean, percentile, printTable, round, writeResult } from './report.js';

const run = promisify(execFile);
const COMMITS = 20_000;
const WAITING = 10;
const ROUNDS = 3;

export async function benchAncestry(): Promise<Array<Record<string, string | number>>> {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-bench-ancestry-'));
  try {
    const bare = join(dir, 'gitops.git');
    const built = performance.now();
    await buildHistory(bare, COMMITS);
    const buildS = round((performance.now() - built) / 1000, 2);
    const git = async (...args: string[]) => (await run('git', ['--git-dir', bare, ...args])).stdout.trim();
    const target: GitTarget = { url: bare, branch: 'main', author: { name: 'Bench', email: 'bench@example.com' } };
    // The promotions' own commits: near the head, as recent writes are.
    const ours = (await git('rev-list', `--max-count=${WAITING}`, 'main')).split('\n');

    const measure = async (label: string, check: IsAncestorFn) => {
      const calls: number[] = [];
      const rounds: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        // Somebody else's commit lands: Argo CD now reports a later head than any promotion wrote.
        const head = await git('commit-tree', 'main^{tree}', '-p', 'main', '-m', `${label} round ${r}`);
        await git('update-ref', 'refs/heads/main', head);
        const started = performance.now();
        const answers = await Promise.all(
          ours.map(async (commit) => {
            const t = performance.now();
            const answer = await check(target, commit, head);
            calls.push(performance.now() - t);
            return answer;
          }),
        );
        rounds.push(performance.now() - started);
        if (!answers.every(Boolean)) throw new Error(`${label}: a promotion's commit was not found in the branch head`);
      }
      return { label, calls, rounds };
    };

    const before = await measure('before: fresh fetch per call', freshCloneIsAncestor);
    const cacheDir = await mkdtemp(join(dir, 'mirrors-'));
    const after = await measure('after: cached mirror', createAncestryChecker({ cacheDir }));

    const row = (m: typeof before) => ({
      approach: m.label,
      calls: m.calls.length,
      'round 1 wall s': round(m.rounds[0]! / 1000, 2),
      'later rounds wall s (mean)': round(mean(m.rounds.slice(1)) / 1000, 3),
      'call p50 ms': round(percentile(m.calls, 50)),
      'call p95 ms': round(percentile(m.calls, 95)),
      'total wall s': round(m.rounds.reduce((a, b) => a + b, 0) / 1000, 2),
    });
    const rows = [row(before), row(after)];
    const total = (m: typeof before) => m.rounds.reduce((a, b) => a + b, 0);
    const warm = (m: typeof before) => mean(m.rounds.slice(1));
    printTable(`ancestry — ${COMMITS} commits (built in ${buildS} s), ${WAITING} promotions waiting, ${ROUNDS} rounds`, rows);
    console.log(`speed-up: ${round(total(before) / total(after), 1)}× overall, ${round(warm(before) / warm(after), 1)}× once the mirror exists`);
    writeResult('ancestry', { commits: COMMITS, waiting: WAITING, rounds: ROUNDS, runs: rows, ratioOverall: total(before) / total(after), ratioWarm: warm(before) / warm(after) });
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A bare repository whose main has `count` commits, each changing one file, through `git fast-import`. */
async function buildHistory(bare: string, count: number): Promise<void> {
  await run('git', ['init', '--quiet', '--bare', '--initial-branch=main', bare]);
  const child = spawn('git', ['--git-dir', bare, 'fast-import', '--quiet'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`git fast-import failed (exit ${code}): ${stderr}`))));
  });
  const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`;
  const chunk: string[] = [];
  const flush = async () => {
    if (!child.stdin.write(chunk.join(''))) await new Promise((resolve) => child.stdin.once('drain', resolve));
    chunk.length = 0;
  };
  for (let i = 1; i <= count; i++) {
    chunk.push(
      `commit refs/heads/main\nmark :${i}\ncommitter Bench <bench@example.com> ${1_700_000_000 + i} +0000\n${data(`change ${i}`)}` +
        `${i > 1 ? `from :${i - 1}\n` : ''}M 644 inline overlays/app-${i % 50}/kustomization.yaml\n${data(`images:\n- name: app\n  newTag: build-${i}\n`)}\n`,
    );
    if (chunk.length >= 1000) await flush();
  }
  await flush();
  child.stdin.end();
  await done;
}

/** The check as it was: a new repository per call, fetching the whole branch. */
async function freshCloneIsAncestor(target: GitTarget, ancestor: string, descendant: string): Promise<boolean> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-ancestry-'));
  try {
    await run('git', ['init', '--quiet', '--bare'], { cwd: dir });
    await run('git', ['fetch', '--quiet', '--no-tags', target.url, `+refs/heads/${target.branch}:refs/heads/${target.branch}`], { cwd: dir, maxBuffer: 64 * 1024 * 1024 });
    return await run('git', ['merge-base', '--is-ancestor', ancestor, descendant], { cwd: dir }).then(
      () => true,
      () => false,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
