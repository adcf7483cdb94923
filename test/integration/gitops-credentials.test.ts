/**
 * Credentials for https remotes: the token reaches the server as a header, and never appears in
 * an error, a log line, or argv. A local HTTP server plays a git host that refuses us.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createGitopsActivities, createRedactor, isAncestor } from '../../activities/gitops/index.js';
import { remoteFor } from '../../activities/gitops/remote.js';
import type { GitTarget } from '../../activities/types.js';

const TOKEN = 'ghp_FAKEfakeFAKE0123456789slipwayTestToken';
const TOKEN_B64 = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
const PASSWORD = 'hunter2-in-the-url';

let server: Server;
let base: string;
let status = 401;
const seen: IncomingMessage['headers'][] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.headers);
    if (status === 401) res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' });
    else res.writeHead(status);
    res.end(`refused ${req.headers.authorization ?? ''}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Everything printed while `fn` runs, through console and the process streams. */
async function captureOutput<T>(fn: () => Promise<T>): Promise<{ result: T | undefined; error: unknown; output: string }> {
  const lines: string[] = [];
  const record = (...args: unknown[]) => void lines.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
  const spies = [
    vi.spyOn(console, 'log').mockImplementation(record),
    vi.spyOn(console, 'info').mockImplementation(record),
    vi.spyOn(console, 'warn').mockImplementation(record),
    vi.spyOn(console, 'error').mockImplementation(record),
    vi.spyOn(console, 'debug').mockImplementation(record),
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (record(String(chunk)), true)),
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (record(String(chunk)), true)),
  ];
  try {
    return { result: await fn(), error: undefined, output: lines.join('\n') };
  } catch (error) {
    return { result: undefined, error, output: lines.join('\n') };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

function everythingAbout(err: unknown): string {
  const f = err as ApplicationFailure;
  return [f.message, f.stack, f.type, JSON.stringify(f.details ?? null), String(f.cause ?? ''), JSON.stringify(f)].join('\n');
}

function target(url: string): GitTarget {
  return { url, branch: 'main', tokenFromEnv: 'SLIPWAY_TEST_GITOPS_TOKEN', author: { name: 'Slipway', email: 'slipway@example.com' } };
}

const writeInput = (git: GitTarget) => ({
  git,
  overlay: '1.2/overlays/staging',
  images: [{ name: 'todoapp/frontend', newTag: 'abc1234' }],
  context: { app: 'todoapp', environment: 'staging', releaseId: 'release/todoapp/abc1234', sourceCommit: 'abc1234', kind: 'promote' as const },
});

describe('https remotes with a token', () => {
  afterEach(() => {
    seen.length = 0;
  });

  it('sends the token as a header; a 401 is a non-retryable GitPermissionDenied that never shows it', async () => {
    status = 401;
    const gitops = createGitopsActivities({ env: { ...process.env, SLIPWAY_TEST_GITOPS_TOKEN: TOKEN } });
    const { error, output } = await captureOutput(() => gitops.writeOverlayImages(writeInput(target(`${base}/org/todoapp-gitops.git`))));

    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).type).toBe('GitPermissionDenied');
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    // The server did receive the credentials, as a header.
    expect(seen.some((h) => h.authorization === `Basic ${TOKEN_B64}`)).toBe(true);
    // A failure was logged, and neither the log nor the error carries the token.
    expect(output).toContain('overlay write failed');
    for (const text of [everythingAbout(error), output]) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(TOKEN_B64);
    }
  });

  it('a server error is retryable, and still carries no token', async () => {
    status = 500;
    const gitops = createGitopsActivities({ env: { ...process.env, SLIPWAY_TEST_GITOPS_TOKEN: TOKEN } });
    const { error, output } = await captureOutput(() =>
      gitops.readOverlayImages({ git: target(`${base}/org/todoapp-gitops.git`), overlay: '1.2/overlays/staging', imageNames: ['todoapp/frontend'] }),
    );
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).nonRetryable).toBe(false);
    expect((error as ApplicationFailure).message).toMatch(/500/);
    for (const text of [everythingAbout(error), output]) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(TOKEN_B64);
    }
  });

  it('credentials written into a URL are redacted from errors too', async () => {
    status = 401;
    const gitops = createGitopsActivities({ env: { ...process.env, SLIPWAY_TEST_GITOPS_TOKEN: TOKEN } });
    const url = `${base.replace('http://', `http://deploy:${PASSWORD}@`)}/org/todoapp-gitops.git`;
    const { error, output } = await captureOutput(() => gitops.writeOverlayImages(writeInput(target(url))));
    expect((error as ApplicationFailure).type).toBe('GitPermissionDenied');
    const ancestry = await captureOutput(() => isAncestor(target(url), 'a'.repeat(40), 'b'.repeat(40), { ...process.env, SLIPWAY_TEST_GITOPS_TOKEN: TOKEN }));
    for (const text of [everythingAbout(error), output, everythingAbout(ancestry.error), ancestry.output]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(TOKEN);
    }
    expect(everythingAbout(error)).toContain('http://***@127.0.0.1');
  });

  it('credentials written into a URL travel as a header: git is never given them in the URL', async () => {
    status = 401;
    const url = `${base.replace('http://', `http://deploy:${encodeURIComponent(PASSWORD)}@`)}/org/todoapp-gitops.git`;
    const remote = remoteFor({ ...target(url), tokenFromEnv: undefined }, process.env);
    expect(remote.url).toBe(`${base}/org/todoapp-gitops.git`);
    expect(JSON.stringify(remote.url)).not.toContain(PASSWORD);

    const gitops = createGitopsActivities({ env: process.env, logger: { info: () => {}, warn: () => {} } });
    const error = await gitops.writeOverlayImages(writeInput({ ...target(url), tokenFromEnv: undefined })).catch((e: unknown) => e);
    expect((error as ApplicationFailure).type).toBe('GitPermissionDenied');
    // Sent up front, as the header git is configured with, not after a challenge as git does with URL credentials.
    expect(seen[0]?.authorization).toBe(`Basic ${Buffer.from(`deploy:${PASSWORD}`).toString('base64')}`);
    expect(everythingAbout(error)).not.toContain(PASSWORD);
  });

  it('with both a token and credentials in the URL, only the token is sent', async () => {
    status = 401;
    const url = `${base.replace('http://', `http://deploy:${PASSWORD}@`)}/org/todoapp-gitops.git`;
    const remote = remoteFor(target(url), { ...process.env, SLIPWAY_TEST_GITOPS_TOKEN: TOKEN });
    expect(remote.url).not.toContain(PASSWORD);
    const gitops = createGitopsActivities({ env: { ...process.env, SLIPWAY_TEST_GITOPS_TOKEN: TOKEN }, logger: { info: () => {}, warn: () => {} } });
    await gitops.writeOverlayImages(writeInput(target(url))).catch(() => undefined);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((h) => h.authorization === `Basic ${TOKEN_B64}`)).toBe(true);
  });

  it('a token variable that is not set is InvalidConfig naming the variable', async () => {
    const env = { ...process.env };
    delete env.SLIPWAY_TEST_GITOPS_TOKEN;
    const gitops = createGitopsActivities({ env, logger: { info: () => {}, warn: () => {} } });
    const failure = (await gitops.writeOverlayImages(writeInput(target(`${base}/org/repo.git`))).catch((e) => e)) as ApplicationFailure;
    expect(failure.type).toBe('InvalidConfig');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('SLIPWAY_TEST_GITOPS_TOKEN');
    expect(seen).toHaveLength(0);
  });
});

describe('createRedactor', () => {
  it('removes secret values and userinfo from http(s) URLs, leaving ssh users alone', () => {
    const redact = createRedactor([TOKEN, 'ab']);
    expect(redact(`fatal: https://x-access-token:${TOKEN}@github.com/o/r.git: 403 ${TOKEN}`)).toBe('fatal: https://***@github.com/o/r.git: 403 ***');
    expect(redact('https://ghp_abc@github.com/o/r')).toBe('https://***@github.com/o/r');
    expect(redact('ssh://git@github.com/o/r and git@github.com:o/r')).toBe('ssh://git@github.com/o/r and git@github.com:o/r');
    // Too-short "secrets" are not redacted (they would mangle every message).
    expect(redact('about')).toBe('about');
  });
});
