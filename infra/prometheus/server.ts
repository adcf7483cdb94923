/**
 * A real Prometheus (Debian's `prometheus` package, which install-deps.sh installs) on loopback,
 * for tests and the demo: its own config file, scrape targets and rule files, a TSDB in a temp
 * folder, and its lifecycle API on so a test can change what it scrapes (`configure`) without a
 * restart. Stopping it takes its whole process group and removes the folder.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGroupProcess, type GroupProcess } from '../kube/process-group.js';
import { freePort } from '../ports.js';

export interface ScrapeJob {
  job: string;
  /** `host:port` targets. */
  targets: string[];
  metricsPath?: string;
  /** Seconds; the server's global interval when absent. */
  intervalSeconds?: number;
}

export interface PrometheusSetup {
  scrape: ScrapeJob[];
  /** Absolute paths of rule files (recording and alerting rules) it evaluates. */
  ruleFiles?: string[];
  /** Global scrape and rule-evaluation interval, seconds (default 1: tests want fresh samples). */
  intervalSeconds?: number;
}

export interface RunningPrometheus {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  pid: number;
  logFile: string;
  /**
   * Writes a new config and has the server reload it (POST /-/reload). New targets are scraped
   * only after the discovery manager's next update, up to 5 s later: wait with `scraped(job)`.
   */
  configure(setup: PrometheusSetup): Promise<void>;
  /** Resolves once every target of `job` has been scraped successfully (`up == 1`). */
  scraped(job: string, timeoutMs?: number): Promise<void>;
  /** Stops the server (restart() starts it again on the same port and data). */
  stop(): Promise<void>;
  /** Stops and starts it again on the same port, config and TSDB: a Prometheus that was down. */
  restart(options?: { downForMs?: number }): Promise<void>;
}

export const PROMETHEUS_BINARY = process.env.SLIPWAY_PROMETHEUS || '/usr/bin/prometheus';

/** The config file's YAML (JSON is YAML): global interval, rule files, one job per scrape target set. */
export function prometheusConfig(setup: PrometheusSetup): string {
  const interval = `${setup.intervalSeconds ?? 1}s`;
  return JSON.stringify(
    {
      global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
      rule_files: setup.ruleFiles ?? [],
      scrape_configs: setup.scrape.map((j) => ({
        job_name: j.job,
        metrics_path: j.metricsPath ?? '/metrics',
        ...(j.intervalSeconds ? { scrape_interval: `${j.intervalSeconds}s`, scrape_timeout: `${j.intervalSeconds}s` } : {}),
        static_configs: [{ targets: j.targets }],
      })),
    },
    null,
    2,
  );
}

async function fetchWithin(url: string, ms: number, init?: RequestInit): Promise<Response> {
  return fetch(url, { ...init, signal: AbortSignal.timeout(ms) });
}

export async function startPrometheus(setup: PrometheusSetup, options: { startTimeoutMs?: number; logFile?: string } = {}): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  const logFile = options.logFile ?? join(dir, 'prometheus.log');
  writeFileSync(configFile, prometheusConfig(setup));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--web.enable-lifecycle',
    // Debian's build would otherwise look for its console templates in /etc/prometheus.
    `--web.console.templates=${join(dir, 'consoles')}`,
    `--web.console.libraries=${join(dir, 'console_libraries')}`,
  ];
  let server: GroupProcess;
  const launch = async () => {
    server = startGroupProcess(PROMETHEUS_BINARY, args, logFile);
    const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
    for (;;) {
      const ready = await fetchWithin(`${url}/-/ready`, 1000).then((r) => r.ok, () => false);
      if (ready) return;
      if (server.exited()) throw new Error(`prometheus ${server.exited()} before it was ready (see ${logFile})`);
      if (Date.now() > deadline) throw new Error(`prometheus not ready at ${url} within ${options.startTimeoutMs ?? 30_000} ms (see ${logFile})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  try {
    await launch();
  } catch (err) {
    await server!.stop(2000);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let removed = false;
  return {
    url,
    port,
    get pid() {
      return server.pid;
    },
    logFile,
    async configure(next) {
      writeFileSync(configFile, prometheusConfig(next));
      const res = await fetchWithin(`${url}/-/reload`, 10_000, { method: 'POST' });
      if (!res.ok) throw new Error(`prometheus refused the new config (${res.status}): ${await res.text()}`);
    },
    async scraped(job, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last = '';
      while (Date.now() < deadline) {
        const up = await instantQuery(url, `up{job=${JSON.stringify(job)}}`).catch((err: unknown) => String(err));
        if (Array.isArray(up) && up.length > 0 && up.every((s) => s.value[1] === '1')) return;
        last = JSON.stringify(up);
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`prometheus at ${url} has not scraped job ${job} within ${timeoutMs} ms: up = ${last}`);
    },
    async stop() {
      await server.stop(5000);
      if (!removed) {
        removed = true;
        rmSync(dir, { recursive: true, force: true });
      }
    },
    async restart(o = {}) {
      await server.stop(5000);
      if (o.downForMs) await new Promise((r) => setTimeout(r, o.downForMs));
      await launch();
    },
  };
}

/** One instant query through the HTTP API, for tests that look at what Prometheus holds. */
export async function instantQuery(prometheusUrl: string, query: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const res = await fetchWithin(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`, 10_000);
  const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  if (body.status !== 'success') throw new Error(`query ${query} failed: ${body.error}`);
  return body.data?.result ?? [];
}
