/**
 * The README's demo (`npm start`) from a clean state: it starts its own Temporal (with UI),
 * real cluster (Kubernetes control plane, kwok nodes, the real Argo CD), GitOps repo and worker, releases a good build to
 * production and a bad one that staging rolls back, and with --once exits 0 leaving no process
 * behind. The suite's test command has already installed dependencies and built, which is the
 * first half of scripts/demo.sh; here the demo's entry runs from the sources, so it is current.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = process.cwd();
const stateParent = mkdtempSync(join(tmpdir(), 'slipway-demo-test-'));
const stateDir = join(stateParent, 'state');

afterAll(() => rmSync(stateParent, { recursive: true, force: true }));

interface ProcessSeen {
  pid: number;
  name: string;
}

/** Processes whose command line mentions `needle` (the demo's state dir), read from /proc. */
function processesMentioning(needle: string): ProcessSeen[] {
  const found: ProcessSeen[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (!cmdline.includes(needle)) continue;
      const state = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.[0];
      if (state === 'Z') continue; // a zombie is already dead
      found.push({ pid: Number(entry), name: cmdline.split('\0')[0]!.split('/').pop()! });
    } catch {
      /* exited while we looked */
    }
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state !== undefined && state !== 'Z';
  } catch {
    return false;
  }
}

interface DemoRun {
  exit: { code: number | null; signal: NodeJS.Signals | null };
  output: string;
  /** Every process seen with the state dir in its arguments while the demo ran: pid → program. */
  seen: Map<number, string>;
}

/** Runs the demo's entry; `onOutput` may act on what it printed so far (e.g. send a signal). */
async function runDemo(args: string[], dir: string, onOutput?: (output: string, child: ChildProcess) => void): Promise<DemoRun> {
  expect(processesMentioning(dir)).toEqual([]);
  const child = spawn(process.execPath, ['--import', 'tsx', 'infra/demo/main.ts', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  let output = '';
  const collect = (d: Buffer) => {
    output += d.toString();
    onOutput?.(output, child);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);

  // Every process the demo runs carries its state dir in its arguments; remember each one seen.
  const seen = new Map<number, string>();
  const sampler = setInterval(() => {
    for (const p of processesMentioning(dir)) if (p.pid !== child.pid) seen.set(p.pid, p.name);
  }, 250);
  const exit = await new Promise<DemoRun['exit']>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGTERM'), 280_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
  clearInterval(sampler);
  return { exit, output, seen };
}

/** The demo's servers were seen running, and none of them (nor anything else it started) is left. */
function expectNothingLeft(run: DemoRun, dir: string): void {
  const names = [...run.seen.values()];
  expect(names, 'the scan saw the demo’s servers while it ran').toEqual(expect.arrayContaining(['temporal', 'etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok', 'argocd', 'redis-server']));
  const survivors = [...run.seen].filter(([pid]) => alive(pid));
  expect(survivors, 'processes left running after the demo exited').toEqual([]);
  expect(processesMentioning(dir)).toEqual([]);
}

/**
 * Runs `VAR=value … node dist/client/cli.js …` as the demo printed it, from the repository root
 * (which has no slipway.yaml), with nothing else in its environment but PATH.
 */
async function runPrintedCli(line: string): Promise<{ line: string; stdout: string; stderr: string; code: number }> {
  const words = line.trim().split(/\s+/);
  const env: Record<string, string> = { PATH: process.env.PATH ?? '' };
  while (words[0] && /^[A-Z_]+=/.test(words[0])) {
    const [name, ...value] = words.shift()!.split('=');
    env[name!] = value.join('=');
  }
  expect(words[0], line).toBe('node');
  expect(existsSync(join(root, 'slipway.yaml'))).toBe(false);
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, words.slice(1), { cwd: root, env, encoding: 'utf8' });
    return { line, stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    return { line, stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: typeof e.code === 'number' ? e.code : -1 };
  }
}

describe('npm start (the demo)', () => {
  it('is the package.json start script: install, build, then the built demo', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe('bash scripts/demo.sh');
    const script = readFileSync(join(root, 'scripts/demo.sh'), 'utf8');
    const steps = script.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
    expect(steps).toEqual(expect.arrayContaining(['bash scripts/install-deps.sh', 'npm run build --silent', 'exec node dist/infra/demo/main.js "$@"']));
    expect(steps.indexOf('bash scripts/install-deps.sh')).toBeLessThan(steps.indexOf('npm run build --silent'));
    expect(existsSync(join(root, 'dist/infra/demo/main.js')), 'npm run build emits the demo entry').toBe(true);
  });

  it('--once: releases to production, rolls back a bad build in staging, exits 0 and leaves no process', async () => {
    const { exit, output, seen } = await runDemo(['--once', '--state-dir', stateDir], stateDir);

    expect(exit, output).toEqual({ code: 0, signal: null });
    expect(output).toMatch(/Temporal UI\s+http:\/\/127\.0\.0\.1:\d+/);
    expect(output).toMatch(/Temporal UI: http:\/\/127\.0\.0\.1:\d+\/namespaces\/default\/workflows\/release%2Ftodoapp%2F[0-9a-f]{40}/);
    expect(output).toContain('GitHub is not reachable in the demo');
    expect(output).toContain('waits for approval; the demo approves 1.3.0');
    expect(output).toContain('✔ release 1 (1.3.0): released to staging and production');
    // Argo CD's own health assessment, in its words, is what the demo shows for the bad build.
    expect(output).toMatch(/Argo CD Application argocd\/todoapp-staging is Degraded at [0-9a-f]{12}: Caused by apps\/Deployment:staging\//);
    expect(output).toMatch(/✔ release 2 \(1\.3\.1\): failed in staging and rolled back — the staging overlay was restored to [0-9a-f]{7} by a new commit [0-9a-f]{7}/);
    expect(output).toMatch(/git log --oneline:\n\s+[0-9a-f]{7} rollback todoapp in staging/);
    expect(output, 'the demo reports no unexpected outcome').not.toMatch(/^✘ release/m);
    // Its last words: the DORA figures of the two releases — staging took both and rolled one back.
    expect(output).toContain("━━ DORA metrics of the demo's releases");
    expect(output).toMatch(/todoapp\/staging:\n(?:.*\n)*?\s+change failure rate\s+50% — 1 of 2 promotions \(1 rolled back\)/);
    expect(output).toMatch(/todoapp\/production:\n(?:.*\n)*?\s+change failure rate\s+0% — 0 of 1 promotion\b/);

    // What the demo says, checked in the GitOps repository itself.
    const gitDir = join(stateDir, 'todoapp-gitops.git');
    const git = (...args: string[]) => execFileSync('git', ['--git-dir', gitDir, ...args], { encoding: 'utf8' }).trim();
    const subjects = git('log', '--format=%s', 'main').split('\n');
    expect(subjects).toHaveLength(5);
    expect(subjects[0]).toMatch(/^rollback todoapp in staging/);
    expect(subjects[2]).toMatch(/^promote todoapp to production: [0-9a-f]{7} \(1\.3\.0\)/);
    const tags = (overlay: string) =>
      ((parse(git('show', `main:1.2/overlays/${overlay}/kustomization.yaml`)) as { images: Array<{ newTag: string }> }).images).map((i) => i.newTag);
    const production = tags('production');
    expect(new Set(production).size).toBe(1);
    expect(production[0]).toMatch(/^[0-9a-f]{40}$/);
    expect(tags('staging'), 'staging holds release 1 again after the rollback').toEqual(production);

    // The generated slipway.yaml, the demo worker's own policy: the example's pipeline on the local repo, without GitHub.
    const config = parse(readFileSync(join(stateDir, 'slipway.yaml'), 'utf8')) as { gitops: { url: string }; apps: { todoapp: Record<string, unknown> } };
    expect(config.gitops.url).toBe(`file://${gitDir}`);
    expect(config.apps.todoapp.source).toBeUndefined();

    // Nothing it started is left running.
    expectNothingLeft({ exit, output, seen }, stateDir);
  }, 300_000);

  it('stays up after its releases, and the CLI line it prints works as printed: no SLIPWAY_CONFIG, the worker has the policy', async () => {
    const dir = join(stateParent, 'staying-up');
    let cli: Promise<{ line: string; stdout: string; stderr: string; code: number }> | undefined;
    const run = await runDemo(['--state-dir', dir], dir, (output, child) => {
      const line = /^\s+CLI:\s+(.*)$/m.exec(output)?.[1];
      if (cli || !line) return;
      cli = runPrintedCli(line).finally(() => child.kill('SIGINT'));
    });
    expect(cli, run.output).toBeDefined();
    const status = await cli!;
    expect(status.line).not.toContain('SLIPWAY_CONFIG');
    expect(status.code, `${status.line}\n${status.stdout}${status.stderr}`).toBe(0);
    expect(status.stdout).toMatch(/^todoapp\/production: 1\.3\.0 \(gitops [0-9a-f]{7}\)$/m);
    expect(status.stdout).toMatch(/^todoapp\/staging: 1\.3\.0 \(gitops [0-9a-f]{7}\)$/m);
    expect(run.exit, run.output).toEqual({ code: 130, signal: null });
    expectNothingLeft(run, dir);
  }, 300_000);

  it('Ctrl-C in the middle of a release stops every process it started', async () => {
    const dir = join(stateParent, 'interrupted');
    let sent = false;
    const run = await runDemo(['--state-dir', dir], dir, (output, child) => {
      if (!sent && output.includes('started release/todoapp/')) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    expect(sent, run.output).toBe(true);
    expect(run.output).toContain('SIGINT: stopping everything the demo started');
    expect(run.output).toContain('stopped Temporal dev server');
    expect(run.exit, run.output).toEqual({ code: 130, signal: null });
    expectNothingLeft(run, dir);
  }, 300_000);
});
