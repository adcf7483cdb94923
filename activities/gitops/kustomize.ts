/**
 * kustomize on the worker: every overlay edit is rendered with `kustomize build` before it is
 * committed, so a change Argo CD could not render never reaches the branch. The binary is the one
 * SLIPWAY_KUSTOMIZE names, else `kustomize` on the PATH; nothing is downloaded or built here.
 */
import { describeEnd, runProgram } from '../bounded-process.js';
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
 * inside the kustomization's root. It runs without the worker's environment (which holds its
 * tokens): an overlay is written by whoever can push to the GitOps repository. A build that
 * outlives the deadline is killed and reported as an error (it may pass on retry). The manifests
 * come back in `manifests` (within the runner's bound on what it reads).
 */
export async function kustomizeRender(binary: string, dir: string, timeoutMs: number): Promise<{ ok: true; manifests: string } | { ok: false; output: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR']) if (process.env[name] !== undefined) env[name] = process.env[name];
  let result;
  try {
    result = await runProgram({ file: binary, args: ['build', dir], env, timeoutMs, heartbeatDetails: { kustomize: dir } });
  } catch (err) {
    throw new KustomizeNotFoundError((err as Error).message);
  }
  if (result.end.kind === 'exited' && result.end.code === 0) return { ok: true, manifests: result.stdout };
  if (result.end.kind === 'exited') return { ok: false, output: result.stderr.trim() || `exit code ${result.end.code}` };
  throw new Error(`kustomize build ${dir} ${describeEnd(result.end, timeoutMs)}`);
}

/** Whether the overlay in `dir` renders (kustomizeRender; the manifests themselves are not needed). */
export async function kustomizeBuild(binary: string, dir: string, timeoutMs: number): Promise<RenderResult> {
  const rendered = await kustomizeRender(binary, dir, timeoutMs);
  return rendered.ok ? { ok: true } : rendered;
}
