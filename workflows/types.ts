/**
 * The shapes that travel between Slipway's workflows and their clients. Plain JSON only: they are
 * recorded in workflow history, so they never hold a secret (only names of env vars).
 */
import type { AppConfig, EngineConfig, EnvironmentConfig } from '../config/schema.js';
import type { GitTarget } from '../activities/types.js';
import type { ImageSetting } from '../core/images.js';

/** Everything a release needs to know about its app, resolved from slipway.yaml when it starts. */
export interface ReleasePipeline {
  app: string;
  appConfig: AppConfig;
  git: GitTarget;
  engine: EngineConfig;
}

export interface ReleaseInput {
  pipeline: ReleasePipeline;
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
  | 'waiting-health'
  | 'checking'
  | 'rolling-back'
  | 'promoted'
  | 'failed'
  | 'rejected'
  | 'approval-timed-out'
  | 'superseded'
  | 'skipped'
  | 'cancelled';

export interface EnvironmentProgress {
  environment: string;
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
}

export interface ReleaseResult {
  outcome: 'released' | 'superseded';
  releaseId: string;
  version?: string;
  tag?: string;
  /** For a superseded release: the release that replaced it. */
  supersededBy?: string;
  environments: Record<string, { gitopsCommit?: string; phase: EnvironmentPhase }>;
}

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
}

export type PromotionOutcome =
  | { outcome: 'promoted'; gitopsCommit: string; previousImages: ImageSetting[]; alreadyDeployed: boolean }
  | { outcome: 'failed'; reason: string; failureType: string; rolledBack: boolean; rollbackCommit?: string }
  | { outcome: 'superseded'; by: string }
  | { outcome: 'rejected'; by: string; reason?: string }
  | { outcome: 'approval-timed-out'; after: number }
  | { outcome: 'cancelled' };

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
  outcome: PromotionOutcome['outcome'];
  reason?: string;
  gitopsCommit?: string;
  requestedAt: number;
  finishedAt: number;
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
    sequence: number;
  };
}

export interface ApprovalDecision {
  /** Who decided (a user name; shown in history and status). */
  by: string;
  comment?: string;
  /** When given, the decision applies only if this version (or commit prefix) is the one waiting. */
  version?: string;
}

export interface PromotionWorkflowInput {
  request: PromotionRequest;
  sequence: number;
}
