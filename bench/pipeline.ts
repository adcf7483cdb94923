/** The release the benches run: build, staging (no soak), tag, production (no approval), through the real config parser. */
import { parseConfig } from '../config/schema.js';
import type { ReleasePipeline } from '../workflows/types.js';

export function benchPipeline(app: string, gitUrl = '/tmp/slipway-bench-unused.git'): ReleasePipeline {
  const config = parseConfig(
    `
gitops: { url: "${gitUrl}", branch: main }
engine: { heartbeatTimeout: 10s, stepTimeout: 1m }
apps:
  ${app}:
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
`,
    `${app} (bench)`,
  );
  return { app, appConfig: config.apps[app]!, git: config.gitops, engine: config.engine };
}

export function benchCommit(): string {
  return Array.from({ length: 40 }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('');
}
