/** HTTP checks against a real local server: expected status, retries with interval, timeouts. */
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

  it('reports a refused connection', async () => {
    const failure = await failureOf(httpCheck({ url: 'http://127.0.0.1:1/', expectStatus: 200, timeoutMs: 500, attempts: 1, intervalMs: 10 }));
    expect(failure.type).toBe(FailureType.CheckFailed);
    expect(failure.message).toMatch(/ECONNREFUSED|fetch failed/);
  });
});
