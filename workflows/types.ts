/**
 * The shapes that travel between Slipway's workflows and their clients. Plain JSON only: they are
 * recorded in workflow history, so they never hold a secret (only names of env vars).
 */
import type { AppConfig, EngineConfig } from '../config/schema.js';
import type { GitTarget, GithubDelivery, PolicyRef, PromotionRequest } from '../activities/types.js';
import type { CarriedBoard } from './preview-board.js';
import type { ImageSetting } from '../core/images.js';

// The request is also the control activity's input, so it lives with the activity contracts.
export type { PromotionRequest };

/** Everything a release needs to know about its app, resolved from slipway.yaml when it starts. */
export interface ReleasePipeline {
  app: string;
  appConfig: AppConfig;
  git: GitTarget;
  engine: EngineConfig;
}

/**
 * A request for a release: what to release and who asks. The pipeline it runs is the worker's
 * policy for `app`, read when the release starts; nothing here can change a gate or wiring.
 */
export interface ReleaseInput {
  app: string;
  /**
   * Releases started before the worker owned the policy carried the caller's copy. Only those runs
   * (replayed from their history) read it; a new release ignores it.
   */
  pipeline?: ReleasePipeline;
  /** The source commit; every image is tagged with it. */
  commit: string;
  /** The release version (1.4.0); when absent and a tag is made, the next patch after the latest tag. */
  version?: string;
  /** Start at this environment (a pushed tag starts at production). */
  startAt?: string;
  /** The images were built already (or the app has no build step). */
  skipBuild?: boolean;
  /** The release tag exists already (it was pushed by a person). */
  skipTag?: boolean;
  /** Promote only the `startAt` environment (a `slipway promote` or `slipway rollback`). */
  only?: boolean;
  /** A rollback asked for by a person goes back without waiting for approval. */
  kind?: 'promote' | 'rollback';
  /** Who or what started it: `cli:alice`, `webhook:tag v1.4.0`. */
  trigger: string;
  /**
   * The person who asked (the CLI's user, the GitHub login that pushed): under a four-eyes policy
   * they may not approve their own release.
   */
  requestedBy?: string;
  /** Take the build past an environment it has not passed: only where the policy allows, after someone else approves. */
  override?: { reason: string };
  /**
   * The tag whose push asked for this release (the webhook sets it). Its requests name it, and an
   * environment never takes them to a lower version than the newest versioned release that
   * completed there: a delivery replayed after Temporal forgot the first release moves nothing back.
   */
  pushedTag?: string;
}

export type ReleaseStage =
  | 'starting'
  | 'building'
  | 'tagging'
  | `promoting:${string}`
  | 'released'
  | 'failed'
  | 'superseded'
  | 'cancelled';

export type EnvironmentPhase =
  | 'pending'
  | 'queued'
  | 'frozen'
  | 'awaiting-approval'
  | 'deploying'
  /** Pull-request mode: the overlay change waits in a pull request for its merge. */
  | 'awaiting-merge'
  | 'waiting-health'
  | 'checking'
  | 'rolling-back'
  | 'promoted'
  | 'failed'
  | 'rejected'
  | 'approval-timed-out'
  | 'superseded'
  | 'skipped'
  | 'cancelled'
  | 'refused';

export interface EnvironmentProgress {
  environment: string;
  /** The request it is about (sent by environments since replies are matched; absent before). */
  requestId?: string;
  phase: EnvironmentPhase;
  /** What it waits for, in words. */
  detail?: string;
  /** Epoch ms when this phase began. */
  since: number;
}

export interface ReleaseStatus {
  releaseId: string;
  app: string;
  commit: string;
  version?: string;
  stage: ReleaseStage;
  /** What the release waits for now, in words, and since when. */
  waitingFor?: string;
  since: number;
  environments: EnvironmentProgress[];
  steps: Array<{ name: string; state: 'pending' | 'running' | 'done' | 'failed' | 'skipped'; detail?: string }>;
  outcome?: ReleaseResult;
  policy?: PolicyRef;
}

export interface ReleaseResult {
  outcome: 'released' | 'superseded';
  releaseId: string;
  version?: string;
  tag?: string;
  /** For a superseded release: the release that replaced it. */
  supersededBy?: string;
  /** The policy version the release ran under (absent for releases from before the worker owned it). */
  policy?: PolicyRef;
  environments: Record<
    string,
    {
      gitopsCommit?: string;
      phase: EnvironmentPhase;
      /** Pull-request mode: the pull request whose merge deployed the build. */
      pullRequest?: { number: number; url: string; mergedBy?: string };
      /** Set when the merge held other images than the build's (changes pushed to the branch): what was deployed. */
      images?: ImageSetting[];
    }
  >;
}

export type PromotionOutcome =
  | {
      outcome: 'promoted';
      gitopsCommit: string;
      previousImages: ImageSetting[];
      alreadyDeployed: boolean;
      /** Pull-request mode: the pull request whose merge deployed it. */
      pullRequest?: { number: number; url: string; mergedBy?: string };
      /** Set when the merge held other images than the request's (a person pushed to the branch): what runs there now. */
      images?: ImageSetting[];
    }
  | {
      outcome: 'failed';
      reason: string;
      failureType: string;
      rolledBack: boolean;
      rollbackCommit?: string;
      /** Why the rollback failed, when it did (a RollbackConflict names the commit in between and its author). */
      rollbackError?: string;
      /** The rollback's failure type: `RollbackConflict` leaves the environment needing a person. */
      rollbackFailureType?: string;
    }
  | { outcome: 'superseded'; by: string }
  | { outcome: 'rejected'; by: string; reason?: string }
  | { outcome: 'approval-timed-out'; after: number }
  | { outcome: 'cancelled' }
  /** The policy does not allow it (no such environment, …); nothing was written. */
  | { outcome: 'refused'; reason: string };

export type PromotionReply = PromotionOutcome & { requestId: string; environment: string };

/** What runs in an environment now. */
export interface Deployment {
  requestId: string;
  releaseId: string;
  commit: string;
  version?: string;
  images: ImageSetting[];
  gitopsCommit: string;
  at: number;
}

export interface DeploymentRecord {
  requestId: string;
  releaseId: string;
  commit: string;
  version?: string;
  kind: 'promote' | 'rollback';
  /**
   * When the asking release's run started (absent for releases that did not send it): a request
   * under the same id from a later run is a request of its own, not a retry of this one.
   */
  releaseStartedAt?: number;
  outcome: PromotionOutcome['outcome'];
  reason?: string;
  gitopsCommit?: string;
  requestedAt: number;
  finishedAt: number;
  /** The answer the request got, whole (records carried from older runs lack it). */
  result?: PromotionOutcome;
  /** The policy version its gates came from. */
  policyVersion?: string;
  /** Who approved it, through which channel (`cli:alice`, `ui:bob`). */
  approvedBy?: string;
  /** Each approval: who, through which channel, when (epoch ms). */
  approvals?: Array<{ by: string; channel: 'cli' | 'ui' | 'github'; at: number }>;
  /** What was out of the ordinary: an emergency rollback through a freeze window, … */
  notes?: string[];
}

/**
 * The newest release that completed in an environment (promoted there, or found its build already
 * running), by its start time: an older release's request is answered as superseded there.
 */
export interface NewestRelease {
  releaseId: string;
  /** The release workflow's start time (epoch ms). */
  startedAt: number;
  commit: string;
  version?: string;
}

/**
 * Why an environment needs a person: a promotion failed and its rollback was refused because
 * someone else changed the overlay in between (a hotfix, a pin). Nothing was written; what runs
 * there is nobody's known build until a person says so. Set until it is resolved.
 */
export interface EnvironmentAttention {
  /** What the person is to look at, in words: the refused rollback, naming the commit in between and its author. */
  reason: string;
  /** The rollback's failure type (`RollbackConflict`). */
  failureType: string;
  /** The commit that changed the overlay after the promotion wrote it, and its author, when the failure names them. */
  interveningCommit?: string;
  interveningAuthor?: string;
  /** The request whose rollback was refused, its release and build. */
  requestId: string;
  releaseId: string;
  commit: string;
  version?: string;
  /** Why that promotion was being rolled back. */
  promotionFailure: string;
  /** Epoch ms when it was set. */
  since: number;
}

/** A need for a person that was cleared: who cleared it, why, and how. */
export interface AttentionResolution {
  attention: EnvironmentAttention;
  by: string;
  reason: string;
  /** `resolve`: `slipway resolve` (cli) or the Temporal UI's signal (ui); `rollback`/`override`: a request the policy lets through, once it succeeded. */
  via: 'resolve' | 'rollback' | 'override';
  channel?: 'cli' | 'ui';
  /** The release whose success cleared it (for `rollback` and `override`). */
  releaseId?: string;
  at: number;
}

/** What a person sends to clear an environment's need for one. */
export interface ResolveAttention {
  /** Who clears it (shown in status and history). */
  by: string;
  /** Why it is safe to go on: what they checked or decided about the commit in between. */
  reason: string;
}

export interface QueuedRequestView {
  requestId: string;
  releaseId: string;
  commit: string;
  version?: string;
  phase: EnvironmentPhase;
  detail?: string;
  since: number;
}

export interface EnvironmentState {
  app: string;
  environment: string;
  current?: Deployment;
  inFlight?: QueuedRequestView;
  waiting?: QueuedRequestView;
  recent: DeploymentRecord[];
  /** The newest release that completed there (absent until a release that sends its start time does). */
  newest?: NewestRelease;
  /** Set while the environment needs a person: automated promotions are refused until it is resolved. */
  attention?: EnvironmentAttention;
  /** The needs for a person cleared there, newest first (the last few). */
  resolutions?: AttentionResolution[];
}

export interface EnvironmentWorkflowInput {
  app: string;
  environment: string;
  /** Carried across continue-as-new. */
  carried?: {
    current?: Deployment;
    recent: DeploymentRecord[];
    pending: PromotionRequest[];
    followers?: Record<string, PromotionRequest[]>;
    /** Pending requests taken back whose promotion has not started: they must not start. */
    withdrawn?: string[];
    sequence: number;
    /** The newest release that completed there, so an older one stays refused in the next run. */
    newest?: NewestRelease;
    /** The newest release with a version that completed there, so a pushed tag below it stays refused. */
    newestVersioned?: NewestRelease;
    /** The environment's need for a person, so the next run keeps refusing until it is resolved. */
    attention?: EnvironmentAttention;
    resolutions?: AttentionResolution[];
  };
}

export interface ApprovalDecision {
  /** Who decided (a user name; shown in history and status). */
  by: string;
  comment?: string;
  /** When given, the decision applies only if this version (or commit prefix) is the one waiting. */
  version?: string;
  /**
   * How it arrives: the CLI (`cli`, the default for the Update) or a GitHub comment relayed by the
   * webhook (`github`). The Temporal UI's signals always count as `ui`, whatever they say.
   */
  channel?: 'cli' | 'github';
  /**
   * For `github`: the webhook delivery that carried the comment, as GitHub signed it. The worker
   * checks the signature with its own copy of the webhook secret, so a caller of the Temporal API
   * cannot make one up; a delivery is used once, and only for a comment made while it waited.
   */
  evidence?: GithubDelivery;
}

export type { GithubDelivery };

export interface PromotionWorkflowInput {
  request: PromotionRequest;
  sequence: number;
  /**
   * The environment workflow's run chain (its first run id): with `sequence`, it orders this
   * promotion's overlay writes among the environment's steps, so a late attempt cannot land.
   */
  epoch?: string;
  /** What the environment's workflow knows runs there now: a rollback's commit names it. */
  running?: { commit: string; version?: string; images: ImageSetting[] };
}

export interface PreviewsWorkflowInput {
  app: string;
  /** What a previous run of the chain handed over (continue-as-new). */
  carried?: CarriedBoard;
}

export interface PreviewWorkflowInput {
  app: string;
  number: number;
}

/** What a preview shows (`slipway previews list`, the Temporal UI). */
export interface PreviewState {
  app: string;
  number: number;
  name: string;
  phase: 'deploying' | 'up' | 'unhealthy' | 'removing' | 'removed';
  /** The pull request's head commit deployed (or being deployed). */
  head?: string;
  url?: string;
  detail: string;
  since: number;
  /** The last push (or the start): the time to live counts from here. */
  lastPush: number;
}
