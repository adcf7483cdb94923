/**
 * Finding the outside programs Slipway's tests and demo run (Temporal CLI, apiextensions-apiserver,
 * kustomize): an env var naming the binary wins, then the PATH, then a versioned cache outside the
 * clone, and last a `go install` of the pinned version into that cache. Builds are serialised by a
 * lock directory so parallel test workers never build the same tool twice.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { findOnPath } from '../activities/programs.js';

export interface GoTool {
  /** Cache folder name prefix and what messages call it. */
  name: string;
  /** The `go install` package path. */
  goPackage: string;
  version: string;
  binary: string;
  /** Env var that may name an existing binary. */
  envVar: string;
  /** Whether a binary of this name on PATH may be used. */
  usePath: boolean;
  /** Extra environment for the build (e.g. GOFLAGS). */
  buildEnv?: Record<string, string>;
}

export function cacheRoot(): string {
  return process.env.SLIPWAY_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'slipway');
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Returns the path of the tool's binary, building it when nothing else provides it. */
export function ensureGoTool(tool: GoTool, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): string {
  const fromEnv = process.env[tool.envVar];
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`${tool.envVar}=${fromEnv}: no such file`);
    return fromEnv;
  }
  if (tool.usePath) {
    const onPath = findOnPath(tool.binary);
    if (onPath) return onPath;
  }
  const dir = join(cacheRoot(), `${tool.name}-${tool.version}`);
  const binary = join(dir, tool.binary);
  if (existsSync(binary)) return binary;

  mkdirSync(cacheRoot(), { recursive: true });
  const lock = join(cacheRoot(), `${tool.name}-${tool.version}.lock`);
  const deadline = Date.now() + 60 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (existsSync(binary)) return binary;
      // A lock older than the longest build is left over from a killed run.
      if (Date.now() - statSync(lock).mtimeMs > 45 * 60_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for another build of ${tool.name}`);
      sleepSync(2000);
    }
  }
  try {
    if (existsSync(binary)) return binary;
    log(`building ${tool.name} ${tool.version} with go install (first run only; cached in ${dir})`);
    const result = spawnSync('go', ['install', `${tool.goPackage}@${tool.version}`], {
      env: { ...process.env, GOBIN: dir, ...tool.buildEnv },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (result.error) throw new Error(`cannot run go to build ${tool.name}: ${result.error.message}`);
    if (result.status !== 0 || !existsSync(binary)) {
      throw new Error(`go install ${tool.goPackage}@${tool.version} failed (exit ${result.status})`);
    }
    return binary;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
