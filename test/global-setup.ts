/**
 * One real Temporal dev server for the whole suite, and the workflow bundle built once.
 * Test files connect to the server through the values provided here (see test/support/temporal.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { kustomizePath } from '../infra/kustomize.js';
import { startDevServer, type DevServer } from '../infra/temporal/dev-server.js';
import { buildWorkflowBundle } from '../worker/bundle-code.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalUiUrl: string;
    workflowBundlePath: string;
  }
}

let server: DevServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  const out = join(process.cwd(), 'test-output');
  mkdirSync(out, { recursive: true });
  // The gitops activities render every overlay edit with kustomize, found through SLIPWAY_KUSTOMIZE
  // or the PATH; test files, and the workers and demos they start, inherit this.
  process.env.SLIPWAY_KUSTOMIZE ??= kustomizePath();
  // For a focused run of tests that need no Temporal (pure logic, git, kube): SLIPWAY_TEST_TEMPORAL=off.
  if (process.env.SLIPWAY_TEST_TEMPORAL === 'off') {
    project.provide('temporalAddress', '');
    project.provide('temporalUiUrl', '');
    project.provide('workflowBundlePath', '');
    return;
  }
  server = await startDevServer({ ui: true, startTimeoutMs: 90_000, logFile: join(out, 'temporal-dev-server.log') });
  const bundlePath = join(out, 'workflow-bundle.js');
  writeFileSync(bundlePath, await buildWorkflowBundle());
  project.provide('temporalAddress', server.address);
  project.provide('temporalUiUrl', server.uiUrl ?? '');
  project.provide('workflowBundlePath', bundlePath);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}
