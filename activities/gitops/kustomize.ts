/**
 * kustomize on the worker: every overlay edit is rendered with `kustomize build` before it is
 * committed, so a change Argo CD could not render never reaches the branch. The binary is the one
 * SLIPWAY_KUSTOMIZE names, else `kustomize` on the PATH; nothing is downloaded or built here.
 */
import { spawn } from 'node:child_process';
import { findOnPath, isExecutableFile } from '../programs.js';

/** No kustomize on this worker: no edit can be checked, so none is committed. */
export class KustomizeNotFoundError extends Error {
  override name = 'KustomizeNotFoundError';
}

export function findKustomize(env: NodeJS.ProcessEnv = process.env): string {
  const named = env.SLIPWAY_KUSTOMIZE;
  if (named) {
    if (!isExecutableFile(named)) throw new KustomizeNotFoundError(`SLIPWAY_KUSTOMIZE=${named} is not an executable file`);
    return named;
  }
  const onPath = findOnPath('kustomize', env);
  if (onPath) return onPath;
  throw new KustomizeNotFoundError(
    'kustomize is not on this worker (not in SLIPWAY_KUSTOMIZE, not on the PATH); every overlay edit is rendered with `kustomize build` before it is committed, so nothing was',
  );
}

export type RenderResult = { ok: true } | { ok: false; output: string };

/**
 * `kustomize build <dir>` with kustomize's defaults: no exec or Helm plugins, files only from
 * inside the kustomization's root. The rendered manifests are not needed, only whether it renders.
 * It runs without the worker's environment (which holds its tokens): an overlay is written by
 * whoever can push to the GitOps repository. A build that outlives the deadline is killed and
 * reported as an error (it may pass on retry).
 */
export function kustomizeBuild(binary: string, dir: string, timeoutMs: number): Promise<RenderResult> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {};
    for (const name of ['PATH', 'HOME', 'TMPDIR']) if (process.env[name] !== undefined) env[name] = process.env[name];
    const child = spawn(binary, ['build', dir], { stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-8000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new KustomizeNotFoundError(`cannot run ${binary}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') reject(new Error(`kustomize build ${dir} did not finish within ${Math.round(timeoutMs / 1000)} s`));
      else if (code === 0) resolve({ ok: true });
      else resolve({ ok: false, output: stderr.trim() || `exit code ${code}` });
    });
  });
}
