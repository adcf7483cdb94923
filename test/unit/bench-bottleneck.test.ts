import { describe, expect, it } from 'vitest';
import { cpuBottleneck, serverBottleneckLine, type CpuFigures, type Limit, type ScaleRowFigures } from '../../bench/bottleneck.js';

/** A 100 s run on 2 cores; each figure is CPU seconds over it, so 100 is one core. */
const run = (f: Partial<CpuFigures>): CpuFigures => ({ wallS: 100, cores: 2, clientS: 10, workersS: [20], serverS: 30, otherS: 5, ...f });

describe('cpuBottleneck', () => {
  it('names the server when the machine is full and temporal-server with PostgreSQL take the largest share, with the figures', () => {
    const v = cpuBottleneck(run({ serverS: 80, databaseS: 40, workersS: [25, 20], clientS: 10 }));
    expect(v.limit).toBe('server');
    expect(v.text).toContain('1.20 cores');
    expect(v.text).toContain('temporal-server 0.80 + PostgreSQL 0.40');
    expect(v.text).toContain('90% busy');
    expect(v.text).toContain('workers 0.45 cores (0.25 + 0.20)');
  });

  // Each: what the run used, the part it must name, and a figure the sentence must show.
  it.each([
    ['names the workers when the machine is full and they take the largest share', { serverS: 40, workersS: [70, 60], clientS: 10 }, 'workers', '1.30 cores'],
    ['blames other processes when they took most of a full machine, and names the bench part that took the most of the rest', { serverS: 30, workersS: [20], clientS: 10, otherS: 120 }, 'others', "of the bench's own, the server took the most, 0.30 cores"],
    // The dev server's SQLite takes one writer at a time: about a core, the second one idle.
    ['names a single process that runs at one core while the machine still has room', { serverS: 95, workersS: [30], clientS: 10, otherS: 5 }, 'server', 'the server process ran at 0.95 cores'],
    ['names PostgreSQL under the server when it alone runs at a core', { serverS: 30, databaseS: 92, workersS: [20], clientS: 5, otherS: 0 }, 'server', 'PostgreSQL ran at 0.92 cores'],
    ['names the worker whose process runs at a core', { serverS: 30, workersS: [20, 96], clientS: 5, otherS: 0 }, 'workers', 'worker 2 ran at 0.96 cores'],
    ['finds no CPU limit when the machine has room and no process is near a core', { serverS: 50, workersS: [40], clientS: 10, otherS: 10 }, 'none', '55% busy'],
  ] as Array<[string, Partial<CpuFigures>, Limit, string]>)('%s', (_, figures, limit, shown) => {
    const v = cpuBottleneck(run(figures));
    expect(v.limit).toBe(limit);
    expect(v.text).toContain(shown);
  });

  it('refuses a run without wall time rather than dividing by it', () => {
    expect(() => cpuBottleneck(run({ wallS: 0 }))).toThrow(/wall time/);
  });
});

describe('serverBottleneckLine', () => {
  const row = (workers: number, releases: number, releasesPerMin: number, cpu: Partial<CpuFigures>): ScaleRowFigures => ({ workers, releases, releasesPerMin, cpu: run(cpu) });

  it('judges the heaviest row and says what the second worker process bought at that size', () => {
    const line = serverBottleneckLine('production', [
      row(1, 200, 240, { serverS: 10 }),
      row(2, 200, 250, { serverS: 10 }),
      row(1, 500, 200, { serverS: 80, databaseS: 50, workersS: [40] }),
      row(2, 500, 210, { serverS: 85, databaseS: 50, workersS: [25, 25] }),
    ]);
    expect(line).toContain('500 releases on 2 workers');
    expect(line).toContain('bottleneck the server');
    expect(line).toContain('1.05× the releases/min of 1');
    // (85 + 50) s of server and 50 s of workers over 500 releases.
    expect(line).toContain('CPU s per release: server 0.27, workers 0.10, client 0.02');
  });

  it('leaves out the worker comparison when only one worker count ran', () => {
    const line = serverBottleneckLine('dev', [row(1, 20, 100, {})]);
    expect(line).toContain('20 releases on 1 worker —');
    expect(line).not.toContain('releases/min of 1');
  });
});
