/**
 * Which part of a scale run ran out of CPU, decided from each process's CPU seconds over the run's
 * wall time (its share in cores). Pure: the scale bench measures, this judges, tests call it with
 * figures of their own.
 */

export interface CpuFigures {
  wallS: number;
  /** Cores of the machine. */
  cores: number;
  /** The bench process: the Temporal client starting and awaiting the releases. */
  clientS: number;
  /** Each worker process. */
  workersS: number[];
  /** The Temporal server's own process (the dev server, or temporal-server). */
  serverS: number;
  /** PostgreSQL, all its processes (production server only). */
  databaseS?: number;
  /** Everything else the machine ran meanwhile (other people's work included). */
  otherS: number;
}

export type Limit = 'server' | 'workers' | 'client' | 'others' | 'none';

export interface Verdict {
  limit: Limit;
  /** The sentence that names it, with the figures that show it. */
  text: string;
}

/** Busy at or above this fraction of all cores: the machine had no CPU left to give. */
export const SATURATED = 0.85;
/** A process this close to one core is bound by its busiest thread, even while the machine has room. */
export const ONE_CORE = 0.9;

const cores = (n: number) => `${n.toFixed(2)} cores`;

export function cpuBottleneck(f: CpuFigures): Verdict {
  if (!(f.wallS > 0)) throw new Error(`cpuBottleneck: wall time must be positive, got ${f.wallS}`);
  const share = (s: number) => s / f.wallS;
  const server = share(f.serverS + (f.databaseS ?? 0));
  const workers = share(f.workersS.reduce((a, b) => a + b, 0));
  const client = share(f.clientS);
  const others = share(f.otherS);
  const busy = (server + workers + client + others) / f.cores;
  const serverDetail = f.databaseS === undefined ? cores(server) : `${cores(server)}: temporal-server ${share(f.serverS).toFixed(2)} + PostgreSQL ${share(f.databaseS).toFixed(2)}`;
  const workerDetail = f.workersS.length > 1 ? `${cores(workers)} (${f.workersS.map((w) => share(w).toFixed(2)).join(' + ')})` : cores(workers);
  const breakdown = `server ${serverDetail}, workers ${workerDetail}, client ${cores(client)}, others ${cores(others)}`;
  const machine = `the machine's ${f.cores} cores were ${Math.round(busy * 100)}% busy`;

  if (busy >= SATURATED) {
    const groups: Array<[Exclude<Limit, 'none'>, number]> = [
      ['server', server],
      ['workers', workers],
      ['client', client],
      ['others', others],
    ];
    const largest = (g: typeof groups) => g.reduce((a, b) => (b[1] > a[1] ? b : a));
    const [limit, top] = largest(groups);
    if (limit === 'others') {
      // The bench did not get the cores; still say which of its own parts wanted them most.
      const [own, ownShare] = largest(groups.filter(([g]) => g !== 'others'));
      return { limit, text: `other processes on the machine: ${machine} and they took the largest share, ${cores(top)}; of the bench's own, the ${own} took the most, ${cores(ownShare)} (${breakdown})` };
    }
    return { limit, text: `the ${limit}: ${machine} and ${limit === 'workers' ? 'they' : 'it'} took the largest share, ${cores(top)} (${breakdown})` };
  }

  const single: Array<[Exclude<Limit, 'none' | 'others'>, string, number]> = [
    ['server', f.databaseS === undefined ? 'the server process' : 'temporal-server', share(f.serverS)],
    ...f.workersS.map((w, i): [Exclude<Limit, 'none' | 'others'>, string, number] => ['workers', `worker ${i + 1}`, share(w)]),
    ['client', 'the client', client],
  ];
  if (f.databaseS !== undefined) single.push(['server', 'PostgreSQL', share(f.databaseS)]);
  const [limit, name, top] = single.reduce((a, b) => (b[2] > a[2] ? b : a));
  if (top >= ONE_CORE) {
    return { limit, text: `the ${limit}: ${name} ran at ${cores(top)}, one core's worth, while ${machine}: its busiest thread is the limit (${breakdown})` };
  }
  return { limit: 'none', text: `no CPU limit: ${machine} and no process came near a core, so the releases waited on round trips, not on CPU (${breakdown})` };
}

export interface ScaleRowFigures {
  workers: number;
  releases: number;
  releasesPerMin: number;
  cpu: CpuFigures;
}

/**
 * One server's line: the verdict on its heaviest row (the most releases, then the most workers),
 * and what a second worker process bought at that size — a worker-bound run speeds up with it,
 * a server-bound one does not.
 */
export function serverBottleneckLine(server: string, rows: ScaleRowFigures[]): string {
  if (rows.length === 0) return `${server}: no rows`;
  const heaviest = rows.reduce((a, b) => (b.releases > a.releases || (b.releases === a.releases && b.workers > a.workers) ? b : a));
  const verdict = cpuBottleneck(heaviest.cpu);
  const atSize = rows.filter((r) => r.releases === heaviest.releases);
  const one = atSize.find((r) => r.workers === 1);
  const two = atSize.find((r) => r.workers === 2);
  const gain = one && two && one.releasesPerMin > 0 ? `; 2 worker processes ran ${(two.releasesPerMin / one.releasesPerMin).toFixed(2)}× the releases/min of 1` : '';
  // CPU seconds per release hardly depend on what else the machine runs: what each side costs.
  const c = heaviest.cpu;
  const perRelease = (s: number) => (s / heaviest.releases).toFixed(2);
  const cost = `; CPU s per release: server ${perRelease(c.serverS + (c.databaseS ?? 0))}, workers ${perRelease(c.workersS.reduce((a, b) => a + b, 0))}, client ${perRelease(c.clientS)}`;
  return `${server} server, ${heaviest.releases} releases on ${heaviest.workers} worker${heaviest.workers === 1 ? '' : 's'} — bottleneck ${verdict.text}${gain}${cost}`;
}
