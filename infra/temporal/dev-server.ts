/**
 * Starts `temporal server start-dev` on loopback with Slipway's search attributes registered,
 * and waits until it answers. Used by the test suite's global setup, the demo and the benches.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../../core/search-attributes.js';
import { freePort } from '../ports.js';
import { temporalCliPath } from './cli.js';

export interface DevServerOptions {
  /** gRPC port; a free one when omitted. */
  port?: number;
  /** Start the Web UI on this port (a free one when `true`); no UI when omitted. */
  ui?: number | true;
  /** SQLite file that keeps workflows across restarts; in-memory when omitted. */
  dbFile?: string;
  namespace?: string;
  /** How long to wait for the server to answer. */
  startTimeoutMs?: number;
  /** Where the server's own output goes; discarded when omitted. */
  logFile?: string;
}

export interface DevServer {
  address: string;
  port: number;
  uiUrl?: string;
  namespace: string;
  process: ChildProcess;
  /** Stops the server (SIGTERM, then SIGKILL after a grace period). */
  stop(): Promise<void>;
}

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const cli = temporalCliPath();
  const port = options.port ?? (await freePort());
  const namespace = options.namespace ?? 'default';
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn'];
  args.push('--http-port', String(await freePort()), '--metrics-port', String(await freePort()));
  let uiUrl: string | undefined;
  if (options.ui !== undefined) {
    const uiPort = options.ui === true ? await freePort() : options.ui;
    args.push('--ui-port', String(uiPort));
    uiUrl = `http://127.0.0.1:${uiPort}`;
  } else {
    args.push('--headless');
  }
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  if (namespace !== 'default') args.push('--namespace', namespace);
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);

  const out = options.logFile ? openSync(options.logFile, 'a') : 'ignore';
  const child = spawn(cli, args, { stdio: ['ignore', out, out], detached: false });
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `exited with ${signal ?? code}`;
  });

  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  for (;;) {
    if (exited) throw new Error(`temporal dev server ${exited} before answering${options.logFile ? ` (see ${options.logFile})` : ''}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        const attrs = await connection.operatorService.listSearchAttributes({ namespace });
        if (Object.keys(SEARCH_ATTRIBUTES).every((k) => k in (attrs.customAttributes ?? {}))) break;
      } finally {
        await connection.close();
      }
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`temporal dev server did not answer on ${address} within ${options.startTimeoutMs ?? 60_000} ms`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }

  if (uiUrl) await waitForHttp(uiUrl, deadline);

  return {
    address,
    port,
    uiUrl,
    namespace,
    process: child,
    stop: () => stopProcess(child),
  };
}

async function waitForHttp(url: string, deadline: number): Promise<void> {
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`Temporal UI did not answer at ${url}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** SIGTERM, then SIGKILL if the process is still there after `graceMs`. */
export function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
