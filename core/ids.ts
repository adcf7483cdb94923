/**
 * Workflow ids are part of the product: readable in the Temporal UI, and derived from what they
 * are about so that a duplicate request lands on the same workflow instead of starting another.
 */
export const TASK_QUEUE_DEFAULT = 'slipway';

/** A release of one source commit: `release/todoapp/3f2a9c1…`. */
export const releaseWorkflowId = (app: string, commit: string): string => `release/${app}/${commit}`;

/**
 * A release started by a pushed tag: `release/todoapp/v1.4.0@3f2a9c1…`. The id is what
 * de-duplicates deliveries, so it holds all that makes one the same request: app, tag and the
 * whole commit it tags. A tag deleted and pushed again on another commit is then a new request,
 * which the policy decides on, instead of landing on the old release and being ignored. `@`, not
 * `/`: a release id is `release/<app>/<one segment>` (what `slipway cancel` takes).
 */
export const tagReleaseWorkflowId = (app: string, tag: string, commit: string): string => `release/${app}/${tag}@${commit}`;

/** The long-lived owner of one environment: `env/todoapp/production`. */
export const environmentWorkflowId = (app: string, environment: string): string => `env/${app}/${environment}`;

/** One promotion run by an environment workflow: `promotion/todoapp/production/3f2a9c1-4`. */
export const promotionWorkflowId = (app: string, environment: string, commit: string, sequence: number): string =>
  `promotion/${app}/${environment}/${commit.slice(0, 12)}-${sequence}`;

/** The backup schedule of one environment: `backup/todoapp/production`. */
export const backupScheduleId = (app: string, environment: string): string => `backup/${app}/${environment}`;

/** The previews of one app, who admits them (at most `previews.max` at once): `previews/todoapp`. */
export const previewsWorkflowId = (app: string): string => `previews/${app}`;

/** The preview environment of one pull request: `preview/todoapp/12`. */
export const previewWorkflowId = (app: string, number: number): string => `preview/${app}/${number}`;

export const shortSha = (commit: string): string => commit.slice(0, 7);

/** How messages name a build: `1.4.0 (3f2a9c1)`, or the short commit when it has no version. */
export const buildLabel = (build: { version?: string; commit: string }): string =>
  build.version ? `${build.version} (${shortSha(build.commit)})` : shortSha(build.commit);
