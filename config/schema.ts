/**
 * The slipway.yaml schema. Parsing turns the file into a typed, fully-defaulted `SlipwayConfig`;
 * any mistake becomes a ConfigError naming the file, the path inside it and what was expected.
 * Secrets never appear here: the file names environment variables (`...FromEnv`) that hold them.
 */
import { parseDocument, LineCounter } from 'yaml';
import { z } from 'zod';
import { durationProblem, formatDuration, parseDuration } from '../core/duration.js';
import { previewPatternProblem } from '../core/preview-name.js';
import { parseCondition } from '../core/metric-condition.js';
import { roundsOf } from '../core/metric-verdict.js';
import { parseTemplate, variablesOf } from '../core/promql-template.js';
import { parseCron, CronError } from '../core/cron.js';
import { urlCredentialProblem } from '../core/redact-url.js';
import { findAliasProblem, MAX_EXPANDED_NODES } from './yaml-aliases.js';

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: Array<{ path: string; message: string; line?: number }>,
  ) {
    super(
      `${file}: invalid configuration\n` +
        problems.map((p) => `  - ${p.path || '(root)'}${p.line ? ` (line ${p.line})` : ''}: ${p.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

const duration = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: durationProblem(text)! });
    return z.NEVER;
  }
  return ms;
});

const envVarName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected the name of an environment variable (letters, digits, _)');

/** What every build command is given by Slipway itself, never taken from the worker. */
const BUILD_OWN_VARIABLES = ['HOME', 'TMPDIR', 'SLIPWAY_COMMIT', 'SLIPWAY_APP'];

const cronExpression = z.string().superRefine((text, ctx) => {
  try {
    parseCron(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `invalid cron "${text}": ${(err as CronError).message}` });
  }
});

/** A URL written in the file: credentials in it (or, with queryTokens, in its query) are refused, never echoed. */
const noCredentials = (options: { queryTokens?: boolean } = {}) => (url: string, ctx: z.RefinementCtx) => {
  const problem = urlCredentialProblem(url, options);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
};

const name = z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'expected a lowercase name (a-z, 0-9, -)');

/**
 * A PromQL query checked against a condition every `interval` for `for` (core/metric-verdict.ts
 * says how rounds become a verdict). The query may use the release's variables inside quoted
 * label values (core/promql-template.ts); `{{namespace}}` needs the environment's `namespace`.
 */
const metricCheck = z
  .strictObject({
    /** What the value is, in the failure message ("error rate"). */
    name: z.string().min(1).max(80).optional(),
    /** Prometheus' base URL (its HTTP API is under /api/v1); no credentials in it. */
    prometheus: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).superRefine(noCredentials({ queryTokens: true })),
    /** A worker variable holding a bearer token for Prometheus (sent as Authorization: Bearer). */
    tokenFromEnv: envVarName.optional(),
    query: z.string().min(1).superRefine((text, ctx) => {
      const parsed = parseTemplate(text);
      if ('problems' in parsed) for (const message of parsed.problems) ctx.addIssue({ code: 'custom', message });
    }),
    condition: z.string().superRefine((text, ctx) => {
      const parsed = parseCondition(text);
      if ('problem' in parsed) ctx.addIssue({ code: 'custom', message: parsed.problem });
    }),
    interval: duration.prefault('10s'),
    for: duration.prefault('1m'),
    /** Rounds whose value misses the condition (or has no data, with noData: fail) that are tolerated. */
    failuresAllowed: z.number().int().min(0).default(0),
    /** A round with no data: a bad round (`fail`), a good one (`pass`), or neither until `for` ends (`wait`). */
    noData: z.enum(['fail', 'pass', 'wait']).default('fail'),
    /** Each request to Prometheus, retried within the round (default 5s, or the interval when shorter). */
    timeout: duration.optional(),
    /** Rounds in a row in which Prometheus may give no answer (down, 5xx, too slow) before the check fails. */
    unavailableAllowed: z.number().int().min(0).default(2),
  })
  .superRefine((m, ctx) => {
    if (typeof m.interval !== 'number' || typeof m.for !== 'number') return;
    if (m.interval < 1000) {
      ctx.addIssue({ code: 'custom', path: ['interval'], message: `expected at least 1s, got ${formatDuration(m.interval)}` });
      return;
    }
    if (m.interval > m.for) {
      ctx.addIssue({ code: 'custom', path: ['interval'], message: `interval ${formatDuration(m.interval)} is longer than for ${formatDuration(m.for)}: not one round would fit` });
      return;
    }
    if (m.timeout !== undefined && m.timeout > m.interval) {
      ctx.addIssue({ code: 'custom', path: ['timeout'], message: `timeout ${formatDuration(m.timeout)} is longer than interval ${formatDuration(m.interval)}: a request must end within its round` });
    }
    const rounds = roundsOf(m.for, m.interval);
    if (m.failuresAllowed >= rounds) {
      ctx.addIssue({ code: 'custom', path: ['failuresAllowed'], message: `${m.failuresAllowed} of ${rounds} rounds may fail: the check could never fail on its value` });
    }
  })
  .transform(({ timeout, ...m }) => ({ ...m, timeout: timeout ?? Math.min(5000, m.interval) }));

const checkOptions = {
  soak: z.strictObject({ soak: duration }),
  http: z.strictObject({
    http: z.strictObject({
      url: z.url().superRefine(noCredentials({ queryTokens: true })),
      expectStatus: z.number().int().min(100).max(599).default(200),
      timeout: duration.prefault('10s'),
      attempts: z.number().int().min(1).max(100).default(3),
      interval: duration.prefault('5s'),
    }),
  }),
  metric: z.strictObject({ metric: metricCheck }),
};
type CheckOutput = z.output<(typeof checkOptions)[keyof typeof checkOptions]>;

/**
 * A check is the kind its one key names, so a mistake inside it is reported at its own field and
 * line (a plain union of the kinds could only say that the entry matches none of them).
 */
const checkSchema = z.unknown().transform((entry, ctx): CheckOutput => {
  const keys = entry && typeof entry === 'object' && !Array.isArray(entry) ? Object.keys(entry) : [];
  const kind = keys.length === 1 && Object.hasOwn(checkOptions, keys[0]!) ? (keys[0] as keyof typeof checkOptions) : undefined;
  if (!kind) {
    ctx.addIssue({ code: 'custom', message: 'expected one check: { soak: … }, { http: … } or { metric: … }' });
    return z.NEVER;
  }
  const result = checkOptions[kind].safeParse(entry);
  if (result.success) return result.data;
  for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  return z.NEVER;
});

const webhookTarget = z.strictObject({ urlFromEnv: envVarName });
const notifyChannel = z.union([
  z.literal('log'),
  z.strictObject({ discord: webhookTarget }),
  z.strictObject({ slack: webhookTarget }),
]);

/**
 * How an environment's overlay commit reaches the GitOps branch: `push` (a direct push, never
 * forced; also when absent), or through a pull request for a protected branch: the commit goes on
 * a branch of its own and a PR is opened for it (`pull-request` takes every default).
 */
const pullRequestMode = z.strictObject({
  /**
   * Slipway merges the PR itself (GitHub's merge API, at the head it wrote) once GitHub lets it:
   * required reviews and checks still hold, and a base that takes changes through a merge queue
   * is left to the queue. Without it a person merges.
   */
  autoMerge: z.boolean().default(false),
  mergeMethod: z.enum(['merge', 'squash', 'rebase']).default('merge'),
  /**
   * How soon the promotion first asks GitHub what became of its PR when no webhook delivery said
   * so (a lost delivery); each later look waits twice as long, up to 15 minutes.
   */
  poll: duration.prefault('1m'),
  /**
   * How a rollback reaches the base: through a rollback PR of its own (`pull-request`, also when
   * absent), or pushed straight to it (`push`, where the branch protection lets Slipway bypass it
   * so that a broken environment is not left waiting for a review).
   */
  rollback: z.enum(['pull-request', 'push']).default('pull-request'),
  labels: z.array(z.string().min(1).max(50)).default([]),
  /** GitHub logins and `org/team` slugs asked to review. */
  reviewers: z.array(z.string().regex(/^[A-Za-z0-9-]+(\/[\w.-]+)?$/, 'expected a GitHub login or org/team')).default([]),
});
type PullRequestModeOutput = z.output<typeof pullRequestMode>;
/** Dispatched by hand like checkSchema, so a mistake inside `pullRequest` is reported at its own field. */
const writeMode = z.unknown().transform((entry, ctx): 'push' | { pullRequest: PullRequestModeOutput } => {
  if (entry === 'push') return 'push';
  const isPullRequestEntry = !!entry && typeof entry === 'object' && !Array.isArray(entry) && Object.keys(entry).join() === 'pullRequest';
  const options = entry === 'pull-request' ? {} : isPullRequestEntry ? ((entry as { pullRequest: unknown }).pullRequest ?? {}) : undefined;
  if (options === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected push, pull-request or { pullRequest: { … } }' });
    return z.NEVER;
  }
  const result = pullRequestMode.safeParse(options);
  if (result.success) return { pullRequest: result.data };
  for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: ['pullRequest', ...issue.path] });
  return z.NEVER;
});

const environmentSchema = z.strictObject({
  name,
  overlay: z.string().min(1).refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), {
    message: 'expected a path inside the GitOps repository (relative, no "..")',
  }),
  argocd: z.strictObject({
    application: name,
    namespace: name.default('argocd'),
    sync: z.boolean().default(false),
    timeout: duration.prefault('10m'),
    /**
     * A sync already running when Slipway asks for one: `wait` for it to end (default), or
     * `terminate` it first. `rollback` applies to the sync of a rollback, which should not wait
     * behind the sync of the build it undoes (default `terminate`).
     */
    runningSync: z
      .strictObject({ promote: z.enum(['wait', 'terminate']).default('wait'), rollback: z.enum(['wait', 'terminate']).default('terminate') })
      .prefault({}),
  }),
  /** The Kubernetes namespace the environment's app runs in: `{{namespace}}` in metric queries. */
  namespace: name.optional(),
  checks: z.array(checkSchema).default([]),
  approval: z
    .strictObject({
      required: z.boolean().default(true),
      timeout: duration.prefault('24h'),
      /** Who may decide: GitHub logins and `org/team` slugs. Absent: anyone the channels let through. */
      approvers: z
        .strictObject({
          users: z.array(z.string().regex(/^[A-Za-z0-9-]+$/, 'expected a GitHub login')).default([]),
          teams: z.array(z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'expected org/team')).default([]),
        })
        .optional(),
      /** How many different people must approve. */
      count: z.number().int().min(1).max(10).default(1),
      /** The person who asked for the release may not approve it. */
      fourEyes: z.boolean().default(true),
      /**
       * Which channels count: `github` (a comment checked against GitHub by the worker), `cli` and
       * `ui` (a name the caller gives; restrict who may reach the Temporal API to trust them).
       */
      channels: z.array(z.enum(['github', 'cli', 'ui'])).min(1).default(['github', 'cli', 'ui']),
    })
    .optional(),
  freeze: z
    .array(z.strictObject({ cron: cronExpression, duration, reason: z.string().optional() }))
    .default([]),
  /** An explicit rollback is an emergency: by default it goes through freeze windows and needs no approval. */
  rollback: z
    .strictObject({
      freeze: z.enum(['ignore', 'respect']).default('ignore'),
      approval: z.boolean().default(false),
      /**
       * After a rollback was refused because someone else changed the overlay (the environment
       * needs a person): whether an explicit `slipway rollback` or `promote --force` may go past
       * that (`allow`), or a person must `slipway resolve` first (`refuse`, also when absent).
       */
      afterConflict: z.enum(['allow', 'refuse']).optional(),
    })
    .prefault({}),
  notify: z.union([notifyChannel, z.array(notifyChannel)]).default('log'),
  /** `push` when absent (see writeMode). */
  write: writeMode.optional(),
  backup: z
    .strictObject({
      schedule: cronExpression,
      postgres: z.strictObject({ urlFromEnv: envVarName }),
      keep: z.number().int().min(1).default(7),
      /** Verified backups younger than this many days are kept even beyond `keep`; one is deleted only when both say so. 0: by count only. */
      keepDays: z.number().min(0).default(0),
      /** A backup whose total row count fell by more than this fraction since the last verified one is flagged, not verified (1: only an empty database is). */
      maxShrink: z.number().min(0).max(1).default(0.5),
      /**
       * Where verification restores: a PostgreSQL server of its own, its URL in this worker variable
       * (its user needs CREATEDB there; the server at least the source's major). The source's
       * credential then only reads. Absent: a scratch database on the source server, whose credential
       * then needs CREATEDB.
       */
      verify: z.strictObject({ postgres: z.strictObject({ urlFromEnv: envVarName }) }).optional(),
      catchupWindow: duration.prefault('1h'),
    })
    .optional(),
});

const imageSchema = z.union([
  z.string().min(1),
  z.strictObject({ name: z.string().min(1), newName: z.string().min(1).optional() }),
]);

/**
 * A preview environment for every open pull request of the app's source repository: an overlay
 * made from `template` for the pull request's head commit, deployed by an Argo CD Application of
 * its own, removed when the pull request closes or after `ttl` without a push.
 */
const previewsSchema = z.strictObject({
  /** The overlay folder each preview's overlay is made from (its namespace and image tags replaced). */
  template: z.string().min(1),
  /** The folder the previews' folders go in (`<path>/<name>`); default: `previews` beside the template. */
  path: z.string().min(1).optional(),
  /** The GitOps branch previews are written to, so a protected `gitops.branch` never takes them. */
  branch: z.string().min(1).default('slipway/previews'),
  /** A preview's name (its folder; its namespace and Application are `<app>-<name>`). */
  name: z
    .string()
    .default('pr-{number}')
    .superRefine((pattern, ctx) => {
      const problem = previewPatternProblem(pattern);
      if (problem) ctx.addIssue({ code: 'custom', message: `the name pattern ${problem}` });
    }),
  /** A preview without a push for this long is removed (it also covers a close whose delivery was lost). */
  ttl: duration.prefault('72h'),
  /** How often a preview asks GitHub whether its pull request is still open, besides the webhook. */
  check: duration.prefault('1h'),
  /** Previews up at once for the app. */
  max: z.number().int().min(1).max(100).default(5),
  /** A pull request opened at `max`: the preview idle longest is removed for it, or it waits for a free place. */
  atMax: z.enum(['remove-oldest', 'wait']).default('remove-oldest'),
  argocd: z
    .strictObject({
      namespace: z.string().min(1).default('argocd'),
      project: z.string().min(1).default('default'),
      /** The cluster previews deploy to (default: the one Argo CD runs in). */
      server: z.string().url().optional(),
      timeout: duration.prefault('10m'),
    })
    .prefault({}),
  /** The preview's address, told in the pull request's comment: `{name}`, `{number}` and `{app}` are filled in. */
  url: z.string().min(1).optional(),
});

const appSchema = z
  .strictObject({
    source: z
      .strictObject({
        github: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'expected owner/repo'),
        tokenFromEnv: envVarName.default('GITHUB_TOKEN'),
      })
      .optional(),
    images: z.array(imageSchema).min(1, 'expected at least one image'),
    build: z
      .union([
        z.literal('none'),
        z.strictObject({
          /**
           * Dispatches `workflow` on `ref` with the inputs `slipway_commit` and `slipway_dispatch`, which
           * the workflow must declare, and whose run name must include `${{ inputs.slipway_dispatch }}`
           * (how a retried step finds its run). The run must be at the released commit, so `ref`'s head
           * has to be that commit when the run starts (README, "Builds by GitHub Actions").
           */
          githubActions: z.strictObject({
            workflow: z.string().min(1),
            ref: z.string().default('main'),
            timeout: duration.prefault('30m'),
          }),
        }),
        z.strictObject({
          command: z.string().min(1),
          timeout: duration.prefault('30m'),
          /**
           * The worker's variables the command may see (e.g. `[NPM_TOKEN]`). A build runs the released
           * commit's own code, so it gets nothing else of the worker's: only PATH, LANG, a scratch HOME
           * and TMPDIR, SLIPWAY_COMMIT and SLIPWAY_APP (activities/build/build-env.ts).
           */
          env: z.array(envVarName.refine((n) => !BUILD_OWN_VARIABLES.includes(n), { message: 'set by Slipway for every build; it cannot be passed through' })).optional(),
        }),
      ])
      .default('none'),
    tag: z
      .strictObject({
        format: z.string().includes('{version}', { message: 'expected a format containing {version}' }).default('v{version}'),
        before: name.optional(),
        pattern: z.string().default('v*.*.*'),
        /** Whether a pushed prerelease tag (`v1.2.3-rc.1`) starts a release; the default takes only `v1.2.3`. */
        prereleases: z.boolean().default(false),
      })
      .prefault({}),
    /**
     * Which pushes to the source repository start a release, and where it runs: a push to `branch`
     * builds the commit and promotes it to `to` only (with its checks), e.g. main → staging. A pushed
     * tag (`tag.pattern`) needs no trigger here.
     */
    triggers: z
      .strictObject({
        push: z
          .array(
            z.strictObject({
              branch: z
                .string()
                .regex(/^(?!refs\/)(?!\/)(?!.*\/$)(?!.*\.\.)[^\s~^:?*[\\]+$/, 'expected a branch name like main (not refs/heads/main, no spaces or globs)'),
              to: name,
            }),
          )
          .default([]),
      })
      .prefault({}),
    /**
     * A build asked into a later environment (a pushed tag, `slipway promote`) that has not passed
     * the one before it: run the earlier environments first, or refuse it.
     */
    promotion: z
      .strictObject({
        unvalidated: z.enum(['run-earlier', 'refuse']).default('run-earlier'),
        /**
         * Whether `slipway promote --force --reason …` may take a build past an environment it has
         * not passed. An override always waits for an approval from someone other than who asked.
         */
        allowOverride: z.boolean().default(false),
      })
      .prefault({}),
    environments: z.array(environmentSchema).min(1, 'expected at least one environment'),
    previews: previewsSchema.optional(),
  })
  .superRefine((app, ctx) => {
    if (app.previews && !app.source) {
      ctx.addIssue({ code: 'custom', path: ['previews'], message: "previews need source.github: the repository whose pull requests they preview" });
    }
    const seen = new Set<string>();
    app.environments.forEach((env, i) => {
      if (seen.has(env.name)) {
        ctx.addIssue({ code: 'custom', path: ['environments', i, 'name'], message: `duplicate environment "${env.name}"` });
      }
      seen.add(env.name);
    });
    app.environments.forEach((env, i) =>
      env.checks.forEach((check, j) => {
        if (!('metric' in check) || env.namespace) return;
        const parsed = parseTemplate(check.metric.query);
        if ('parts' in parsed && variablesOf(parsed.parts).includes('namespace')) {
          ctx.addIssue({ code: 'custom', path: ['environments', i, 'checks', j, 'metric', 'query'], message: `{{namespace}} needs the environment's namespace (namespace: <name> beside argocd)` });
        }
      }),
    );
    if (app.tag.before && !seen.has(app.tag.before)) {
      ctx.addIssue({ code: 'custom', path: ['tag', 'before'], message: `no environment named "${app.tag.before}"` });
    }
    if (typeof app.build === 'object' && 'githubActions' in app.build && !app.source) {
      ctx.addIssue({ code: 'custom', path: ['build'], message: 'a githubActions build needs source.github' });
    }
    const triggered = new Set<string>();
    app.triggers.push.forEach((trigger, i) => {
      if (!seen.has(trigger.to)) ctx.addIssue({ code: 'custom', path: ['triggers', 'push', i, 'to'], message: `no environment named "${trigger.to}"` });
      // One release per pushed commit (its workflow id is app + commit): one target per branch.
      if (triggered.has(trigger.branch)) ctx.addIssue({ code: 'custom', path: ['triggers', 'push', i, 'branch'], message: `branch "${trigger.branch}" has a push trigger already` });
      triggered.add(trigger.branch);
    });
    if (app.triggers.push.length > 0 && !app.source) {
      ctx.addIssue({ code: 'custom', path: ['triggers', 'push'], message: 'push triggers need source.github (the repository pushed to)' });
    }
  });

/** The owner/repo of a GitOps remote written as https://github.com/owner/repo(.git), else undefined. */
export function githubRepoOfUrl(url: string): string | undefined {
  const m = /^https:\/\/github\.com\/([\w.-]+)\/([\w.-]+?)(?:\.git)?\/?$/i.exec(url);
  return m ? `${m[1]}/${m[2]}` : undefined;
}

export const configSchema = z.strictObject({
  gitops: z
    .strictObject({
      url: z.string().min(1).superRefine(noCredentials()),
      branch: z.string().min(1).default('main'),
      tokenFromEnv: envVarName.optional(),
      /** The GitOps repository on GitHub (owner/repo), for pull-request mode; derived from an https://github.com/ url when absent. */
      github: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'expected owner/repo').optional(),
      /**
       * The worker variable holding the token pull-request mode calls GitHub's API with (opening,
       * merging, closing PRs); `tokenFromEnv` when absent. It needs pull requests: write.
       */
      githubTokenFromEnv: envVarName.optional(),
      author: z
        .strictObject({ name: z.string().min(1), email: z.string().min(3) })
        .default({ name: 'Slipway', email: 'slipway@localhost' }),
    })
    .transform(({ github, ...gitops }) => {
      const repo = github ?? githubRepoOfUrl(gitops.url);
      return { ...gitops, ...(repo ? { github: repo } : {}) };
    }),
  engine: z
    .strictObject({
      /** How long a worker may be silent in a long step before the step moves to another worker. */
      heartbeatTimeout: duration.prefault('30s'),
      /** Upper bound for one attempt of a short step (git write, tag, notify). */
      stepTimeout: duration.prefault('5m'),
      /** Promotions an environment workflow runs before continuing as new. */
      historyPerEnvironment: z.number().int().min(1).max(1000).default(20),
      /**
       * How often a release waiting on an environment's answer checks that the environment
       * workflow is still running (5m when absent); one that is gone fails the release.
       */
      livenessCheck: duration.optional(),
    })
    .prefault({}),
  apps: z.record(name, appSchema).refine((apps) => Object.keys(apps).length > 0, 'expected at least one app'),
}).superRefine((config, ctx) => {
  // A pull request is opened through GitHub's API: the repository and a token for it must be known.
  const missing = !config.gitops.github
    ? 'the GitOps repository on GitHub: gitops.github: owner/repo (or an https://github.com/owner/repo url)'
    : !(config.gitops.githubTokenFromEnv ?? config.gitops.tokenFromEnv)
      ? "a token for GitHub's API: gitops.githubTokenFromEnv (or gitops.tokenFromEnv) naming the worker variable that holds it"
      : undefined;
  if (!missing) return;
  for (const [appName, app] of Object.entries(config.apps)) {
    app.environments.forEach((env, i) => {
      if (typeof env.write !== 'object') return;
      ctx.addIssue({ code: 'custom', path: ['apps', appName, 'environments', i, 'write'], message: `pull-request mode needs ${missing}` });
    });
  }
});

export type SlipwayConfig = z.output<typeof configSchema>;
export type AppConfig = SlipwayConfig['apps'][string];
export type EnvironmentConfig = AppConfig['environments'][number];
export type CheckConfig = EnvironmentConfig['checks'][number];
export type NotifyChannel = z.output<typeof notifyChannel>;
export type EngineConfig = SlipwayConfig['engine'];
export type GitopsConfig = SlipwayConfig['gitops'];
export type WriteModeConfig = NonNullable<EnvironmentConfig['write']>;
export type PullRequestModeConfig = Extract<WriteModeConfig, { pullRequest: unknown }>['pullRequest'];
export type PreviewsConfig = NonNullable<AppConfig['previews']>;

/** Parses slipway.yaml text; `file` is used only to name the source in errors. */
export function parseConfig(text: string, file: string): SlipwayConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({ path: '', message: `YAML syntax: ${e.message.split('\n')[0]}`, line: lineCounter.linePos(e.pos[0]).line })),
    );
  }
  const aliases = findAliasProblem(doc);
  if (aliases) throw new ConfigError(file, [{ path: formatPath(aliases.path), message: aliases.message, line: lineCounter.linePos(aliases.offset).line }]);
  let data: unknown;
  try {
    // The library's own alias guard stays on, as a backstop to the count above.
    data = doc.toJS({ maxAliasCount: MAX_EXPANDED_NODES });
  } catch (err) {
    throw new ConfigError(file, [{ path: '', message: `YAML: ${(err as Error).message}` }]);
  }
  const result = configSchema.safeParse(data ?? {});
  if (result.success) return result.data;
  throw new ConfigError(
    file,
    result.error.issues.map((issue) => {
      const path = issue.path.map(String);
      const node = doc.getIn(path, true) as { range?: [number, number] } | undefined;
      const line = node?.range ? lineCounter.linePos(node.range[0]).line : undefined;
      return { path: formatPath(issue.path), message: issue.message, line };
    }),
  );
}

function formatPath(path: PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}
