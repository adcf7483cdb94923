import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { parseProcStat, processProbe, processTreeProbe } from '../../bench/process-usage.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

const waitFor = (output: () => string, text: string) =>
  new Promise<void>((resolve) => {
    const check = () => (output().includes(text) ? resolve() : setTimeout(check, 20));
    check();
  });

/** A node process that runs one of `steps` for each line on its stdin, printing `step <n>` after each, and then idles. */
function startNode(steps: string[]): { pid: number; next(n: number): Promise<void> } {
  const script = `const steps = [${steps.map((s) => `() => { ${s} }`).join(',')}]; let i = 0;
process.stdin.on('data', () => { steps[i++](); console.log('step ' + i); }); setInterval(() => {}, 1000); console.log('step 0');`;
  const child = spawn(process.execPath, ['--expose-gc', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const ready = waitFor(() => out, 'step 0');
  return {
    pid: child.pid!,
    async next(n) {
      await ready;
      child.stdin!.write('\n');
      await waitFor(() => out, `step ${n}`);
    },
  };
}

// 400 ms of its own CPU, however busy the machine is (a wall-clock loop gets less CPU under load).
const BURN = 'const until = process.cpuUsage().user + 400000; while (process.cpuUsage().user < until) {}';
const ALLOCATE = 'globalThis.keep = Buffer.alloc(150 * 2 ** 20, 1)';
const FREE = 'globalThis.keep = undefined; gc()';
const MB150 = 150 * 2 ** 20;

describe('parseProcStat', () => {
  it('counts fields from the last parenthesis, so a command name with spaces and parentheses does not shift them', () => {
    const s = parseProcStat('4242 (odd) name (x)) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 30 7 3 20 0 12 0 1000 0 0');
    expect(s).toEqual({ ppid: 17, utime: 250, stime: 30, cutime: 7, cstime: 3 });
  });
});

describe('processProbe', () => {
  it('reports the CPU seconds and the peak memory a process used between start and finish', async () => {
    const p = startNode([`${BURN}; ${ALLOCATE}`]);
    const probe = processProbe(p.pid);
    probe.start();
    await p.next(1);
    const usage = probe.finish();
    expect(usage.cpuS).toBeGreaterThanOrEqual(0.3);
    expect(usage.peakRssBytes).toBeGreaterThan(MB150);
  });

  it('leaves out the CPU and the memory peak of what the process did before start', async () => {
    const p = startNode([`${BURN}; ${ALLOCATE}`, FREE, '']);
    await p.next(1);
    await p.next(2);
    const probe = processProbe(p.pid);
    probe.start();
    await p.next(3);
    const usage = probe.finish();
    expect(usage.cpuS).toBeLessThan(0.2);
    expect(usage.peakRssBytes).toBeGreaterThan(0);
    expect(usage.peakRssBytes).toBeLessThan(MB150);
  });
});

describe('processTreeProbe', () => {
  it('counts the CPU of a child that ended during the stretch, through the parent that reaped it', async () => {
    const parent = spawn('sh', ['-c', `read x; ${JSON.stringify(process.execPath)} -e ${JSON.stringify(BURN)}; echo done; sleep 30`], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(parent);
    let out = '';
    parent.stdout!.on('data', (d) => (out += d));
    const probe = processTreeProbe(parent.pid!);
    probe.start();
    parent.stdin!.write('\n');
    await waitFor(() => out, 'done');
    const usage = probe.finish();
    expect(usage.cpuS).toBeGreaterThanOrEqual(0.3);
    expect(usage.peakRssBytes).toBeGreaterThan(0);
  });
});
