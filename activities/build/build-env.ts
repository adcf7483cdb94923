/**
 * The environment a build command runs with. A build runs the released commit's own code (its
 * Makefile, its npm scripts) before any approval, so it gets nothing of the worker's by default —
 * not the GitOps or GitHub tokens, the database URLs, TEMPORAL_API_KEY or the webhook URLs, nor the
 * KUBERNETES_* variables that point at the cluster — only what a build needs to run, and the
 * variables the policy names for it.
 *
 * What this cannot hide: files the worker can read. In Kubernetes that includes the pod's
 * service-account token (README, "Builds by command").
 */

/** A PATH for a worker started without one. */
const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';

export interface BuildEnvironment {
  /** The worker's environment, the only source of the named variables. */
  worker: NodeJS.ProcessEnv;
  /** The names the policy passes through; unset ones are left out. */
  names: readonly string[];
  /** The build's scratch directory, its HOME. */
  home: string;
  /** A writable directory inside it, its TMPDIR. */
  tmp: string;
  commit: string;
  app: string;
}

export function buildEnvironment(b: BuildEnvironment): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of b.names) {
    const value = b.worker[name];
    if (value !== undefined) env[name] = value;
  }
  // After the named ones: a build's HOME, TMPDIR and identity are always Slipway's.
  return {
    ...env,
    PATH: b.worker.PATH ?? DEFAULT_PATH,
    LANG: b.worker.LANG ?? 'C.UTF-8',
    HOME: b.home,
    TMPDIR: b.tmp,
    SLIPWAY_COMMIT: b.commit,
    SLIPWAY_APP: b.app,
  };
}
