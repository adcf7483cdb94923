/**
 * A GitHub API for tests: Prism serving GitHub's own OpenAPI description (`@octokit/openapi`),
 * behind a small recording proxy. Prism validates every request against the schema (with
 * `--errors`, an invalid request gets a Prism problem response instead of an example), and answers
 * with the description's examples. Prism is stateless, so stateful behaviour (idempotency, conflicts)
 * is asserted on the recorded requests; a scenario may ask Prism for another documented response of
 * an operation (`Prefer: code=404`), which is still GitHub's own response shape.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { freePort, portOpen } from '../ports.js';

export interface RecordedRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body, or undefined. */
  body: unknown;
  status: number;
  responseBody: unknown;
  /** Prism's problem type when it refused the request (schema violation, no such route). */
  violation?: string;
}

export interface PrismOptions {
  /** Extra `Prefer` header per request, e.g. `code=404` for "this ref does not exist". */
  prefer?: (request: { method: string; path: string }) => string | undefined;
  /** Where Prism's own output goes (default: discarded). */
  logFile?: string;
  startTimeoutMs?: number;
}

export interface PrismMock {
  /** The recording proxy's base URL: give it to Octokit as `baseUrl`. */
  url: string;
  requests: RecordedRequest[];
  /** Requests Prism refused as invalid or unknown. */
  violations(): RecordedRequest[];
  /** Replace the per-request Prefer scenario. */
  setPrefer(prefer: PrismOptions['prefer']): void;
  clear(): void;
  stop(): Promise<void>;
}

const PRISM_ERROR = 'https://stoplight.io/prism/errors#';

export function githubOpenApiSpec(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@octokit/openapi/package.json');
  return join(dirname(pkg), 'generated', 'api.github.com.json');
}

function prismBinary(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@stoplight/prism-cli/package.json');
  return join(dirname(pkg), 'dist', 'index.js');
}

export async function startPrism(options: PrismOptions = {}): Promise<PrismMock> {
  const prismPort = await freePort();
  const prism = spawn(
    process.execPath,
    [prismBinary(), 'mock', githubOpenApiSpec(), '-h', '127.0.0.1', '-p', String(prismPort), '--errors', '-v', 'warn'],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  const log = options.logFile ? createWriteStream(options.logFile) : undefined;
  prism.stdout!.on('data', (c: Buffer) => log?.write(c));
  prism.stderr!.on('data', (c: Buffer) => log?.write(c));
  try {
    await waitForPrism(prism, prismPort, options.startTimeoutMs ?? 120_000);
  } catch (err) {
    killGroup(prism);
    throw err;
  }

  const requests: RecordedRequest[] = [];
  let prefer = options.prefer;
  const proxy = createServer((req, res) => {
    void forward(req, prismPort, prefer).then(
      ({ record, status, headers, body }) => {
        requests.push(record);
        res.writeHead(status, headers);
        res.end(body);
      },
      (err: Error) => {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`proxy to Prism failed: ${err.message}`);
      },
    );
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as { port: number };

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    violations: () => requests.filter((r) => r.violation),
    setPrefer: (p) => {
      prefer = p;
    },
    clear: () => {
      requests.length = 0;
    },
    async stop() {
      await closeServer(proxy);
      killGroup(prism);
      log?.end();
    },
  };
}

async function forward(req: IncomingMessage, prismPort: number, prefer: PrismOptions['prefer']) {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const method = req.method ?? 'GET';
  const headers: Record<string, string | string[] | undefined> = { ...req.headers, host: `127.0.0.1:${prismPort}` };
  // GitHub's media types (`application/vnd.github.v3+json`, Octokit's default) are JSON; the
  // description lists only `application/json`, and Prism negotiates strictly.
  if (typeof headers.accept === 'string' && /application\/vnd\.github[^,]*\+json/.test(headers.accept)) {
    headers.accept = 'application/json';
  }
  const wanted = prefer?.({ method, path: url.pathname });
  if (wanted) headers.prefer = wanted;
  const response = await new Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }>((resolve, reject) => {
    const out = httpRequest({ host: '127.0.0.1', port: prismPort, method, path: req.url, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    out.on('error', reject);
    out.end(raw);
  });
  const responseBody = parseJson(response.body);
  const problemType = (responseBody as { type?: unknown } | undefined)?.type;
  const record: RecordedRequest = {
    method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: req.headers,
    body: parseJson(raw),
    status: response.status,
    responseBody,
    violation: typeof problemType === 'string' && problemType.startsWith(PRISM_ERROR) ? describeViolation(responseBody) : undefined,
  };
  const { 'content-length': _length, 'transfer-encoding': _te, connection: _c, 'keep-alive': _ka, ...passHeaders } = response.headers;
  return { record, status: response.status, headers: passHeaders, body: response.body };
}

function describeViolation(body: unknown): string {
  const b = body as { type: string; title?: string; detail?: string; validation?: unknown };
  return `${b.type.slice(PRISM_ERROR.length)}: ${b.title ?? ''} ${b.detail ?? ''} ${b.validation ? JSON.stringify(b.validation) : ''}`.trim();
}

function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return raw.toString('utf8');
  }
}

/** Prism loads the 13 MB description before it listens (10-30 s); at warn level it prints nothing, so poll the port. */
async function waitForPrism(prism: ChildProcess, port: number, timeoutMs: number): Promise<void> {
  let exited: number | null | undefined;
  prism.once('exit', (code) => {
    exited = code;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited !== undefined) throw new Error(`Prism exited (${exited}) before listening on ${port}`);
    if (await portOpen(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`Prism did not listen on ${port} within ${timeoutMs}ms`);
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGTERM');
  } catch {
    /* already gone */
  }
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
