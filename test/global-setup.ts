/**
 * One real Temporal dev server and one real cluster (Kubernetes control plane, kwok nodes, the
 * real Argo CD) for the whole suite, and the workflow bundle built once. Test files connect
 * through the values provided here (see test/support/temporal.ts and test/support/cluster.ts).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startRealCluster, type RealCluster } from '../infra/cluster/index.js';
import { kustomizePath } from '../infra/kustomize.js';
import { startDevServer, type DevServer } from '../infra/temporal/dev-server.js';
import { buildWorkflowBundle } from '../worker/bundle-code.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalUiUrl: string;
    workflowBundlePath: string;
    /** JSON of infra/cluster ClusterInfo; empty when the cluster is off. */
    cluster: string;
  }
}

let server: DevServer | undefined;
let cluster: RealCluster | undefined;

export async function setup(project: TestProject): Promise<void> {
  const out = join(process.cwd(), 'test-output');
  mkdirSync(out, { recursive: true });
  // The gitops activities render every overlay edit with kustomize, found through SLIPWAY_KUSTOMIZE
  // or the PATH; test files, and the workers and demos they start, inherit this.
  process.env.SLIPWAY_KUSTOMIZE ??= kustomizePath();
  // For a focused run of tests that need no Temporal (pure logic, git, kube): SLIPWAY_TEST_TEMPORAL=off.
  // The cluster is off with Temporal off, unless asked for (SLIPWAY_TEST_CLUSTER=on), and can be
  // turned off alone (SLIPWAY_TEST_CLUSTER=off) for a focused run that needs only Temporal.
  const temporalOn = process.env.SLIPWAY_TEST_TEMPORAL !== 'off';
  const clusterOn = process.env.SLIPWAY_TEST_CLUSTER === 'on' || (temporalOn && process.env.SLIPWAY_TEST_CLUSTER !== 'off');
  // A fresh cluster each run (a previous run's Applications must not reappear); its logs stay in
  // test-output/cluster until the next run.
  rmSync(join(out, 'cluster'), { recursive: true, force: true });
  const startingCluster = clusterOn ? startRealCluster({ dir: join(out, 'cluster'), log: (l) => console.log(l) }) : undefined;
  project.provide('cluster', '');
  if (!temporalOn) {
    project.provide('temporalAddress', '');
    project.provide('temporalUiUrl', '');
    project.provide('workflowBundlePath', '');
  } else {
    try {
      server = await startDevServer({ ui: true, startTimeoutMs: 90_000, logFile: join(out, 'temporal-dev-server.log') });
    } catch (err) {
      await startingCluster?.then((c) => c.stop()).catch(() => undefined);
      throw err;
    }
    const bundlePath = join(out, 'workflow-bundle.js');
    writeFileSync(bundlePath, await buildWorkflowBundle());
    project.provide('temporalAddress', server.address);
    project.provide('temporalUiUrl', server.uiUrl ?? '');
    project.provide('workflowBundlePath', bundlePath);
  }
  if (startingCluster) {
    cluster = await startingCluster;
    const { url, caFile, kubeconfigPath, versions } = cluster;
    project.provide('cluster', JSON.stringify({ url, caFile, kubeconfigPath, versions }));
  }
}

export async function teardown(): Promise<void> {
  await cluster?.stop();
  await server?.stop();
}

