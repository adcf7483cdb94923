/**
 * The worker's last line of defence for its policy. Anyone who can call the Temporal API can start
 * any workflow type with any input, so an activity must never act on wiring it was handed — a git
 * remote, a token variable, a build command or a variable passed to it, a webhook variable, a
 * database variable — unless the worker's own policy holds exactly that wiring. Every activity
 * call passes through here first; a call with wiring the policy does not have is refused,
 * non-retryable, before it touches anything.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityExecuteInput, ActivityInterceptorsFactory, Next, ActivityInboundCallsInterceptor } from '@temporalio/worker';
import type { SlipwayConfig } from '../config/schema.js';
import { FailureType } from '../activities/types.js';
import { previewParent } from '../core/preview-name.js';

/** One piece of wiring an activity call asks for, as a comparable key. */
export type Wiring = {
  kind:
    | 'git'
    | 'source'
    | 'command'
    | 'buildEnv'
    | 'notify'
    | 'database'
    | 'argocd'
    | 'http'
    | 'prometheus'
    | 'directPush'
    | 'branchWrite'
    | 'gitopsGithub'
    | 'pullRequestTarget'
    | 'pullRequestAsk'
    | 'previewFolder'
    | 'previewBranch'
    | 'previewTemplate'
    | 'previewApplication';
  key: string;
};

const gitKey = (g: { url: string; branch: string; tokenFromEnv?: string }) => `${g.url}#${g.branch}#${g.tokenFromEnv ?? ''}`;
const sourceKey = (s: { repo: string; tokenFromEnv: string }) => `${s.repo.toLowerCase()}#${s.tokenFromEnv}`;
const argoKey = (a: { application: string; namespace: string }) => `${a.namespace}/${a.application}`;
const notifyKey = (c: unknown) => (typeof c === 'string' ? c : JSON.stringify(c));
/** A Prometheus and the token variable sent to it: the policy's pair, so a call cannot send one check's token to another server. */
const prometheusKey = (m: { prometheus?: unknown; tokenFromEnv?: unknown }) => JSON.stringify([String(m.prometheus), m.tokenFromEnv === undefined ? null : String(m.tokenFromEnv)]);
/** A write straight to the base branch, by what it is: a rollback may be let through where a promotion is not (pull-request mode's `rollback: push`). */
const directPushKey = (overlay: string, kind: unknown) => `${overlay}#${kind === 'rollback' ? 'rollback' : 'promote'}`;
/** The GitOps repository's pull requests, and the token they are opened, read, merged and closed with. */
const gitopsGithubKey = (p: { repo?: unknown; tokenFromEnv?: unknown }) => `${String(p.repo).toLowerCase()}#${String(p.tokenFromEnv)}`;
/** Slipway's branches only (pullRequestBranch), into the GitOps branch only. */
const PULL_REQUEST_HEAD = /^slipway\/[A-Za-z0-9._-]+\/[A-Za-z0-9._-]+$/;
const pullRequestTargetKey = (p: { head?: unknown; base?: unknown }) =>
  JSON.stringify([PULL_REQUEST_HEAD.test(String(p.head)) ? 'slipway/<release>/<environment>' : String(p.head), String(p.base)]);

/** Previews: the app and the folder its previews go in, or its template (never another app's). */
const previewFolderKey = (app: unknown, parent: unknown) => JSON.stringify([String(app), String(parent)]);
/** A preview's Application: the app's, in its Argo CD namespace, deploying its previews branch of the GitOps repository, into the namespace of its name. */
const previewApplicationKey = (p: Input) =>
  JSON.stringify([
    String(p.app),
    String(p.namespace),
    String(p.repoURL),
    String(p.targetRevision),
    String(p.project ?? 'default'),
    p.destination?.server === undefined ? null : String(p.destination.server),
    String(p.destination?.namespace) === String(p.application) && String(p.application).startsWith(`${String(p.app)}-`),
  ]);
const parentOf = (path: unknown) => String(path).replace(/\/+$/, '').split('/').slice(0, -1).join('/');
/** A preview Application's name: the app's name, a dash, a DNS label. */
const PREVIEW_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** One variable an app's build command is given: tied to the app and the command, so another app's list does not count. */
const buildEnvKey = (app: string, command: string, name: string) => JSON.stringify([app, command, name]);

/** Everything a policy allows its activities to use. */
export function allowedWiring(config: SlipwayConfig): Set<string> {
  const allowed = new Set<string>();
  const add = (w: Wiring) => allowed.add(`${w.kind}:${w.key}`);
  /** `<Argo CD namespace>/<app>-`: the previews' Applications, named when they start. */
  const previewPrefixes: string[] = [];
  add({ kind: 'git', key: gitKey(config.gitops) });
  for (const [appName, app] of Object.entries(config.apps)) {
    if (app.previews && app.source) {
      const previews = app.previews;
      add({ kind: 'git', key: gitKey({ ...config.gitops, branch: previews.branch }) });
      add({ kind: 'previewFolder', key: previewFolderKey(appName, previewParent(previews)) });
      add({ kind: 'previewBranch', key: previewFolderKey(appName, previews.branch) });
      add({ kind: 'previewTemplate', key: previewFolderKey(appName, previews.template.replace(/\/+$/, '')) });
      add({ kind: 'gitopsGithub', key: gitopsGithubKey({ repo: app.source.github, tokenFromEnv: app.source.tokenFromEnv }) });
      add({
        kind: 'previewApplication',
        key: previewApplicationKey({
          app: appName,
          namespace: previews.argocd.namespace,
          repoURL: config.gitops.url,
          targetRevision: previews.branch,
          project: previews.argocd.project,
          destination: { server: previews.argocd.server, namespace: `${appName}-x` },
          application: `${appName}-x`,
        }),
      });
      previewPrefixes.push(`${previews.argocd.namespace}/${appName}-`);
    }
    if (app.source) add({ kind: 'source', key: sourceKey({ repo: app.source.github, tokenFromEnv: app.source.tokenFromEnv }) });
    if (typeof app.build === 'object' && 'command' in app.build) {
      add({ kind: 'command', key: app.build.command });
      for (const name of app.build.env ?? []) add({ kind: 'buildEnv', key: buildEnvKey(appName, app.build.command, name) });
    }
    for (const env of app.environments) {
      add({ kind: 'argocd', key: argoKey(env.argocd) });
      // Pull-request mode (write:): the base branch takes this overlay only through a merged pull
      // request, except a rollback where the policy lets rollbacks push (`rollback: push`).
      if (env.write === undefined || env.write === 'push') {
        add({ kind: 'directPush', key: directPushKey(env.overlay, 'promote') });
        add({ kind: 'directPush', key: directPushKey(env.overlay, 'rollback') });
      } else {
        add({ kind: 'branchWrite', key: env.overlay });
        if (env.write.pullRequest.rollback === 'push') add({ kind: 'directPush', key: directPushKey(env.overlay, 'rollback') });
        const token = config.gitops.githubTokenFromEnv ?? config.gitops.tokenFromEnv;
        if (config.gitops.github && token) add({ kind: 'gitopsGithub', key: gitopsGithubKey({ repo: config.gitops.github, tokenFromEnv: token }) });
        add({ kind: 'pullRequestTarget', key: pullRequestTargetKey({ head: 'slipway/r/e', base: config.gitops.branch }) });
        for (const label of env.write.pullRequest.labels) add({ kind: 'pullRequestAsk', key: `label:${label}` });
        for (const reviewer of env.write.pullRequest.reviewers) add({ kind: 'pullRequestAsk', key: `reviewer:${reviewer}` });
      }
      for (const channel of Array.isArray(env.notify) ? env.notify : [env.notify]) add({ kind: 'notify', key: notifyKey(channel) });
      for (const check of env.checks) if ('http' in check) add({ kind: 'http', key: check.http.url });
      for (const check of env.checks) if ('metric' in check) add({ kind: 'prometheus', key: prometheusKey(check.metric) });
      if (env.backup) add({ kind: 'database', key: env.backup.postgres.urlFromEnv });
      if (env.backup?.verify) add({ kind: 'database', key: env.backup.verify.postgres.urlFromEnv });
    }
  }
  for (const prefix of previewPrefixes) allowed.add(`${PREVIEW_PREFIX}${prefix}`);
  return allowed;
}

const PREVIEW_PREFIX = 'argocdPreview:';

/** In the policy: named by it, or a preview Application of one of its apps (`<namespace>/<app>-<DNS label>`). */
function isAllowed(w: Wiring, allowed: Set<string>): boolean {
  if (allowed.has(`${w.kind}:${w.key}`)) return true;
  if (w.kind !== 'argocd') return false;
  for (const entry of allowed) {
    if (!entry.startsWith(PREVIEW_PREFIX)) continue;
    const prefix = entry.slice(PREVIEW_PREFIX.length);
    if (w.key.startsWith(prefix) && PREVIEW_NAME.test(w.key.slice(prefix.length))) return true;
  }
  return false;
}

type Input = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The wiring one activity call asks for, read from its input (activities not listed use none). */
export function wiringOf(activity: string, input: Input | undefined): Wiring[] {
  if (!input || typeof input !== 'object') return [];
  switch (activity) {
    case 'readOverlayImages':
      return [{ kind: 'git', key: gitKey(input.git ?? {}) }];
    case 'writeOverlayImages':
      return [
        { kind: 'git', key: gitKey(input.git ?? {}) },
        { kind: 'directPush', key: directPushKey(String(input.overlay), input.context?.kind) },
      ];
    case 'writeOverlayBranch':
      return [
        { kind: 'git', key: gitKey(input.git ?? {}) },
        { kind: 'branchWrite', key: String(input.overlay) },
      ];
    case 'readOverlayAtCommit':
      return [{ kind: 'git', key: gitKey(input.git ?? {}) }];
    case 'openPullRequest':
      return [
        { kind: 'gitopsGithub', key: gitopsGithubKey(input) },
        { kind: 'pullRequestTarget', key: pullRequestTargetKey(input) },
        ...(Array.isArray(input.labels) ? input.labels : input.labels === undefined ? [] : [null]).map((l: unknown) => ({ kind: 'pullRequestAsk' as const, key: `label:${String(l)}` })),
        ...(Array.isArray(input.reviewers) ? input.reviewers : input.reviewers === undefined ? [] : [null]).map((r: unknown) => ({ kind: 'pullRequestAsk' as const, key: `reviewer:${String(r)}` })),
      ];
    case 'pullRequestState':
    case 'mergePullRequest':
    case 'closePullRequest':
    case 'upsertComment':
      return [{ kind: 'gitopsGithub', key: gitopsGithubKey({ ...input, tokenFromEnv: input.tokenFromEnv ?? 'GITHUB_TOKEN' }) }];
    case 'writePreviewOverlay':
      return [
        { kind: 'git', key: gitKey(input.git ?? {}) },
        { kind: 'previewFolder', key: previewFolderKey(input.context?.app, parentOf(input.path)) },
        { kind: 'previewBranch', key: previewFolderKey(input.context?.app, input.git?.branch) },
        { kind: 'previewTemplate', key: previewFolderKey(input.context?.app, String(input.template).replace(/\/+$/, '')) },
      ];
    case 'removePreviewOverlay':
      return [
        { kind: 'git', key: gitKey(input.git ?? {}) },
        { kind: 'previewFolder', key: previewFolderKey(input.context?.app, parentOf(input.path)) },
        { kind: 'previewBranch', key: previewFolderKey(input.context?.app, input.git?.branch) },
      ];
    case 'ensurePreviewApplication':
      return [
        { kind: 'previewApplication', key: previewApplicationKey(input) },
        { kind: 'argocd', key: argoKey({ application: String(input.application), namespace: String(input.namespace) }) },
      ];
    case 'deletePreviewApplication':
      return [{ kind: 'argocd', key: String(input.application).startsWith(`${String(input.app)}-`) ? argoKey({ application: String(input.application), namespace: String(input.namespace) }) : '' }];
    case 'refreshApplication':
      return [{ kind: 'argocd', key: argoKey(input.app ?? {}) }];
    case 'waitForHealthy':
      return [
        { kind: 'argocd', key: argoKey(input.app ?? {}) },
        { kind: 'git', key: gitKey(input.git ?? {}) },
      ];
    case 'triggerBuild':
    case 'createReleaseTag':
    case 'nextVersion':
    case 'reportDeployment':
      return [{ kind: 'source', key: sourceKey(input.source ?? {}) }];
    case 'runBuildCommand':
      // Each variable asked for must be one the policy passes to this app's command. Asking for
      // fewer (none: a release recorded before builds had a list) gives the build less, never more;
      // anything but a list of names cannot match.
      return [
        { kind: 'command', key: String(input.command) },
        ...(input.env === undefined ? [] : Array.isArray(input.env) ? input.env : [null]).map((name: unknown) => ({
          kind: 'buildEnv' as const,
          key: typeof name === 'string' ? buildEnvKey(String(input.app), String(input.command), name) : '',
        })),
      ];
    case 'httpCheck':
      return [{ kind: 'http', key: String(input.url) }];
    case 'metricCheck':
      return [{ kind: 'prometheus', key: prometheusKey(input) }];
    case 'notify':
      return (Array.isArray(input.channels) ? input.channels : []).map((c: unknown) => ({ kind: 'notify' as const, key: notifyKey(c) }));
    case 'takeBackup':
      return [{ kind: 'database', key: String(input.databaseUrlFromEnv) }];
    case 'verifyBackup':
      // The scratch server is a database the worker connects to as well: the policy must name it.
      return [
        { kind: 'database', key: String(input.databaseUrlFromEnv) },
        ...(input.verifyUrlFromEnv !== undefined ? [{ kind: 'database' as const, key: String(input.verifyUrlFromEnv) }] : []),
      ];
    default:
      return [];
  }
}

/** What is not allowed, in words that name the field but never a value read from the environment. */
export function refusedWiring(activity: string, input: Input | undefined, allowed: Set<string>): string[] {
  return wiringOf(activity, input)
    .filter((w) => !isAllowed(w, allowed))
    .map((w) =>
      w.kind === 'directPush'
        ? `${activity}: overlay ${w.key.slice(0, w.key.lastIndexOf('#'))} belongs to an environment in pull-request mode (write:), which takes ${w.key.endsWith('#rollback') ? 'rollbacks' : 'changes'} through pull requests only: nothing was pushed`
        : `${activity}: the ${WIRING_WORDS[w.kind]} it was given is not in the worker's policy`,
    );
}

const WIRING_WORDS: Record<Wiring['kind'], string> = {
  git: 'GitOps repository (url, branch, token variable)',
  source: 'source repository (repo, token variable)',
  command: 'build command',
  buildEnv: "variables passed to the build command (the policy's build.env for that app)",
  notify: 'notification channel',
  database: 'database variable',
  argocd: 'Argo CD Application',
  http: 'check URL',
  prometheus: 'Prometheus (URL, token variable)',
  directPush: 'overlay pushed to directly',
  branchWrite: 'overlay of an environment in pull-request mode',
  gitopsGithub: 'GitOps repository on GitHub (repo, token variable)',
  pullRequestTarget: "pull request's head and base (a Slipway branch into the GitOps branch)",
  pullRequestAsk: 'label or reviewer (the environment\'s pullRequest labels and reviewers)',
  previewFolder: "folder of the app's previews",
  previewBranch: "branch of the app's previews",
  previewTemplate: "template of the app's previews",
  previewApplication: "preview Application (the app's Argo CD namespace and project, the previews branch, a namespace of its name)",
};

/** Checks each call against every policy version the worker has read (releases may run under older ones). */
export class PolicyGuard {
  private allowed = new Set<string>();
  private seenVersions = 0;

  constructor(private readonly versions: () => Array<{ config: SlipwayConfig }>) {}

  check(activity: string, input: Input | undefined): void {
    const versions = this.versions();
    if (versions.length !== this.seenVersions) {
      this.allowed = new Set(versions.flatMap((v) => [...allowedWiring(v.config)]));
      this.seenVersions = versions.length;
    }
    const problems = refusedWiring(activity, input, this.allowed);
    if (problems.length > 0) throw ApplicationFailure.nonRetryable(problems.join('; '), FailureType.RequestRefused);
  }

  /** The worker interceptor: the activity's name comes from its context, its input is the first argument. */
  interceptor(): ActivityInterceptorsFactory {
    return (ctx) => ({
      inbound: {
        execute: async (input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>) => {
          this.check(ctx.info.activityType, input.args[0] as Input | undefined);
          return next(input);
        },
      },
    });
  }
}
