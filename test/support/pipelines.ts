/** Building release pipelines for workflow tests from slipway.yaml text, through the real config parser. */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { parseConfig } from '../../config/schema.js';
import { releaseWorkflowId } from '../../core/ids.js';
import { imagesForCommit } from '../../core/images.js';
import { asReadyCommit } from '../../infra/cluster/kwok.js';
import type { ReleaseInput, ReleasePipeline } from '../../workflows/types.js';
import type { release } from '../../workflows/release.js';
import { FakeWorld } from './fake-world.js';
import { suitePolicy, WORKFLOW_TEST_HEADER, type TestPolicy } from './policy.js';

export const IMAGES = ['shop/web', 'shop/api'];

export function uniqueApp(prefix = 'shop'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export function commitSha(): string {
  // Never one the real cluster takes for a bad build (test/support/cluster.ts unreadyBuild).
  return asReadyCommit((randomUUID() + randomUUID()).replace(/-/g, '').slice(0, 40));
}

/**
 * A pipeline for `app` whose environments are given as YAML (indented list items). The app is
 * added to the suite's policy file too: workers read their pipelines from there, not from here.
 */
export function pipelineFromYaml(app: string, environmentsYaml: string, extra = '', policy: TestPolicy = suitePolicy()): ReleasePipeline {
  const appYaml = `  ${app}:
    source: { github: example/${app} }
    images: [${IMAGES.join(', ')}]
${extra}
    environments:
${environmentsYaml.replaceAll('APP', app)}`;
  const config = parseConfig(`${WORKFLOW_TEST_HEADER}\napps:\n${appYaml}\n`, `${app}.slipway.yaml`);
  policy.addApp(app, appYaml);
  return { app, appConfig: config.apps[app]!, git: config.gitops, engine: config.engine };
}

export const STAGING_AND_PRODUCTION = (opts: { stagingChecks?: string; production?: string } = {}) => `
      - name: staging
        overlay: overlays/staging
        argocd: { application: APP-staging, timeout: 20s }
        checks: ${opts.stagingChecks ?? '[ { soak: 1s } ]'}
      - name: production
        overlay: overlays/production
        argocd: { application: APP-production, timeout: 20s }
${opts.production ?? ''}`;

/** A fresh world whose overlays hold `old` images, with Argo CD applications named after the app. */
export function newWorld(app: string, overlays = ['overlays/staging', 'overlays/production']): FakeWorld {
  const world = new FakeWorld(mkdtempSync(join(tmpdir(), 'slipway-world-')));
  const initial = Object.fromEntries(overlays.map((o) => [o, imagesForCommit(IMAGES, 'old0000000000000000000000000000000000000')]));
  const applications = Object.fromEntries(overlays.map((o) => [`${app}-${o.split('/').at(-1)}`, o]));
  world.setRules({ initial, applications });
  return world;
}

/**
 * Adds an app to a world several apps share: its overlays `<app>/staging` and `<app>/production`
 * with `old` images, and their Argo CD Applications `<app>-staging` and `<app>-production` (what a
 * pipeline built with `overlay: APP/staging` and `application: APP-staging` names).
 */
export function addAppToWorld(world: FakeWorld, app: string): string[] {
  const overlays = [`${app}/staging`, `${app}/production`];
  const rules = world.rules();
  world.setRules({
    ...rules,
    initial: { ...rules.initial, ...Object.fromEntries(overlays.map((o) => [o, imagesForCommit(IMAGES, 'old0000000000000000000000000000000000000')])) },
    applications: { ...rules.applications, ...Object.fromEntries(overlays.map((o) => [o.replace('/', '-'), o])) },
  });
  return overlays;
}

export async function startRelease(
  client: Client,
  taskQueue: string,
  pipeline: ReleasePipeline,
  commit: string,
  extra: Partial<ReleaseInput> = {},
): Promise<WorkflowHandle<typeof release>> {
  const input: ReleaseInput = { app: pipeline.app, commit, trigger: 'test', ...extra };
  return client.workflow.start<typeof release>('release', {
    workflowId: releaseWorkflowId(pipeline.app, commit),
    taskQueue,
    args: [input],
    workflowExecutionTimeout: '10m',
  });
}

/** Waits until `predicate` holds for the value `probe` returns, polling every 100 ms. */
export async function eventually<T>(probe: () => Promise<T>, predicate: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (predicate(last)) return last;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last)}${lastError ? `; last error: ${String(lastError)}` : ''}`);
}

/**
 * The policy entry (under `apps:`) of an app whose one environment, production, is in
 * pull-request mode with `write` (its YAML flow mapping), for pull-request mode's tests.
 */
export function pullRequestAppYaml(app: string, o: { images: string[]; overlay: string; application: string; write: string; timeout?: string }): string {
  return `  ${app}:
    images: [${o.images.join(', ')}]
    build: none
    environments:
      - name: production
        overlay: ${o.overlay}
        argocd: { application: ${o.application}, namespace: argocd${o.timeout ? `, timeout: ${o.timeout}` : ''} }
        notify: log
        write: ${o.write}`;
}
