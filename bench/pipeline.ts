/**
 * The release the benches run: build, staging (no soak), tag, production (no approval), through
 * the real config parser. The bench worker's policy holds every app a bench releases; a release
 * names its app and build only, as every client does.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { parseConfig } from '../config/schema.js';
import { releaseWorkflowId } from '../core/ids.js';
import type { release } from '../workflows/release.js';
import type { ReleaseInput, ReleasePipeline } from '../workflows/types.js';

const UNUSED_GIT = '/tmp/slipway-bench-unused.git';

/** slipway.yaml with each of `apps` on the bench pipeline: the policy of the worker that releases them. */
export function benchPolicyText(apps: string[], gitUrl = UNUSED_GIT): string {
  return `
gitops: { url: "${gitUrl}", branch: main }
engine: { heartbeatTimeout: 10s, stepTimeout: 1m }
apps:
${apps.map((app) => appYaml(app)).join('')}`;
}

function appYaml(app: string): string {
  return `  ${app}:
    source: { github: bench/${app} }
    images: [bench/web, bench/api]
    build: { command: "make images" }
    environments:
      - name: staging
        overlay: overlays/staging
        argocd: { application: ${app}-staging, timeout: 1m }
        checks: []
      - name: production
        overlay: overlays/production
        argocd: { application: ${app}-production, timeout: 1m }
`;
}

/** The pipeline a release of `app` runs under that policy (the benches count its environments). */
export function benchPipeline(app: string, gitUrl = UNUSED_GIT): ReleasePipeline {
  const config = parseConfig(benchPolicyText([app], gitUrl), `${app} (bench)`);
  return { app, appConfig: config.apps[app]!, git: config.gitops, engine: config.engine };
}

export function startBenchRelease(
  client: Client,
  taskQueue: string,
  app: string,
  commit: string,
  extra: Partial<ReleaseInput> = {},
): Promise<WorkflowHandle<typeof release>> {
  const input: ReleaseInput = { app, commit, trigger: 'bench', ...extra };
  return client.workflow.start<typeof release>('release', { workflowId: releaseWorkflowId(app, commit), taskQueue, args: [input] });
}

export function benchCommit(): string {
  return Array.from({ length: 40 }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('');
}
