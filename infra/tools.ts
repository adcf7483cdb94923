/**
 * Finding the outside programs Slipway's tests and demo run (Temporal CLI, apiextensions-apiserver,
 * kustomize, versitygw): an env var naming the binary wins, then the PATH, then a versioned cache outside the
 * clone, and last a `go install` of the pinned version into that cache. Builds are serialised by a
 * lock directory so parallel test workers never build the same tool twice.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
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
  /**
   * For modules with `replace` lines, which `go install` refuses: build in a throwaway wrapper
   * module that requires the module and carries the replaces. Every binary named here is built
   * into the same cache folder; `binary` must be one of them.
   */
  wrapper?: WrapperBuild;
}

export interface WrapperBuild {
  /** The module to require, at `version`. */
  module: string;
  /** `replace` lines (without the keyword), or a function of the required module's own go.mod. */
  replaces: string[] | ((goMod: string) => string[]);
  /** Binary name → package path. */
  packages: Record<string, string>;
  /** `-X` settings and the like, appended to `-s -w`. */
  ldflags?: string[];
  /** A GOTOOLCHAIN the module's go.mod needs (e.g. go1.27.3). */
  toolchain?: string;
  /** Files of the module source the tool needs at run time, copied into the cache folder (relative paths). */
  copyFromModule?: string[];
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
    const started = Date.now();
    if (tool.wrapper) {
      log(`building ${tool.name} ${tool.version} in a wrapper module (first run only, minutes; cached in ${dir})`);
      buildInWrapper(tool, tool.wrapper, dir);
    } else {
      log(`building ${tool.name} ${tool.version} with go install (first run only; cached in ${dir})`);
      go(['install', `${tool.goPackage}@${tool.version}`], { GOBIN: dir, ...tool.buildEnv }, undefined, tool.name);
    }
    if (!existsSync(binary)) throw new Error(`building ${tool.name} ${tool.version} left no ${binary}`);
    log(`built ${tool.name} ${tool.version} in ${Math.round((Date.now() - started) / 1000)} s`);
    return binary;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function go(args: string[], env: Record<string, string | undefined>, cwd: string | undefined, what: string): string {
  const result = spawnSync('go', args, {
    cwd,
    env: { ...process.env, GOFLAGS: '-buildvcs=false', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw new Error(`cannot run go to build ${what}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`go ${args.join(' ')} failed for ${what} (exit ${result.status})`);
  return result.stdout;
}

/** Builds the wrapper's binaries into `dir`: a module in a temp folder that requires the real one. */
function buildInWrapper(tool: GoTool, w: WrapperBuild, dir: string): void {
  const work = mkdtempSync(join(tmpdir(), `slipway-build-${tool.name}-`));
  const env = { GOTOOLCHAIN: w.toolchain ?? 'auto', ...tool.buildEnv };
  try {
    go(['mod', 'init', `slipway.local/build/${tool.name}`], env, work, tool.name);
    const info = JSON.parse(go(['mod', 'download', '-json', `${w.module}@${tool.version}`], env, work, tool.name)) as { GoMod?: string; Dir?: string };
    if (!info.GoMod || !info.Dir) throw new Error(`go mod download ${w.module}@${tool.version} named no go.mod or source folder`);
    // A function gets the module's own go.mod, to carry over its replace block.
    const replaces = typeof w.replaces === 'function' ? w.replaces(readFileSync(info.GoMod, 'utf8')) : w.replaces;
    const goMod = join(work, 'go.mod');
    writeFileSync(goMod, `${readFileSync(goMod, 'utf8')}\nrequire ${w.module} ${tool.version}\n\nreplace (\n${replaces.map((r) => `\t${r}`).join('\n')}\n)\n`);
    const packages = Object.values(w.packages);
    go(['get', ...packages.map((p) => `${p}@${tool.version}`)], env, work, tool.name);
    const ldflags = ['-s', '-w', ...(w.ldflags ?? [])].join(' ');
    mkdirSync(dir, { recursive: true });
    for (const [binary, pkg] of Object.entries(w.packages)) {
      go(['build', '-trimpath', '-ldflags', ldflags, '-o', join(dir, `${binary}.partial`), pkg], env, work, `${tool.name} (${binary})`);
      renameSync(join(dir, `${binary}.partial`), join(dir, binary));
    }
    for (const rel of w.copyFromModule ?? []) {
      cpSync(join(info.Dir, rel), join(dir, 'module', rel), { recursive: true });
      // The module cache is read-only; the copies need not be.
      spawnSync('chmod', ['-R', 'u+w', join(dir, 'module')]);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The `replace` lines of a go.mod, both the block and the single-line form. */
export function goModReplaces(goMod: string): string[] {
  const lines: string[] = [];
  const block = /^replace\s*\(([\s\S]*?)^\)/gm;
  for (const m of goMod.matchAll(block)) {
    for (const raw of m[1]!.split('\n')) {
      const line = raw.replace(/\/\/.*$/, '').trim();
      if (line) lines.push(line);
    }
  }
  for (const m of goMod.matchAll(/^replace\s+([^(\s].*)$/gm)) lines.push(m[1]!.replace(/\/\/.*$/, '').trim());
  return lines;
}
