/**
 * The real activities, one factory per outside system, wired from the worker's environment:
 * the GitOps repository through git, Argo CD through the Kubernetes API (KUBECONFIG, or the
 * in-cluster service account), GitHub through its API, notifications, checks, backups, and
 * Temporal itself for handing requests to environment workflows.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { createArgoActivities, createPreviewApplicationActivities } from '../activities/argocd/index.js';
import { defaultBackupActivities } from '../activities/backup/index.js';
import { createBuildActivities } from '../activities/build/index.js';
import { createCheckActivities } from '../activities/checks/index.js';
import { createControlActivities } from '../activities/control/index.js';
import { createGithubActivities, createPullRequestActivities } from '../activities/github/index.js';
import { createGitopsActivities, createPreviewWriteActivities, createPullRequestWriteActivities, isAncestor } from '../activities/gitops/index.js';
import { createNotifyActivities } from '../activities/notify/index.js';
import type {
  BackupActivities,
  PreviewApplicationActivities,
  PreviewWriteActivities,
  PullRequestActivities,
  PullRequestWriteActivities,
  SlipwayActivities,
} from '../activities/types.js';
import type { TemporalSettings } from '../config/temporal.js';

export function loadKubeConfig(env: NodeJS.ProcessEnv = process.env): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (env.KUBECONFIG) kubeConfig.loadFromFile(env.KUBECONFIG);
  else if (env.KUBERNETES_SERVICE_HOST) kubeConfig.loadFromCluster();
  else kubeConfig.loadFromDefault();
  return kubeConfig;
}

export interface ActivityWiring {
  settings: TemporalSettings;
  kubeConfig?: KubeConfig;
  env?: NodeJS.ProcessEnv;
}

export function createActivities({
  settings,
  kubeConfig,
  env = process.env,
}: ActivityWiring): SlipwayActivities & BackupActivities & PullRequestActivities & PullRequestWriteActivities & PreviewWriteActivities & PreviewApplicationActivities {
  const gitTimeoutMs = gitTimeoutFromEnv(env);
  const cluster = kubeConfig ?? loadKubeConfig(env);
  return {
    ...createGitopsActivities({ gitTimeoutMs }),
    ...createPullRequestWriteActivities({ gitTimeoutMs }),
    ...createPreviewWriteActivities({ gitTimeoutMs }),
    ...createPullRequestActivities({ uiUrl: settings.uiUrl, namespace: settings.namespace }),
    ...createArgoActivities({ kubeConfig: cluster, isAncestor }),
    ...createPreviewApplicationActivities({ kubeConfig: cluster }),
    ...createGithubActivities(),
    ...createBuildActivities(),
    ...createCheckActivities(),
    ...createNotifyActivities({ uiUrl: settings.uiUrl, namespace: settings.namespace }),
    ...createControlActivities(),
    ...defaultBackupActivities(env),
  };
}

/** SLIPWAY_GIT_TIMEOUT_MS: the deadline of each git command (default 60000); a bad value stops the worker at start-up. */
export function gitTimeoutFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.SLIPWAY_GIT_TIMEOUT_MS;
  if (raw === undefined || raw === '') return undefined;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 1000) throw new Error(`SLIPWAY_GIT_TIMEOUT_MS=${raw}: give the deadline of each git command in milliseconds, at least 1000`);
  return ms;
}
