/** HTTP checks against a real local server: expected status, retries with interval, timeouts, bodies left unread. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckActivities } from '../../activities/checks/index.js';
import { FailureType } from '../../activities/types.js';
import { failureOf } from '../support/failures.js';

const { httpCheck } = createCheckActivities();
let server: Server;
let base: string;
const hits = new Map<string, number>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    const n = (hits.get(path) ?? 0) + 1;
    hits.set(path, n);
    if (path === '/ok') return void res.writeHead(200).end('ok');
    if (path === '/third-time') return void res.writeHead(n >= 3 ? 200 : 503).end();
    if (path === '/down') return void res.writeHead(500).end();
    if (path === '/moved') return void res.writeHead(301, { location: '/ok' }).end();
    if (path.startsWith('/private')) {
      const expected = `Basic ${Buffer.from('probe:pw-s3cret/9').toString('base64')}`;
      return void res.writeHead(req.headers.authorization === expected ? 200 : 401).end();
    }
    if (path === '/slow') return void setTimeout(() => res.writeHead(200).end(), 2_000);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('httpCheck', () => {
  it('passes on the expected status', async () => {
    expect(await httpCheck({ url: `${base}/ok`, expectStatus: 200, timeoutMs: 1000, attempts: 3, intervalMs: 10 })).toEqual({ status: 200, attempts: 1 });
  });

  it('retries until the answer is right', async () => {
    const started = Date.now();
    const result = await httpCheck({ url: `${base}/third-time`, expectStatus: 200, timeoutMs: 1000, attempts: 5, intervalMs: 100 });
    expect(result).toEqual({ status: 200, attempts: 3 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
  });

  it('sees a redirect as itself', async () => {
    expect((await httpCheck({ url: `${base}/moved`, expectStatus: 301, timeoutMs: 1000, attempts: 1, intervalMs: 10 })).status).toBe(301);
  });

  it('fails non-retryably with the last status after the attempts', async () => {
    hits.delete('/down');
    const failure = await failureOf(httpCheck({ url: `${base}/down`, expectStatus: 200, timeoutMs: 1000, attempts: 3, intervalMs: 10 }));
    expect(failure.type).toBe(FailureType.CheckFailed);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('status 500');
    expect(hits.get('/down')).toBe(3);
  });

  it('bounds each attempt by the timeout', async () => {
    const failure = await failureOf(httpCheck({ url: `${base}/slow`, expectStatus: 200, timeoutMs: 200, attempts: 2, intervalMs: 10 }));
    expect(failure.message).toContain('no answer within 200ms');
  });

  it('sends credentials written into the URL as a Basic header, not in the request line', async () => {
    const url = base.replace('http://', `http://probe:${encodeURIComponent('pw-s3cret/9')}@`);
    expect(await httpCheck({ url: `${url}/private`, expectStatus: 200, timeoutMs: 1000, attempts: 1, intervalMs: 10 })).toEqual({ status: 200, attempts: 1 });
    expect(hits.get('/private')).toBe(1);
  });

  it("a failed check's message shows the URL without its credentials or query tokens", async () => {
    const url = `${base.replace('http://', 'http://probe:wrong-pass-7@')}/private?access_token=tok-0123456789&region=eu`;
    const failure = await failureOf(httpCheck({ url, expectStatus: 200, timeoutMs: 1000, attempts: 2, intervalMs: 10 }));
    expect(failure.type).toBe(FailureType.CheckFailed);
    expect(failure.message).toContain('status 401');
    expect(failure.message).toContain(`GET ${base.replace('http://', 'http://***@')}/private?access_token=***&region=eu`);
    for (const secret of ['wrong-pass-7', 'tok-0123456789']) expect(JSON.stringify(failure)).not.toContain(secret);
  });

  it('answers with the status of a 1 GB response without reading the body: the worker’s RSS barely moves', async () => {
    // The body comes from another process, so this process's RSS is the check's alone.
    const big = await startBigBodyServer(1024 ** 3);
    try {
      globalThis.gc?.();
      const before = process.memoryUsage().rss;
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
      const started = Date.now();
      const result = await httpCheck({ url: `${big.url}/healthz`, expectStatus: 200, timeoutMs: 60_000, attempts: 1, intervalMs: 10 });
      clearInterval(sampler);
      const after = process.memoryUsage().rss;
      peak = Math.max(peak, after);
      const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
      console.log(
        `checks: 1 GB /healthz answered ${result.status} in ${Date.now() - started} ms; RSS before ${mb(before)} MB, peak ${mb(peak)} MB, after ${mb(after)} MB (growth ${mb(peak - before)} MB); the server sent ${mb(await big.sent())} MB`,
      );
      expect(result).toEqual({ status: 200, attempts: 1 });
      expect(peak - before).toBeLessThan(50 * 1024 * 1024);
    } finally {
      await big.stop();
    }
  }, 120_000);

  it('reports a refused connection', async () => {
    const failure = await failureOf(httpCheck({ url: 'http://127.0.0.1:1/', expectStatus: 200, timeoutMs: 500, attempts: 1, intervalMs: 10 }));
    expect(failure.type).toBe(FailureType.CheckFailed);
    expect(failure.message).toMatch(/ECONNREFUSED|fetch failed/);
  });
});

/**
 * A server in its own process that answers 200 and streams `bytes` of body (honouring backpressure,
 * stopping when the client goes away), and reports on request how much it sent.
 */
async function startBigBodyServer(bytes: number): Promise<{ url: string; sent: () => Promise<number>; stop: () => Promise<void> }> {
  const script = `
    const http = require('node:http');
    const chunk = Buffer.alloc(1024 * 1024, 120);
    let sent = 0;
    const server = http.createServer((req, res) => {
      if (req.url === '/sent') return void res.end(String(sent));
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(${bytes}) });
      let left = ${bytes};
      const pump = () => {
        while (left > 0) {
          const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
          left -= piece.length;
          sent += piece.length;
          if (!res.write(piece)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => (left = 0));
      pump();
    });
    server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  const url = `http://127.0.0.1:${line.toString().trim()}`;
  return {
    url,
    sent: async () => Number(await (await fetch(`${url}/sent`)).text()),
    stop: async () => {
      child.kill('SIGKILL');
      if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    },
  };
}
