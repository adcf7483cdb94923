/**
 * The webhook process, reachable from the internet, against a flood of unsigned connections: 1,000
 * connections that trickle headers, or send most of a body and stop, are held open against the
 * real webhook process (started from source, with the real Temporal dev server and a worker behind
 * it). Its memory is read from /proc/<pid>/status while they hang, and its peak must stay under the
 * memory limit its Kubernetes manifest gives it. At the connection cap a new connection is answered
 * 503 at once; once the server's short timeouts have cut the hanging connections, a signed delivery
 * is decided as usual. Bodies over the unverified-bytes cap are refused at once and their
 * connection closed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/ports.js';
import { eventually } from '../support/pipelines.js';
import { TestPolicy } from '../support/policy.js';
import { startTestWorker, temporalAddress, uniqueTaskQueue, type RunningWorker } from '../support/temporal.js';
import { sign, tagPushPayload } from '../support/webhook-payloads.js';

const SECRET = 'exhaustion-test-secret';
const KiB = 1024;
const MiB = 1024 * KiB;
/** What the shipped webhook accepts unverified, and the connections it holds, by default. */
const BODY_CAP = 64 * KiB;
const CONNECTION_CAP = 256;

/** The memory limit of the webhook container in infra/k8s, in bytes. */
function manifestMemoryLimit(): { text: string; bytes: number } {
  const file = join(process.cwd(), 'infra/k8s/webhook.yaml');
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const resource = doc.toJS() as any;
    if (resource?.kind !== 'Deployment' || resource.metadata?.name !== 'slipway-webhook') continue;
    const container = (resource.spec.template.spec.containers as any[]).find((c) => c.name === 'webhook');
    const text = String(container?.resources?.limits?.memory ?? '');
    const m = /^(\d+)(Ki|Mi|Gi|K|M|G)?$/.exec(text);
    if (!m) throw new Error(`${file}: the webhook container has no memory limit I can read ("${text}")`);
    const unit = { Ki: KiB, Mi: MiB, Gi: 1024 * MiB, K: 1e3, M: 1e6, G: 1e9 }[m[2] ?? ''] ?? 1;
    return { text, bytes: Number(m[1]) * unit };
  }
  throw new Error(`${file}: no slipway-webhook Deployment`);
}

/** VmRSS and VmHWM (peak resident set) of a process, in bytes. */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * KiB;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

const mb = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

const POLICY = `
gitops: { url: /tmp/gitops.git }
apps:
  shop:
    source: { github: Codertocat/Hello-World }
    images: [shop/web]
    environments:
      - { name: production, overlay: overlays/production, argocd: { application: shop-production } }
`;

let worker: RunningWorker;
let webhook: ChildProcess;
let output = '';
let port: number;

beforeAll(async () => {
  const taskQueue = uniqueTaskQueue('webhook-flood');
  worker = await startTestWorker({}, taskQueue, TestPolicy.fromText(POLICY).store);
  port = await freePort();
  // From source: the test must not depend on (or rewrite) a build in dist/.
  const { SLIPWAY_CONFIG: _policy, SLIPWAY_WEBHOOK_MAX_CONNECTIONS: _cap, SLIPWAY_WEBHOOK_MAX_BODY_BYTES: _body, ...inherited } = process.env;
  webhook = spawn(process.execPath, ['--import', 'tsx', join(process.cwd(), 'client/webhook/main.ts')], {
    env: { ...inherited, TEMPORAL_ADDRESS: temporalAddress(), SLIPWAY_TASK_QUEUE: taskQueue, SLIPWAY_WEBHOOK_SECRET: SECRET, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  webhook.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  webhook.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  await eventually(async () => output.includes(`listening on :${port}`), Boolean, 60_000).catch(() => {
    throw new Error(`the webhook did not start:\n${output}`);
  });
});

afterAll(async () => {
  if (webhook && webhook.exitCode === null) webhook.kill('SIGKILL');
  await worker?.stop();
});

/** One attacking connection: what the server answered (its first bytes) and whether it is still open. */
interface Held {
  socket: Socket;
  kind: string;
  answer: string;
  closed: boolean;
  closedAt?: number;
}

function open(kind: string, start: (s: Socket) => void): Held {
  const socket = connect({ port, host: '127.0.0.1' });
  const held: Held = { socket, kind, answer: '', closed: false };
  socket.on('data', (chunk: Buffer) => {
    if (held.answer.length < 200) held.answer += chunk.toString('latin1');
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    held.closed = true;
    held.closedAt = Date.now();
  });
  socket.once('connect', () => start(socket));
  return held;
}

const head = (lines: string[]) => `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-GitHub-Event: push\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n`;
const FAKE_SIGNATURE = `X-Hub-Signature-256: sha256=${'0'.repeat(64)}`;
const FILL = Buffer.alloc(MiB, 'a');

/** A signed delivery of a tag no app releases; answered, when decided, 202 "ignored". */
async function signedDelivery(): Promise<{ status: number; body: string; headers: Headers } | { error: string }> {
  const body = JSON.stringify(tagPushPayload('not-a-release'));
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      headers: { 'x-github-event': 'push', 'content-type': 'application/json', 'x-hub-signature-256': await sign(SECRET, body) },
      body,
      signal: AbortSignal.timeout(30_000),
    });
    return { status: res.status, body: await res.text(), headers: res.headers };
  } catch (err) {
    return { error: String((err as Error).cause ?? err) };
  }
}

describe('the webhook under a flood of unsigned connections', () => {
  it('holds 1,000 idle unsigned connections with its peak RSS under the manifest’s memory limit, answers 503 at its connection cap, and decides a signed delivery once its timeouts have cut them', async () => {
    const limit = manifestMemoryLimit();
    const pid = webhook.pid!;
    const before = memoryOf(pid);
    let peakRss = before.rss;
    const sampler = setInterval(() => {
      try {
        peakRss = Math.max(peakRss, memoryOf(pid).rss);
      } catch {
        /* the process has gone; the assertions below say so */
      }
    }, 50);

    const connections: Held[] = [];
    const trickle = new Set<Socket>();
    const trickler = setInterval(() => {
      for (const s of trickle) if (!s.destroyed) s.write('X-Slow: a\r\n');
    }, 1000);
    const batch = async (count: number, kind: string, start: (s: Socket) => void) => {
      for (let i = 0; i < count; i++) {
        connections.push(open(kind, start));
        if (i % 50 === 49) await new Promise((r) => setTimeout(r, 20));
      }
    };
    const started = Date.now();
    try {
      // First the connections that hang: silent ones, ones trickling their headers, ones that send
      // most of a small signed-looking body and stop.
      await batch(125, 'silent', () => {});
      await batch(125, 'slow headers', (s) => {
        s.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n');
        trickle.add(s);
      });
      await batch(250, 'slow small body', (s) => {
        s.write(head([FAKE_SIGNATURE, 'Content-Type: application/json', `Content-Length: ${60 * KiB}`]));
        s.write(FILL.subarray(0, 60 * KiB - 100));
      });
      await new Promise((r) => setTimeout(r, 1500));
      // Then the ones that push almost a mebibyte each, declared or chunked, and stop.
      await batch(250, 'large body', (s) => {
        s.write(head([FAKE_SIGNATURE, 'Content-Type: application/json', `Content-Length: ${MiB - 1}`]));
        s.write(FILL.subarray(0, MiB - 100));
      });
      await batch(250, 'chunked body', (s) => {
        s.write(head([FAKE_SIGNATURE, 'Content-Type: application/json', 'Transfer-Encoding: chunked']));
        for (let i = 0; i < 15; i++) s.write(`${(64 * KiB).toString(16)}\r\n${FILL.subarray(0, 64 * KiB).toString('latin1')}\r\n`);
      });
      expect(connections).toHaveLength(1000);
      await new Promise((r) => setTimeout(r, 2000));

      // A delivery from GitHub arriving now meets the cap: a clear 503 GitHub shows and can redeliver.
      const during = await signedDelivery();
      // Held: open and never refused. A refused one has its 503 and the server's FIN; on a loaded
      // machine the client may see the close a moment later, but the server let go of it already.
      const heldNow = connections.filter((c) => !c.closed && !c.answer.startsWith('HTTP/1.1 503')).length;
      await new Promise((r) => setTimeout(r, 1000));
      const mem = memoryOf(pid);
      peakRss = Math.max(peakRss, mem.rss, mem.hwm);
      const answers = new Map<string, number>();
      for (const c of connections) {
        const status = /^HTTP\/1\.1 (\d{3})/.exec(c.answer)?.[1] ?? (c.closed ? 'closed' : 'open');
        const key = `${c.kind}: ${status}`;
        answers.set(key, (answers.get(key) ?? 0) + 1);
      }
      console.log(
        `webhook RSS: ${mb(before.rss)} before the flood, peak ${mb(peakRss)} (VmHWM ${mb(mem.hwm)}) holding ${heldNow} of 1,000 connections; manifest limit ${limit.text} (${mb(limit.bytes)})\n` +
          `answers: ${[...answers].map(([k, n]) => `${k} ×${n}`).join(', ')}\n` +
          `signed delivery during the flood: ${'status' in during ? `${during.status} ${during.body}` : during.error}`,
      );
      expect(webhook.exitCode, `the webhook died:\n${output.slice(-2000)}`).toBeNull();
      expect(peakRss).toBeLessThan(limit.bytes);
      expect(heldNow, 'the server holds no more connections than its cap').toBeLessThanOrEqual(CONNECTION_CAP);
      expect(during).toMatchObject({ status: 503 });
      if (!('status' in during)) throw new Error('unreachable');
      expect(during.headers.get('retry-after')).toBeTruthy();
      expect(JSON.parse(during.body).error).toMatch(/connections/);
      const over = connections.filter((c) => c.answer.startsWith('HTTP/1.1 503'));
      expect(over.length, 'every connection over the cap is answered 503').toBeGreaterThanOrEqual(1000 - CONNECTION_CAP);

      // The short header and request timeouts cut the hanging ones; then deliveries are decided again.
      await eventually(async () => connections.every((c) => c.closed), Boolean, 40_000).catch(() => {
        throw new Error(`connections still open: ${connections.filter((c) => !c.closed).map((c) => c.kind).join(', ')}`);
      });
      const lastClosed = Math.max(...connections.map((c) => c.closedAt!));
      expect(lastClosed - started, 'the last hanging connection is cut within the request timeout').toBeLessThan(30_000);
      const after = await signedDelivery();
      expect(after).toMatchObject({ status: 202 });
      expect(JSON.parse((after as { body: string }).body)).toEqual({ ignored: "tag not-a-release matches no app's tag pattern" });
    } finally {
      clearInterval(sampler);
      clearInterval(trickler);
      for (const c of connections) c.socket.destroy();
    }
  });

  it('refuses a body over 64 KiB at once, declared or streamed, and closes its connection', async () => {
    const declared = open('declared', (s) => s.write(head([FAKE_SIGNATURE, `Content-Length: ${BODY_CAP + 1}`])));
    await eventually(async () => declared.closed, Boolean, 5_000);
    expect(declared.answer).toMatch(/^HTTP\/1\.1 413 /);

    const streamed = open('streamed', (s) => {
      s.write(head([FAKE_SIGNATURE, 'Transfer-Encoding: chunked']));
      s.write(`${(BODY_CAP + 1).toString(16)}\r\n`);
      s.write(FILL.subarray(0, BODY_CAP + 1));
      // ... and the stream goes on, never ending: the server must not wait for it.
    });
    await eventually(async () => streamed.closed, Boolean, 5_000);
    expect(streamed.answer).toMatch(/^HTTP\/1\.1 413 /);

    // A signed delivery within the cap is still read and decided.
    const ok = await signedDelivery();
    expect(ok).toMatchObject({ status: 202 });
  });
});
