/**
 * The pipeline policy as the worker holds it. The policy is the owner's: it is read from the
 * worker's own file (SLIPWAY_CONFIG) or from a path in a git repository at its branch head (so a
 * change of gate is a reviewed commit), never from a request. Every version read is kept by its
 * content hash, so a release that started under one version finishes under it while a newer one
 * serves the next releases.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, parseConfig, type SlipwayConfig } from '../../config/schema.js';
import type { GitTarget, PolicyRef } from '../types.js';
import { git } from '../gitops/git.js';
import { remoteFor } from '../gitops/remote.js';
import { openWorkspace } from '../gitops/workspace.js';

/** Where the policy comes from. */
export type PolicySource =
  | { kind: 'file'; path: string }
  /** `path` inside the repository's `target.branch`. */
  | { kind: 'git'; target: GitTarget; path: string };

export interface PolicyVersion extends PolicyRef {
  config: SlipwayConfig;
}

export interface PolicyStoreOptions {
  /** A git source is read again at most this often (ms); a file is cheap and read every time. */
  gitRefreshMs?: number;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}

export class PolicyStore {
  private readonly versions = new Map<string, PolicyVersion>();
  private latest: PolicyVersion | undefined;
  private latestReadAt = 0;
  private reading: Promise<PolicyVersion> | undefined;

  constructor(
    readonly source: PolicySource,
    private readonly options: PolicyStoreOptions = {},
  ) {}

  /** The policy as its source holds it now (a file is re-read; git at most every gitRefreshMs). */
  async current(): Promise<PolicyVersion> {
    const now = (this.options.now ?? Date.now)();
    const fresh = this.source.kind === 'git' && this.latest && now - this.latestReadAt < (this.options.gitRefreshMs ?? 10_000);
    if (fresh) return this.latest!;
    this.reading ??= this.read().finally(() => (this.reading = undefined));
    const version = await this.reading;
    this.latest = version;
    this.latestReadAt = now;
    return version;
  }

  /**
   * The version a release started under, when this worker has read it; otherwise the current
   * one (a restarted worker whose file changed meanwhile knows only the new policy — still the
   * owner's, never the caller's).
   */
  async version(wanted: string | undefined): Promise<PolicyVersion> {
    const known = wanted ? this.versions.get(wanted) : undefined;
    return known ?? this.current();
  }

  /** Every version this worker has read: what its activities may be asked to use. */
  all(): PolicyVersion[] {
    return [...this.versions.values()];
  }

  private async read(): Promise<PolicyVersion> {
    const { text, name, commit } = this.source.kind === 'file' ? await readPolicyFile(this.source.path) : await readPolicyFromGit(this.source, this.options.env);
    const version = policyHash(text);
    const existing = this.versions.get(version);
    if (existing) return existing;
    const entry: PolicyVersion = { version, source: name, ...(commit ? { commit } : {}), config: parseConfig(text, name) };
    this.versions.set(version, entry);
    return entry;
  }
}

/** A short content hash: the same text is the same version wherever it was read. */
export function policyHash(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
}

async function readPolicyFile(path: string): Promise<{ text: string; name: string; commit?: string }> {
  try {
    return { text: await readFile(path, 'utf8'), name: path };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(path, [{ path: '', message: code === 'ENOENT' ? 'file not found' : `cannot read: ${code}` }]);
  }
}

async function readPolicyFromGit(source: Extract<PolicySource, { kind: 'git' }>, env: NodeJS.ProcessEnv = process.env): Promise<{ text: string; name: string; commit: string }> {
  const remote = remoteFor(source.target, env);
  const workspace = await openWorkspace(source.target, remote);
  try {
    const commit = await workspace.head();
    const name = `${remote.redact(source.target.url)}@${commit.slice(0, 12)}:${source.path}`;
    // `git show` reads the committed blob: a symlink in the work tree cannot point it elsewhere.
    const text = await git(['show', `${commit}:${source.path}`], { cwd: workspace.dir, env: remote.env, redact: remote.redact }).catch(() => {
      throw new ConfigError(name, [{ path: '', message: `no file ${source.path} on branch ${source.target.branch}` }]);
    });
    return { text, name, commit };
  } finally {
    await workspace.dispose();
  }
}

/**
 * The policy source named by the worker's environment: SLIPWAY_POLICY_GIT_URL (with
 * SLIPWAY_POLICY_GIT_BRANCH, SLIPWAY_POLICY_GIT_PATH and SLIPWAY_POLICY_GIT_TOKEN_FROM_ENV) for a
 * reviewed file in git, else the file SLIPWAY_CONFIG (default ./slipway.yaml).
 */
export function policySourceFromEnv(env: NodeJS.ProcessEnv = process.env): PolicySource {
  const url = env.SLIPWAY_POLICY_GIT_URL;
  if (url) {
    return {
      kind: 'git',
      path: env.SLIPWAY_POLICY_GIT_PATH ?? 'slipway.yaml',
      target: {
        url,
        branch: env.SLIPWAY_POLICY_GIT_BRANCH ?? 'main',
        tokenFromEnv: env.SLIPWAY_POLICY_GIT_TOKEN_FROM_ENV,
        author: { name: 'Slipway', email: 'slipway@localhost' },
      },
    };
  }
  return { kind: 'file', path: env.SLIPWAY_CONFIG ?? join(process.cwd(), 'slipway.yaml') };
}
