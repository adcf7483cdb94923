/** Bundles the workflow code once, so workers start without webpack (prebundled in dist/ for production). */
import { bundleWorkflowCode } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

export function workflowsSourcePath(): string {
  // Works from the TypeScript sources (tests, tsx) and from dist/ after `npm run build`.
  const ts = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
  return existsSync(ts) ? ts : fileURLToPath(new URL('../workflows/index.js', import.meta.url));
}

/** Bundles Slipway's workflows, or another entry file that re-exports them (the benches add a baseline). */
export async function buildWorkflowBundle(workflowsPath = workflowsSourcePath()): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: quietLogger });
  return code;
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: (m: string) => console.error(m), log: noop };
