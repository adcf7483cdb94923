/**
 * An app's metrics as a test wants them: an HTTP server on 127.0.0.1 serving `/metrics` in
 * Prometheus' text format, with `http_requests_total{app,version,code}` counters that grow with
 * time at the rate and error ratio the test sets per build — so `rate()` queries over them give
 * what a real app's traffic would, a few seconds after the test changes it. A build with no
 * traffic set has no series at all (Prometheus then has no data for it).
 */
import { createServer, type Server } from 'node:http';

export interface Traffic {
  /** Requests per second. */
  rate: number;
  /** The fraction of them answered 500 (the rest 200). */
  errorRatio: number;
}

interface Series {
  labels: { app: string; version: string };
  traffic: Traffic;
  ok: number;
  errors: number;
  updatedAt: number;
}

export class MetricsExporter {
  private server?: Server;
  private readonly series = new Map<string, Series>();
  /** Scrapes served, for tests that wait for the next one. */
  scrapes = 0;

  /** Starts listening; resolves with `host:port` for a scrape config. */
  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      if (req.url !== '/metrics') return void res.writeHead(404).end();
      this.scrapes++;
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(this.exposition());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this.target;
  }

  get target(): string {
    const address = this.server?.address();
    if (!address || typeof address === 'string') throw new Error('the exporter is not listening');
    return `127.0.0.1:${address.port}`;
  }

  /** Sets a build's traffic from now on (its counters keep what they counted); undefined removes its series. */
  setTraffic(app: string, version: string, traffic: Traffic | undefined): void {
    const key = JSON.stringify([app, version]);
    if (!traffic) {
      this.series.delete(key);
      return;
    }
    const existing = this.series.get(key);
    if (existing) {
      this.advance(existing);
      existing.traffic = traffic;
    } else {
      this.series.set(key, { labels: { app, version }, traffic, ok: 0, errors: 0, updatedAt: Date.now() });
    }
  }

  /** The text format, counters advanced to now. */
  exposition(): string {
    const lines = ['# HELP http_requests_total Requests served, by app, version and status code.', '# TYPE http_requests_total counter'];
    for (const s of this.series.values()) {
      this.advance(s);
      const labels = `app="${escapeLabel(s.labels.app)}",version="${escapeLabel(s.labels.version)}"`;
      lines.push(`http_requests_total{${labels},code="200"} ${s.ok}`, `http_requests_total{${labels},code="500"} ${s.errors}`);
    }
    return `${lines.join('\n')}\n`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server!.close(resolve));
  }

  private advance(s: Series): void {
    const now = Date.now();
    const requests = (s.traffic.rate * (now - s.updatedAt)) / 1000;
    s.errors += requests * s.traffic.errorRatio;
    s.ok += requests * (1 - s.traffic.errorRatio);
    s.updatedAt = now;
  }
}

/** A label value in the text format: backslash, double quote and newline escaped. */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
