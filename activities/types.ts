/**
 * The contracts between workflows and the outside world. Workflows import only these types;
 * each folder under activities/ implements one outside system. Every activity is idempotent
 * (it may run again after a crash or a timeout), and failures a retry cannot fix are thrown as
 * non-retryable ApplicationFailures with one of the `FailureType`s below.
 *
 * Nothing here carries a secret: credentials are named by environment variable (`tokenFromEnv`,
 * `urlFromEnv`) and read by the worker when the activity runs.
 */
import type { ImageSetting } from '../core/images.js';
import type { AppConfig, EngineConfig, EnvironmentConfig, NotifyChannel } from '../config/schema.js';
import type { NoDataPolicy } from '../core/metric-verdict.js';
import type { MetricVariables } from '../core/promql-template.js';

/** Failure types workflows and people can rely on. */
export const FailureType = {
  /** slipway.yaml or an input is wrong; nothing was changed. */
  InvalidConfig: 'InvalidConfig',
  /** The overlay folder or its kustomization.yaml does not exist. */
  OverlayNotFound: 'OverlayNotFound',
  /** The overlay path or its kustomization file is a symlink that resolves outside the repository (or into .git); nothing was read or written. */
  OverlayOutsideRepository: 'OverlayOutsideRepository',
  /** kustomization.yaml does not parse, has no entry for a configured image, or uses YAML Slipway does not edit (aliases, merge keys). */
  InvalidOverlay: 'InvalidOverlay',
  /** The edited overlay failed its check before commit: not the intended change, or `kustomize build` fails. Nothing was committed. */
  OverlayEditInvalid: 'OverlayEditInvalid',
  /** The worker has no kustomize to render an edit with (SLIPWAY_KUSTOMIZE or PATH); nothing was committed. */
  KustomizeNotFound: 'KustomizeNotFound',
  /** The git remote refused our credentials or the branch is protected. */
  GitPermissionDenied: 'GitPermissionDenied',
  /** Pushes kept losing the race for the branch; nothing was force-pushed. */
  GitPushConflict: 'GitPushConflict',
  /** The Argo CD Application does not exist. */
  ApplicationNotFound: 'ApplicationNotFound',
  /** The Kubernetes API refused the request (RBAC). */
  Forbidden: 'Forbidden',
  /** Argo CD reports the application Degraded (or its sync failed) at our commit. */
  ApplicationDegraded: 'ApplicationDegraded',
  /** The application did not become Synced+Healthy at our commit before the deadline. */
  HealthDeadlineExceeded: 'HealthDeadlineExceeded',
  /**
   * Argo CD reports a later commit whose overlay no longer holds the images this step wrote: a
   * later commit changed them, so its health says nothing about ours (and waiting will not bring ours back).
   */
  Superseded: 'Superseded',
  /** An HTTP check did not get the expected answer. */
  CheckFailed: 'CheckFailed',
  /** A metric check's values missed its condition (or had no data, as its noData policy says) in more rounds than allowed. */
  MetricCheckFailed: 'MetricCheckFailed',
  /** Prometheus refused a metric check's query, or it did not give one value (several series, a range vector). */
  MetricQueryInvalid: 'MetricQueryInvalid',
  /** Prometheus gave a metric check no answer (down, 5xx, too slow) for more rounds than allowed, or refused its credentials. */
  PrometheusUnavailable: 'PrometheusUnavailable',
  /** The build ran and failed. */
  BuildFailed: 'BuildFailed',
  /** The GitHub Actions run dispatched for the build is at another commit than the release (its ref moved on). */
  BuildWrongCommit: 'BuildWrongCommit',
  /** A release tag exists and points at another commit. */
  TagConflict: 'TagConflict',
  /** A GitHub API call was refused (bad token, no permission, validation error). */
  GitHubRequestFailed: 'GitHubRequestFailed',
  /** A backup could not be taken, verified or restored. */
  BackupFailed: 'BackupFailed',
  /** A backup restored correctly but its database was empty or had shrunk too much: recorded as flagged, never verified. */
  BackupFlagged: 'BackupFlagged',
  /** The worker's pg_dump is older than the database server it was to dump (pg_dump refuses newer servers); nothing was dumped. */
  PgDumpTooOld: 'PgDumpTooOld',
  /** The scratch server verification restores on is older than the server the backup came from; nothing was restored. */
  ScratchServerTooOld: 'ScratchServerTooOld',
  /** The request asks for something the worker's policy does not have or allow; nothing was done. */
  RequestRefused: 'RequestRefused',
  /** A later step of the same environment has already written the overlay: this (late) write must not land. Nothing was pushed. */
  StaleWrite: 'StaleWrite',
  /** A rollback found the overlay changed by someone else since the promotion wrote it, and wrote nothing: a person decides. */
  RollbackConflict: 'RollbackConflict',
  /** A git command or the worker's clone space gave out (deadline passed, disk bound reached); a retry may succeed. */
  GitUnavailable: 'GitUnavailable',
  /** A write's pull-request branch exists without this write's commit (someone else's branch, or another step's): it was left as it is and nothing was pushed. */
  PullRequestBranchTaken: 'PullRequestBranchTaken',
  /** GitHub refused to open the pull request (422: e.g. no commits between base and head, or the base branch does not exist). */
  PullRequestRefused: 'PullRequestRefused',
  /** The pull request does not exist, or the token cannot see it (404). */
  PullRequestNotFound: 'PullRequestNotFound',
  /** An Argo CD Application has the name a preview wants but is not a Slipway preview (no `slipway.dev/preview` label), or is another app's: it was left as it is. */
  PreviewApplicationTaken: 'PreviewApplicationTaken',
  /** A promotion's pull request was closed without being merged: nothing reached the base; the promotion ends rejected, naming who closed it. */
  PullRequestClosed: 'PullRequestClosed',
  /** A newer release for the same environment arrived while this promotion's pull request waited: it was closed unmerged, with a comment. */
  PromotionSuperseded: 'PromotionSuperseded',
  /** A preview's template folder holds what a preview cannot be copied from (a symlink, a subfolder, two kustomization files), or is reached through a symlink; nothing was written. */
  PreviewTemplateUnsupported: 'PreviewTemplateUnsupported',
  /** A preview's folder exists but is not this pull request's preview (no Slipway preview marker naming its app and number), or is reached through a symlink: it was left as it is. */
  PreviewFolderTaken: 'PreviewFolderTaken',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

// ---------------------------------------------------------------- gitops

/** Where the GitOps repository lives. The URL carries no credentials. */
export interface GitTarget {
  /** Any git remote: a path, file://, https:// or ssh. */
  url: string;
  branch: string;
  /** Env var holding a token for https remotes. */
  tokenFromEnv?: string;
  author: { name: string; email: string };
  /** The repository on GitHub (owner/repo), for pull-request mode (gitops.github). */
  github?: string;
  /** Env var holding the token for GitHub's API in pull-request mode; `tokenFromEnv` when absent. */
  githubTokenFromEnv?: string;
}

export interface CommitContext {
  app: string;
  environment: string;
  /** The release (workflow id) making the change: in the commit message, for the audit trail. */
  releaseId: string;
  version?: string;
  /** The source commit whose images are written. */
  sourceCommit: string;
  kind: 'promote' | 'rollback';
  /** A rollback that undoes this (failed) build, rather than going back to it. */
  undo?: boolean;
  /**
   * The other build of a rollback, when the caller knows it: for an undo, the build whose images
   * it puts back (what will be deployed); for a rollback to `sourceCommit`, the build it replaces.
   * Trailers name what is deployed and what was undone distinctly, so neither is guessed.
   */
  counterpart?: { commit: string; version?: string };
  /**
   * Which step of the environment this write is: the environment workflow's run chain (`epoch`,
   * its first run id), the promotion's sequence in it, and whether it is that promotion's write or
   * its compensation. Steps of one environment run one after another, so a write finding a later
   * step's commit on the branch is a late attempt and must not land (see step-fence.ts).
   */
  step?: WriteStep;
}

export interface WriteStep {
  epoch: string;
  sequence: number;
  phase: 'write' | 'compensation';
}

export interface ReadOverlayInput {
  git: GitTarget;
  /** The overlay folder inside the repository (holds kustomization.yaml). */
  overlay: string;
  /** The image names (`images[].name`) to read. */
  imageNames: string[];
}

export interface ReadOverlayResult {
  /** The branch head that was read. */
  commit: string;
  /** The current settings for the requested names, in the order asked. */
  images: ImageSetting[];
}

export interface WriteOverlayInput {
  git: GitTarget;
  overlay: string;
  images: ImageSetting[];
  context: CommitContext;
  /**
   * Write the entries exactly as given: a field an image leaves out is removed (a rollback point
   * is the whole entry, so a tag the promotion added goes and a `newName` it changed comes back).
   */
  exact?: boolean;
  /** A rollback's compare-and-swap: write only while the overlay holds what the promotion wrote (rollback-guard.ts). */
  guard?: { wrote: ImageSetting[]; landed: boolean };
}

export interface WriteOverlayResult {
  /** The commit that holds the wanted images: a new one, or the existing head when nothing changed. */
  commit: string;
  /**
   * True when this step's commit is on the branch: made now, or found there (a retry after an
   * attempt that pushed and died before answering). False when the overlay already held the
   * wanted images and no step made a commit for them.
   */
  changed: boolean;
  /** True when the commit was made by an earlier attempt of this same step and found, not made now. */
  recovered?: boolean;
}

export interface GitopsActivities {
  readOverlayImages(input: ReadOverlayInput): Promise<ReadOverlayResult>;
  writeOverlayImages(input: WriteOverlayInput): Promise<WriteOverlayResult>;
}

/** A commit on a pull-request branch, for reports. */
export interface BranchCommit {
  commit: string;
  /** `name <email>` */
  author: string;
  subject: string;
}

/** Where a pull-request-mode write left its commit (activities/gitops/pull-request-mode.ts). */
export interface WriteOverlayBranchResult {
  /** The branch the pull request merges into (`git.branch`); never pushed to. */
  base: string;
  /** The write's own branch, named after the release and environment. */
  branch: string;
  /**
   * `branch`: the commit is on `branch`, waiting for a pull request. `base`: the base branch
   * already holds it (an earlier attempt's pull request was merged, or nothing changes), and no
   * branch was pushed.
   */
  on: 'branch' | 'base';
  /** This write's commit (on `branch`), or the base's head when `on` is `base`. */
  commit: string;
  /** The branch's head: `commit`, or commits pushed on top of it by others. */
  head: string;
  changed: boolean;
  /** True when an earlier attempt's commit was found and no new commit was made. */
  recovered: boolean;
  /** Commits on the branch after this write's commit, newest first: a pull request merges them too. */
  pushedByOthers: BranchCommit[];
}

export interface ReadOverlayAtCommitInput extends ReadOverlayInput {
  /** A commit of the branch (a merge commit): what Argo CD deploys from it. */
  commit: string;
}

/** The overlay write of pull-request mode, and the read of what a merge put on the base. */
export interface PullRequestWriteActivities {
  /** Writes, verifies and commits like writeOverlayImages, but pushes to the write's own branch, never to `git.branch`. */
  writeOverlayBranch(input: WriteOverlayInput): Promise<WriteOverlayBranchResult>;
  /** The images the overlay sets at `commit`, in the order asked (a merge may hold what a person pushed to the branch). */
  readOverlayAtCommit(input: ReadOverlayAtCommitInput): Promise<ReadOverlayResult>;
}

/** The pull request a preview is of: named in its commit messages and in the marker file of its folder. */
export interface PreviewPullRequest {
  app: string;
  /** The pull request's number in the app's source repository (a positive whole number). */
  number: number;
}

export interface WritePreviewOverlayInput {
  /** The GitOps repository; `branch` is the one previews live on, created from `baseBranch` when it does not exist yet. */
  git: GitTarget;
  /** What a missing `git.branch` is created from; default the repository's default branch (its HEAD). */
  baseBranch?: string;
  /** The template overlay folder: its kustomization and the regular files next to it. */
  template: string;
  /** The preview's folder (`1.2/overlays/previews/pr-12`); apart from the template (neither inside the other). */
  path: string;
  /** The namespace every object of the preview is rendered into (a DNS-1123 label). */
  namespace: string;
  /** The pull request's images: each must have an entry in the template's `images:`. */
  images: ImageSetting[];
  context: PreviewPullRequest & {
    /** The pull request's head commit (hex), whose images the preview runs. */
    headSha: string;
    /** The workflow writing it, for the audit trail (a `Slipway-Release` trailer). */
    releaseId?: string;
  };
}

export interface WritePreviewOverlayResult {
  /** The branch head holding the preview: the new commit, or the head that already held exactly these files. */
  commit: string;
  /** False when the branch already held exactly these files at `path` (nothing was committed). */
  changed: boolean;
  /** The preview's folder as written (normalised). */
  path: string;
}

export interface RemovePreviewOverlayInput {
  git: GitTarget;
  /** The preview's folder: removed only when its marker names this app and pull request. */
  path: string;
  context: PreviewPullRequest;
}

export interface RemovePreviewOverlayResult {
  /** The branch head without the folder: the removal's commit, the head when there was nothing to remove, '' when the branch does not exist. */
  commit: string;
  changed: boolean;
}

/** Pull-request previews' overlays on the GitOps repository (activities/gitops/preview-write.ts). */
export interface PreviewWriteActivities {
  /** Writes (or brings up to date) the preview's folder from the template, checked by a render, in one commit; never forced. */
  writePreviewOverlay(input: WritePreviewOverlayInput): Promise<WritePreviewOverlayResult>;
  /** Removes the preview's folder in one commit; an absent folder or branch is success with nothing changed. */
  removePreviewOverlay(input: RemovePreviewOverlayInput): Promise<RemovePreviewOverlayResult>;
}

// ---------------------------------------------------------------- argocd

export interface ArgoApplicationRef {
  application: string;
  namespace: string;
}

export interface RefreshInput {
  app: ArgoApplicationRef;
  /** Also request a sync operation (for applications without auto-sync). */
  sync: boolean;
  /** The revision to sync to, when `sync`. */
  revision?: string;
  /**
   * When another sync operation is in progress: wait until it ends (default), or terminate it
   * (what `argocd app terminate-op` does) and then sync. Ours is requested only once none runs,
   * since Argo CD clears `operation` when the running one ends.
   */
  runningOperation?: 'wait' | 'terminate';
  /** The GitOps repository: which of a multi-source Application's `spec.sources` gets `revision`. */
  git?: GitTarget;
}

export interface WaitHealthyInput {
  app: ArgoApplicationRef;
  /** The GitOps commit that must be synced; a later commit on the branch that descends from it counts too. */
  commit: string;
  git: GitTarget;
  timeoutMs: number;
  /**
   * The images this step wrote to `overlay` at `commit`. With them, a later commit Argo CD reports
   * counts as ours only while its overlay still holds them; one that changed them fails Superseded.
   */
  images?: ImageSetting[];
  /** The overlay folder `images` were written to. */
  overlay?: string;
}

export interface ApplicationHealth {
  revision: string;
  sync: string;
  health: string;
  message?: string;
}

export interface ArgoActivities {
  refreshApplication(input: RefreshInput): Promise<void>;
  /** Resolves when Synced+Healthy at the commit; throws ApplicationDegraded or HealthDeadlineExceeded. */
  waitForHealthy(input: WaitHealthyInput): Promise<ApplicationHealth>;
}

// ---------------------------------------------------------------- github / build

export interface GithubRepoRef {
  /** owner/name */
  repo: string;
  tokenFromEnv: string;
}

export interface TriggerBuildInput {
  source: GithubRepoRef;
  workflow: string;
  ref: string;
  commit: string;
  timeoutMs: number;
}

export interface CommandBuildInput {
  command: string;
  commit: string;
  app: string;
  timeoutMs: number;
  /** Names of the worker's variables the policy passes to this command; the build sees no others. */
  env?: string[];
}

export interface BuildResult {
  /** Where to read the build's log: a run URL, or the command. */
  url: string;
  conclusion: 'success';
}

export interface CreateTagInput {
  source: GithubRepoRef;
  tag: string;
  commit: string;
  message: string;
}

export interface NextVersionInput {
  source: GithubRepoRef;
  format: string;
}

export interface DeploymentStatusInput {
  source: GithubRepoRef;
  environment: string;
  commit: string;
  state: 'in_progress' | 'success' | 'failure' | 'inactive';
  description: string;
  logUrl?: string;
}

/** A GitHub webhook delivery as received: the raw body and its `X-Hub-Signature-256`. */
export interface GithubDelivery {
  event: 'issue_comment' | 'commit_comment';
  body: string;
  signature: string;
}

export interface VerifyApprovalInput {
  source: GithubRepoRef;
  delivery: GithubDelivery;
  /** Who the decision says it is from, and what it decides. */
  by: string;
  decision: 'approve' | 'reject';
  environment: string;
  /** The build waiting: the comment must be on it (the commit, or a pull request whose head it is). */
  commit: string;
  /** The comment must be newer than this (epoch ms): when the wait for approval began. */
  notBefore: number;
  approvers?: { users: string[]; teams: string[] };
}

export type VerifiedApproval = { ok: true; login: string; commentId: number; url: string } | { ok: false; reason: string };

export interface GithubActivities {
  triggerBuild(input: TriggerBuildInput): Promise<BuildResult>;
  /** Creates the annotated tag and a GitHub release; an existing tag on the same commit is success. */
  createReleaseTag(input: CreateTagInput): Promise<{ created: boolean }>;
  nextVersion(input: NextVersionInput): Promise<string>;
  reportDeployment(input: DeploymentStatusInput): Promise<void>;
  /** Checks an approval relayed from a GitHub comment: signed delivery, author, words, build, permission. */
  verifyApproval(input: VerifyApprovalInput): Promise<VerifiedApproval>;
}

/** What a pull request changes, for its title and body. */
export interface PullRequestChange {
  app: string;
  environment: string;
  kind: 'promote' | 'rollback';
  /** The release's workflow id: named in the body, with its Temporal UI link. */
  releaseId: string;
  /** The build: the source commit its images are tagged with, and its version. */
  sourceCommit: string;
  version?: string;
  overlay: string;
  images: ImageSetting[];
  /** A rollback that undoes `sourceCommit` (a failed promotion's), rather than going back to it. */
  undo?: boolean;
}

export interface OpenPullRequestInput extends GithubRepoRef {
  /** The branch with the change (in `repo` itself). */
  head: string;
  base: string;
  change: PullRequestChange;
  labels?: string[];
  /** GitHub logins, and `org/team` for teams. */
  reviewers?: string[];
}

export interface OpenedPullRequest {
  number: number;
  url: string;
  /** False when an existing pull request for the same head and base was found. */
  created: boolean;
  /** An existing one may have been closed or merged meanwhile: the caller decides what that means. */
  state: 'open' | 'closed' | 'merged';
  headSha: string;
  /** Labels or reviewers GitHub refused: reported, not fatal. */
  problems: string[];
}

export interface PullRequestStateInput extends GithubRepoRef {
  number: number;
}

export type PullRequestState =
  | { state: 'open'; number: number; url: string; headSha: string }
  | { state: 'merged'; number: number; url: string; headSha: string; mergeCommit: string; mergedBy?: string; mergedAt?: string }
  | { state: 'closed'; number: number; url: string; headSha: string; closedBy?: string; closedAt?: string };

export interface MergePullRequestInput extends PullRequestStateInput {
  /** The head Slipway wrote: GitHub merges only while the branch is still there (else 409, not merged). */
  sha: string;
  mergeMethod: 'merge' | 'squash' | 'rebase';
}

export type MergePullRequestResult =
  | { merged: true; mergeCommit: string }
  /** GitHub would not merge it now (reviews or checks required, a merge queue, the head moved): the wait goes on. */
  | { merged: false; reason: string };

export interface ClosePullRequestInput extends PullRequestStateInput {
  /** Said on the pull request before it is closed (once, however often the step runs). */
  comment: string;
  /** Names the comment, so a retry finds it instead of saying it twice. */
  marker: string;
}

export interface UpsertCommentInput {
  /** owner/name */
  repo: string;
  /** The env var holding the token (default GITHUB_TOKEN). */
  tokenFromEnv?: string;
  number: number;
  /** What the comment is for (`preview/todoapp`): found again by it, one comment per marker. */
  marker: string;
  body: string;
}

export interface UpsertedComment {
  id: number;
  url: string;
  created: boolean;
  updated: boolean;
}

/** Pull requests on the GitOps repository (pull-request mode) and the source repository (previews). */
export interface PullRequestActivities {
  /** One comment per pull request and marker, edited instead of posted again. */
  upsertComment(input: UpsertCommentInput): Promise<UpsertedComment>;
  /** Opens the pull request for head → base, or returns the one already there: one per head, never two. */
  openPullRequest(input: OpenPullRequestInput): Promise<OpenedPullRequest>;
  pullRequestState(input: PullRequestStateInput): Promise<PullRequestState>;
  mergePullRequest(input: MergePullRequestInput): Promise<MergePullRequestResult>;
  /** Comments and closes an open pull request; one merged or closed meanwhile is left as it is, and its state returned. */
  closePullRequest(input: ClosePullRequestInput): Promise<PullRequestState>;
}

/** A preview's Argo CD Application: named `<app>-<preview name>`, labelled as pull request `number`'s preview of `app`. */
export interface PreviewApplicationRef extends ArgoApplicationRef {
  app: string;
  number: number;
}

export interface EnsurePreviewApplicationInput extends PreviewApplicationRef {
  project?: string;
  repoURL: string;
  /** The preview's overlay folder. */
  path: string;
  /** The branch previews live on. */
  targetRevision: string;
  destination: { server?: string; namespace: string };
}

/** The Argo CD side of previews. */
export interface PreviewApplicationActivities {
  ensurePreviewApplication(input: EnsurePreviewApplicationInput): Promise<{ action: 'created' | 'updated' | 'unchanged' }>;
  /** Deletes it (its resources with it); one already gone is success. */
  deletePreviewApplication(input: PreviewApplicationRef): Promise<{ existed: boolean }>;
}

export interface BuildActivities {
  runBuildCommand(input: CommandBuildInput): Promise<BuildResult>;
}

// ---------------------------------------------------------------- checks

export interface HttpCheckInput {
  url: string;
  expectStatus: number;
  timeoutMs: number;
  attempts: number;
  intervalMs: number;
}

export interface MetricCheckInput {
  /** What the value is, in messages ("error rate"). */
  name?: string;
  /** Prometheus' base URL, as slipway.yaml names it (no credentials). */
  prometheus: string;
  /** The worker variable holding a bearer token for Prometheus. */
  tokenFromEnv?: string;
  /** The PromQL as slipway.yaml writes it, with {{variables}} (core/promql-template.ts). */
  query: string;
  /** The release's values for the variables; previousVersion/previousCommit are absent when no earlier build is known. */
  variables: MetricVariables;
  /** As slipway.yaml writes it ("< 0.01"; core/metric-condition.ts). */
  condition: string;
  intervalMs: number;
  forMs: number;
  failuresAllowed: number;
  noData: NoDataPolicy;
  /** Each request's own deadline. */
  timeoutMs: number;
  unavailableAllowed: number;
}

export interface MetricCheckResult {
  /** The query as sent, variables substituted. */
  query: string;
  rounds: number;
  good: number;
  bad: number;
  noData: number;
  unavailable: number;
  lastValue?: number;
  /** Why it passed without asking (its query needs a previous build that is not known, and noData: pass). */
  skipped?: string;
}

export interface CheckActivities {
  /** Resolves when the URL answers with the expected status; throws CheckFailed after the attempts. */
  httpCheck(input: HttpCheckInput): Promise<{ status: number; attempts: number }>;
  /**
   * Asks Prometheus every interval for `for`; resolves when the rounds pass. Throws MetricCheckFailed,
   * MetricQueryInvalid or PrometheusUnavailable (non-retryable) naming the query, value and threshold.
   */
  metricCheck(input: MetricCheckInput): Promise<MetricCheckResult>;
}

// ---------------------------------------------------------------- notify

export type NotificationKind =
  | 'promoted'
  | 'rolled-back'
  | 'promotion-failed'
  | 'awaiting-approval'
  | 'release-succeeded'
  | 'release-failed'
  | 'backup-succeeded'
  | 'backup-failed';

export interface NotificationEvent {
  kind: NotificationKind;
  app: string;
  environment?: string;
  version?: string;
  commit?: string;
  /** The workflow the event is about; the Temporal UI link is built from it. */
  workflowId: string;
  /** One line for people. */
  message: string;
}

export interface NotifyInput {
  channels: NotifyChannel[];
  event: NotificationEvent;
}

export interface NotifyActivities {
  /** Never throws for a failed delivery: a notification must not fail a promotion. */
  notify(input: NotifyInput): Promise<{ delivered: number; failed: number }>;
}

// ---------------------------------------------------------------- backup

/** One environment's database, named by the worker's env var that holds its URL (never the URL). */
export interface BackupTarget {
  app: string;
  environment: string;
  /** Name of the worker's env var holding the PostgreSQL connection URL. */
  databaseUrlFromEnv: string;
}

export interface TakeBackupInput extends BackupTarget {
  /** Ids sort by time: `20260110T030000Z-1a2b3c4d`. */
  backupId: string;
  workflowId?: string;
}

export interface TakenBackup {
  id: string;
  size: number;
  sha256: string;
  tables: number;
  rows: number;
  serverVersion: string;
}

export interface VerifyBackupInput extends BackupTarget {
  backupId: string;
  /** The largest fraction (0–1) of the total row count that may disappear since the previous verified backup (default 0.5). */
  maxShrink?: number;
  /**
   * Name of the worker's env var holding the URL of a PostgreSQL server of its own to restore on
   * (the policy's `backup.verify.postgres.urlFromEnv`). Absent: a scratch database on the source server.
   */
  verifyUrlFromEnv?: string;
}

export interface VerifiedBackup {
  tables: number;
  rows: number;
  /** Set when the backup restored correctly but is not to be trusted (an empty or shrunken database): why. */
  flagged?: string;
  /** Where the restore ran, without credentials: `scratch server db.internal:5432` or `the source server db.prod:5432`. */
  verifiedOn?: string;
}

export interface RecordVerificationInput {
  app: string;
  environment: string;
  backupId: string;
  verified: boolean;
  error?: string;
  /** Why the backup is flagged: recorded as such, and never as verified whatever `verified` says. */
  flagged?: string;
}

export interface PruneBackupsInput {
  app: string;
  environment: string;
  keep: number;
  /** Verified backups younger than this many days stay even beyond `keep` (default 0: by count only). */
  keepDays?: number;
}

export interface BackupFreshnessInput {
  app: string;
  environment: string;
  /** The schedule's cron (UTC). */
  schedule: string;
}

export interface BackupFreshness {
  /** True when the last two scheduled runs produced no verified backup (or there is none at all). */
  overdue: boolean;
  /** For people, when overdue. */
  message?: string;
  /** The newest verified backup in the store, when there is one. */
  newestVerified?: { id: string; takenAt: string };
}

export interface PrunedBackups {
  kept: string[];
  deleted: string[];
}

export interface BackupActivities {
  /** pg_dump (custom format) into the store, with checksum and manifest (unverified). Same id again overwrites. */
  takeBackup(input: TakeBackupInput): Promise<TakenBackup>;
  /** Checks the checksum, restores into a scratch database and compares every table's row count. */
  verifyBackup(input: VerifyBackupInput): Promise<VerifiedBackup>;
  /** Marks the manifest verified, or records why verification failed. */
  recordBackupVerification(input: RecordVerificationInput): Promise<void>;
  /** Deletes what retention says to: keeps the newest `keep` verified backups, never the last verified one. */
  pruneBackups(input: PruneBackupsInput): Promise<PrunedBackups>;
  /** Reads the store: whether the schedule went twice its period without a verified backup. */
  checkBackupFreshness(input: BackupFreshnessInput): Promise<BackupFreshness>;
}

// ---------------------------------------------------------------- control (Temporal itself)

/** A release asking an environment workflow to promote one build. */
export interface PromotionRequest {
  /** Unique per release and environment; duplicates (retries) are ignored. */
  requestId: string;
  /** The workflow to tell about progress and the outcome. */
  replyTo: string;
  app: string;
  environment: EnvironmentConfig;
  git: GitTarget;
  engine: EngineConfig;
  sourceRepo?: { repo: string; tokenFromEnv: string };
  images: ImageSetting[];
  commit: string;
  version?: string;
  requestedAt: number;
  /** A rollback to an earlier deployment asked for by a person: no approval for going back. */
  kind: 'promote' | 'rollback';
  /** The person who asked for the release (see ReleaseInput.requestedBy). */
  requestedBy?: string;
  /** An override of the "passed the environment before" gate, with its reason (see ReleaseInput.override). */
  override?: { reason: string };
  /**
   * The policy version the release runs under. The environment workflow reads the environment's
   * gates and wiring for it from the worker, never from the request's own copies above.
   */
  policyVersion?: string;
  /**
   * When the asking release started (epoch ms, its workflow's start time: fixed for its life and
   * the same on replay). The environment decides by it which of two releases is the newer one;
   * requests from releases that did not send it keep the order in which they arrived.
   */
  releaseStartedAt?: number;
  /**
   * The pushed tag that asked for the release (see ReleaseInput.pushedTag): the environment
   * answers superseded, writing nothing, when its version is lower than the newest versioned
   * release that completed there. Explicit requests (`slipway promote`, `rollback`) name none.
   */
  pushedTag?: string;
}

export interface WithdrawPromotionInput {
  app: string;
  environment: string;
  requestId: string;
}

export interface BuildRecordInput {
  app: string;
  environment: string;
  commit: string;
}

/** What became of one build in one environment. */
export type BuildRecord =
  | { state: 'passed'; releaseId: string }
  | { state: 'failed'; releaseId: string; reason: string }
  | { state: 'not-run' };

/** The part of an environment workflow's state that tells what became of a build there. */
export interface EnvironmentStateLike {
  current?: { commit: string; releaseId: string };
  recent: Array<{ commit: string; releaseId: string; outcome: string; reason?: string }>;
}

/** Which run of the environment workflow took a request (older workers returned nothing). */
export interface PromotionDelivered {
  runId: string;
}

export interface EnvironmentAliveInput {
  app: string;
  environment: string;
  /** The run that took the request (PromotionDelivered.runId): its chain (continue-as-new, reset) must still run. */
  runId?: string;
}

/** Whether an environment workflow can still answer a request it took, and if not, why. */
export type EnvironmentLiveness = { alive: true } | { alive: false; reason: string };

export interface ControlActivities {
  /** Asks the environment workflow to run a promotion, starting it if needed (signal-with-start). */
  requestPromotion(input: PromotionRequest): Promise<PromotionDelivered | void>;
  /** Whether the environment workflow that took a request still runs (describes it; only reads). */
  environmentAlive(input: EnvironmentAliveInput): Promise<EnvironmentLiveness>;
  /**
   * Takes a request back, starting the environment workflow if it is not running yet
   * (signal-with-start), so that a request still on its way finds the withdrawal there first.
   */
  withdrawPromotion(input: WithdrawPromotionInput): Promise<void>;
  /** Whether a build passed an environment (promoted there, checks included), failed there, or never ran to the end. */
  buildRecord(input: BuildRecordInput): Promise<BuildRecord>;
}

// ---------------------------------------------------------------- policy (the worker's slipway.yaml)

/** Which policy something ran under: its content hash, where it was read, and the git commit if from git. */
export interface PolicyRef {
  version: string;
  source: string;
  commit?: string;
}

/** One app's part of the policy, for a release. */
export interface AppPolicy extends PolicyRef {
  app: string;
  appConfig: AppConfig;
  git: GitTarget;
  engine: EngineConfig;
}

/** One environment's gates and wiring, for its environment workflow. */
export interface EnvironmentPolicy extends PolicyRef {
  app: string;
  environment: EnvironmentConfig;
  /** The environment before this one in the app's order: a build must have passed it first. */
  previous?: string;
  /** Whether the app's policy allows overrides of that gate. */
  overrides: boolean;
  images: AppConfig['images'];
  git: GitTarget;
  engine: EngineConfig;
  sourceRepo?: GithubRepoRef;
}

/** What a client may know of the policy: names, gates and tag rules; no remotes, commands or variables. */
export interface PolicySummary extends PolicyRef {
  apps: Record<
    string,
    {
      source?: string;
      tag: AppConfig['tag'];
      /** Which branch pushes start a release into which environment (the webhook's part of the policy). */
      triggers: AppConfig['triggers'];
      /** The app has preview environments for the pull requests of `source`. */
      previews?: boolean;
      environments: Array<{
        name: string;
        approval?: { required: boolean; timeout: number };
        freezeWindows: number;
        checks: number;
        backup: boolean;
        /** In pull-request mode: the GitOps repository (owner/repo) its pull requests are on, for the webhook to wake promotions with. */
        pullRequests?: { repo: string };
      }>;
    }
  >;
}

export interface PolicyActivities {
  /** The app's policy: the version named when this worker knows it, else the current one. Unknown app: RequestRefused. */
  releasePolicy(input: { app: string; version?: string }): Promise<AppPolicy>;
  environmentPolicy(input: { app: string; environment: string; version?: string }): Promise<EnvironmentPolicy>;
  describePolicy(): Promise<PolicySummary>;
}

/** What a release uses; the worker registers these and the backup activities. */
export type SlipwayActivities = GitopsActivities &
  ArgoActivities &
  GithubActivities &
  BuildActivities &
  CheckActivities &
  NotifyActivities &
  ControlActivities;
