/**
 * A real S3-compatible server on loopback for tests and the demo: versitygw's posix backend over
 * a temp folder (each top-level folder a bucket), root keys given through its environment (never
 * argv), in its own process group with its output in a log file. Ready once a signed ListBuckets
 * with those keys is answered, within a deadline.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { startGroupProcess, type GroupProcess } from '../kube/process-group.js';
import { freePort } from '../ports.js';
import { versitygwPath } from './binary.js';

export interface VersitygwOptions {
  /** Where buckets (and the log) live; a temp folder, removed on stop, when omitted. */
  dir?: string;
  /** Where the server's output goes; `<dir>/versitygw.log` when omitted. */
  logFile?: string;
  /** How long to wait for the server to answer (it usually takes well under a second). */
  startTimeoutMs?: number;
  /** Buckets to create once it answers. */
  buckets?: string[];
}

export interface RunningVersitygw {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  port: number;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The posix backend's root: `<root>/<bucket>/<key>`. */
  root: string;
  logFile: string;
  /** An SDK client with the root keys, path-style, for setting up and inspecting buckets. */
  client(): S3Client;
  createBucket(name: string): Promise<void>;
  /** Stops the server and its process group; removes the folder when this started made it. */
  stop(): Promise<void>;
}

const REGION = 'us-east-1';

function rootClient(endpoint: string, accessKeyId: string, secretAccessKey: string): S3Client {
  return new S3Client({
    endpoint,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    requestHandler: { connectionTimeout: 2000, requestTimeout: 10_000 },
    maxAttempts: 1,
  });
}

export async function startVersitygw(options: VersitygwOptions = {}): Promise<RunningVersitygw> {
  const binary = versitygwPath();
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'slipway-versitygw-'));
  const root = join(dir, 'buckets');
  mkdirSync(root, { recursive: true });
  const logFile = options.logFile ?? join(dir, 'versitygw.log');
  const accessKeyId = `slipway${randomBytes(6).toString('hex')}`;
  const secretAccessKey = randomBytes(24).toString('base64url');
  // Only what the server needs: its keys stay out of argv (`ps` shows argv) and out of our environment.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, ROOT_ACCESS_KEY: accessKeyId, ROOT_SECRET_KEY: secretAccessKey };
  const timeoutMs = options.startTimeoutMs ?? 30_000;

  // A port can be taken between freePort() and the server binding it: try a few.
  let server: GroupProcess | undefined;
  let port = 0;
  let lastProblem = '';
  for (let attempt = 0; attempt < 3 && !server; attempt++) {
    port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const child = startGroupProcess(binary, ['--port', `127.0.0.1:${port}`, '--region', REGION, 'posix', root], logFile, env);
    const probe = rootClient(endpoint, accessKeyId, secretAccessKey);
    const deadline = Date.now() + timeoutMs;
    try {
      for (;;) {
        const exited = child.exited();
        if (exited) {
          lastProblem = `versitygw ${exited} before answering on ${endpoint}`;
          break;
        }
        try {
          await probe.send(new ListBucketsCommand({}), { abortSignal: AbortSignal.timeout(2000) });
          server = child;
          break;
        } catch {
          /* not up yet */
        }
        if (Date.now() > deadline) {
          lastProblem = `versitygw did not answer a signed ListBuckets on ${endpoint} within ${timeoutMs} ms`;
          await child.stop();
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      probe.destroy();
    }
  }
  if (!server) {
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : '';
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    throw new Error(`${lastProblem}${log ? `\n${log}` : ''}`);
  }

  const endpoint = `http://127.0.0.1:${port}`;
  const running: RunningVersitygw = {
    endpoint,
    port,
    region: REGION,
    accessKeyId,
    secretAccessKey,
    root,
    logFile,
    client: () => rootClient(endpoint, accessKeyId, secretAccessKey),
    async createBucket(name) {
      const client = running.client();
      try {
        await client.send(new CreateBucketCommand({ Bucket: name }), { abortSignal: AbortSignal.timeout(10_000) });
      } finally {
        client.destroy();
      }
    },
    async stop() {
      await server.stop();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const bucket of options.buckets ?? []) await running.createBucket(bucket);
  } catch (err) {
    await running.stop();
    throw err;
  }
  return running;
}
