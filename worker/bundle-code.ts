/** Bundles the workflow code once, so workers start without webpack (prebundled in dist/ for production). */
import { bundleWorkflowCode } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

export function workflowsSourcePath(): string {
  // Works from the TypeScript sources (tests, tsx) and from dist/ after `npm run build`.
  const ts = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
  return existsSync(ts) ? ts : fileURLToPath(new URL('../workflows/index.js', import.meta.url));
}

export async function buildWorkflowBundle(): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath: workflowsSourcePath(), logger: quietLogger });
  return code;
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: (m: string) => console.error(m), log: noop };
