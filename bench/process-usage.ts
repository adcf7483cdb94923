/**
 * What a process cost over a stretch of a bench, read from Linux's /proc: CPU seconds
 * (utime + stime) and peak memory. A single process's peak is the kernel's own high-water mark
 * (VmHWM), reset at the start through clear_refs so a server shared by several runs reports each
 * run's peak. PostgreSQL is many processes sharing one buffer pool: its figure is the sampled peak
 * of the sum of their proportional set sizes (Pss), which counts shared pages once, and its CPU
 * includes backends that ended meanwhile (the postmaster reaps them into its cutime/cstime).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

let ticks: number | undefined;
/** Clock ticks per second of /proc/<pid>/stat (USER_HZ). */
function clockTicks(): number {
  if (ticks === undefined) {
    const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5000 });
    ticks = Number(out.stdout?.trim()) || 100;
  }
  return ticks;
}

export interface ProcStat {
  ppid: number;
  /** Ticks: this process's user and system time, and that of its children it has waited for. */
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
}

/** Parses /proc/<pid>/stat; the command name may hold spaces and parentheses, so fields count from its last `)`. */
export function parseProcStat(text: string): ProcStat {
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state) of proc(5).
  const at = (n: number) => Number(fields[n - 3]);
  return { ppid: at(4), utime: at(14), stime: at(15), cutime: at(16), cstime: at(17) };
}

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // the process is gone
  }
};

function stat(pid: number): ProcStat | undefined {
  const text = read(`/proc/${pid}/stat`);
  return text === undefined ? undefined : parseProcStat(text);
}

/** CPU seconds the process has used; with `reaped`, also those of its children that ended and were waited for. */
export function cpuSeconds(pid: number, reaped = false): number | undefined {
  const s = stat(pid);
  if (!s) return undefined;
  return (s.utime + s.stime + (reaped ? s.cutime + s.cstime : 0)) / clockTicks();
}

/** A `Name:  <n> kB` line of /proc/<pid>/status or smaps_rollup, in bytes. */
function kbField(file: string, name: string): number | undefined {
  const text = read(file);
  const m = text?.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'));
  return m ? Number(m[1]) * 1024 : undefined;
}

export const peakRssBytes = (pid: number) => kbField(`/proc/${pid}/status`, 'VmHWM');
export const rssBytes = (pid: number) => kbField(`/proc/${pid}/status`, 'VmRSS');
const pssBytes = (pid: number) => kbField(`/proc/${pid}/smaps_rollup`, 'Pss') ?? rssBytes(pid);

/** Resets the process's VmHWM to its current RSS (proc(5): writing 5 to clear_refs); false where that is not allowed. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export function childPids(ppid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    if (stat(Number(entry))?.ppid === ppid) pids.push(Number(entry));
  }
  return pids;
}

/** CPU seconds all cores of the machine were busy (not idle, not waiting for I/O) since boot. */
export function machineBusySeconds(): number {
  const line = read('/proc/stat')!.split('\n')[0]!;
  const [, ...values] = line.trim().split(/\s+/);
  // user nice system idle iowait irq softirq steal …: all but idle and iowait are work.
  const busy = values.map(Number).filter((_, i) => i !== 3 && i !== 4 && i < 8);
  return busy.reduce((a, b) => a + b, 0) / clockTicks();
}

export interface Usage {
  cpuS: number;
  peakRssBytes: number;
}

/** Measures a stretch: start(), sample() now and then (a timer does it), finish(). */
export interface UsageProbe {
  start(): void;
  sample(): void;
  finish(): Usage;
}

/** One process. Its peak is VmHWM since start() when the reset works, else the largest sampled RSS. */
export function processProbe(pid: number): UsageProbe {
  let cpu0 = 0;
  let lastCpu = 0;
  let reset = false;
  let sampledPeak = 0;
  let lastHwm = 0;
  const sample = () => {
    lastCpu = cpuSeconds(pid) ?? lastCpu;
    sampledPeak = Math.max(sampledPeak, rssBytes(pid) ?? 0);
    lastHwm = peakRssBytes(pid) ?? lastHwm;
  };
  return {
    start() {
      reset = resetPeakRss(pid);
      cpu0 = cpuSeconds(pid) ?? 0;
      sampledPeak = 0;
      sample();
    },
    sample,
    finish() {
      sample();
      return { cpuS: lastCpu - cpu0, peakRssBytes: reset ? Math.max(lastHwm, sampledPeak) : sampledPeak };
    },
  };
}

/** A server of many processes under one parent (PostgreSQL's postmaster): summed CPU, sampled peak of summed Pss. */
export function processTreeProbe(parentPid: number): UsageProbe {
  let cpu0 = 0;
  let lastCpu = 0;
  let peak = 0;
  const pids = () => [parentPid, ...childPids(parentPid)];
  // The parent's cutime/cstime holds the children it has reaped; the live ones count themselves.
  const cpu = () => pids().reduce((sum, pid) => sum + (cpuSeconds(pid, true) ?? 0), 0);
  const sample = () => {
    lastCpu = cpu();
    peak = Math.max(peak, pids().reduce((sum, pid) => sum + (pssBytes(pid) ?? 0), 0));
  };
  return {
    start() {
      cpu0 = cpu();
      peak = 0;
      sample();
    },
    sample,
    finish() {
      sample();
      return { cpuS: lastCpu - cpu0, peakRssBytes: peak };
    },
  };
}

/** The postmaster's pid: the first line of postmaster.pid in its data directory. */
export function postmasterPid(dataDir: string): number {
  const text = read(join(dataDir, 'postmaster.pid'));
  const pid = Number(text?.split('\n')[0]);
  if (!pid) throw new Error(`no postmaster.pid in ${dataDir}`);
  return pid;
}
