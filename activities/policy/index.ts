/**
 * Reading the worker's pipeline policy: what a release of an app runs under, what an environment's
 * gates are, and (for the CLI and the webhook, which hold no copy) which apps and environments
 * exist. Read-only; the answer is recorded in the asking workflow's history, so a release keeps
 * the version it started with.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { SlipwayConfig } from '../../config/schema.js';
import { FailureType, type AppPolicy, type EnvironmentPolicy, type PolicyActivities, type PolicySummary } from '../types.js';
import type { PolicyStore, PolicyVersion } from './store.js';

export { PolicyStore, policyHash, policySourceFromEnv, type PolicySource, type PolicyVersion } from './store.js';

export function createPolicyActivities(store: PolicyStore): PolicyActivities {
  return {
    async releasePolicy({ app, version }) {
      return appPolicy(await store.version(version), app);
    },
    async environmentPolicy({ app, environment, version }) {
      const policy = appPolicy(await store.version(version), app);
      const index = policy.appConfig.environments.findIndex((e) => e.name === environment);
      const env = policy.appConfig.environments[index];
      if (!env) throw refused(`${app} has no environment "${environment}" in the worker's policy (${policy.source})`);
      const result: EnvironmentPolicy = {
        version: policy.version,
        source: policy.source,
        ...(policy.commit ? { commit: policy.commit } : {}),
        app,
        environment: env,
        ...(index > 0 ? { previous: policy.appConfig.environments[index - 1]!.name } : {}),
        overrides: policy.appConfig.promotion.allowOverride,
        images: policy.appConfig.images,
        git: policy.git,
        engine: policy.engine,
        ...(policy.appConfig.source ? { sourceRepo: { repo: policy.appConfig.source.github, tokenFromEnv: policy.appConfig.source.tokenFromEnv } } : {}),
      };
      return result;
    },
    async describePolicy() {
      return summarize(await store.current());
    },
  };
}

function appPolicy(policy: PolicyVersion, app: string): AppPolicy {
  const appConfig = policy.config.apps[app];
  if (!appConfig) throw refused(`no app "${app}" in the worker's policy (${policy.source}; known: ${Object.keys(policy.config.apps).join(', ')})`);
  return {
    version: policy.version,
    source: policy.source,
    ...(policy.commit ? { commit: policy.commit } : {}),
    app,
    appConfig,
    git: policy.config.gitops,
    engine: policy.config.engine,
  };
}

/** What clients may know: names, gates and triggers; no wiring (remotes, commands, variables). */
export function summarize(policy: { version: string; source: string; commit?: string; config: SlipwayConfig }): PolicySummary {
  return {
    version: policy.version,
    source: policy.source,
    ...(policy.commit ? { commit: policy.commit } : {}),
    apps: Object.fromEntries(
      Object.entries(policy.config.apps).map(([name, app]) => [
        name,
        {
          ...(app.source ? { source: app.source.github } : {}),
          tag: app.tag,
          triggers: app.triggers,
          ...(app.previews && app.source ? { previews: true } : {}),
          environments: app.environments.map((e) => ({
            name: e.name,
            ...(e.approval ? { approval: { required: e.approval.required, timeout: e.approval.timeout } } : {}),
            freezeWindows: e.freeze.length,
            checks: e.checks.length,
            backup: Boolean(e.backup),
            ...(typeof e.write === 'object' && policy.config.gitops.github ? { pullRequests: { repo: policy.config.gitops.github } } : {}),
          })),
        },
      ]),
    ),
  };
}

function refused(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, FailureType.RequestRefused);
}
