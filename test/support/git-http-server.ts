/**
 * A git host over smart HTTP for tests: git's own `git http-backend` (CGI) behind a node HTTP
 * server on 127.0.0.1 that requires Basic credentials, serving the bare repositories in one folder.
 * Clones, fetches and pushes through it are the real protocol, as against any https git host.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GitHttpServer {
  /** `http://127.0.0.1:<port>`; a repository `x.git` in `root` is at `${base}/x.git`. */
  base: string;
  /** Every request's Authorization header (undefined when none was sent). */
  authorizations: Array<string | undefined>;
  close(): Promise<void>;
}

export interface GitHttpServerOptions {
  /** The folder holding the bare repositories. */
  root: string;
  user: string;
  password: string;
  /** Holds each answer back this long, so a test sees the git processes while they run. */
  delayMs?: number;
}

export async function startGitHttpServer(options: GitHttpServerOptions): Promise<GitHttpServer> {
  const expected = `Basic ${Buffer.from(`${options.user}:${options.password}`).toString('base64')}`;
  const authorizations: Array<string | undefined> = [];
  const server: Server = createServer((req, res) => {
    authorizations.push(req.headers.authorization);
    setTimeout(() => {
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' }).end();
        return;
      }
      serveWithBackend(req, options.root, options.user).then(
        ({ status, headers, body }) => res.writeHead(status, headers).end(body),
        (err: Error) => res.writeHead(500).end(err.message),
      );
    }, options.delayMs ?? 0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    authorizations,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Runs `git http-backend` for one request and splits its CGI answer into status, headers and body. */
function serveWithBackend(req: IncomingMessage, root: string, user: string): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const child = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      ...(req.headers['content-length'] ? { CONTENT_LENGTH: req.headers['content-length'] } : {}),
      ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
      ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
      // An authenticated user may push (http-backend enables receive-pack only for one).
      REMOTE_USER: user,
      REMOTE_ADDR: '127.0.0.1',
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  req.pipe(child.stdin);
  const out: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.resume();
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', () => {
      const all = Buffer.concat(out);
      let split = all.indexOf('\r\n\r\n');
      let sepLength = 4;
      if (split < 0) {
        split = all.indexOf('\n\n');
        sepLength = 2;
      }
      if (split < 0) return reject(new Error('git http-backend gave no CGI headers'));
      const headers: Record<string, string> = {};
      let status = 200;
      for (const line of all.subarray(0, split).toString('utf8').split(/\r?\n/)) {
        const colon = line.indexOf(':');
        if (colon < 0) continue;
        const key = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (key.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
        else headers[key] = value;
      }
      resolve({ status, headers, body: all.subarray(split + sepLength) });
    });
  });
}
