/**
 * Signal, query and update definitions, shared by workflows and clients (CLI, webhook, tests).
 * People in the Temporal UI can send the `*BySignal` variants, which do what the updates do.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  ApprovalDecision,
  AttentionResolution,
  EnvironmentProgress,
  EnvironmentState,
  PromotionReply,
  PromotionRequest,
  ReleaseStatus,
  PreviewState,
  ResolveAttention,
} from './types.js';
import type { BoardView, PreviewAction } from './preview-board.js';

// release workflow
export const releaseStatusQuery = defineQuery<ReleaseStatus>('status');
export const promotionProgressSignal = defineSignal<[EnvironmentProgress]>('promotionProgress');
export const promotionFinishedSignal = defineSignal<[PromotionReply]>('promotionFinished');

// environment workflow
export const requestPromotionSignal = defineSignal<[PromotionRequest]>('requestPromotion');
export const withdrawRequestSignal = defineSignal<[{ requestId: string }]>('withdrawRequest');
export const environmentStateQuery = defineQuery<EnvironmentState>('state');
export const approveUpdate = defineUpdate<{ requestId: string; version?: string }, [ApprovalDecision]>('approve');
export const rejectUpdate = defineUpdate<{ requestId: string; version?: string }, [ApprovalDecision]>('reject');
export const approveSignal = defineSignal<[ApprovalDecision]>('approveBySignal');
export const rejectSignal = defineSignal<[ApprovalDecision]>('rejectBySignal');
/** Clears an environment's need for a person (`slipway resolve`), recorded with who and why. */
export const resolveAttentionUpdate = defineUpdate<AttentionResolution, [ResolveAttention]>('resolveAttention');
export const resolveAttentionSignal = defineSignal<[ResolveAttention]>('resolveAttentionBySignal');

// promotion workflow (pull-request mode)
/**
 * Something happened to a pull request of the promotion's repository (a signed webhook delivery).
 * Only a wake-up: the promotion reads the pull request's state from GitHub itself, so whoever can
 * signal cannot make it believe a merge that did not happen.
 */
export const pullRequestChangedSignal = defineSignal<[{ number?: number }]>('pullRequestChanged');
/**
 * From the environment workflow: a newer request for the environment arrived. A promotion still
 * waiting for its pull request closes it, saying so, and ends superseded; one already merged goes on.
 */
export const supersedePromotionSignal = defineSignal<[{ by: string; build: string }]>('supersedePromotion');

// previews: the app's previews workflow and each pull request's preview
/** From the webhook (signal-with-start): a pull request of the app's source repository was opened, pushed to, reopened or closed. */
export const previewEventSignal = defineSignal<[{ number: number; action: PreviewAction }]>('previewEvent');
/** From a preview that ended, to its app's previews workflow: its place is free. */
export const previewEndedSignal = defineSignal<[{ number: number; reason: string }]>('previewEnded');
export const previewsStateQuery = defineQuery<BoardView>('previews');
/** Look at the pull request again (a push, a close). Only a wake-up: the preview reads the pull request from GitHub. */
export const previewWakeSignal = defineSignal<[]>('previewWake');
/** Remove the preview now (to make room for another, or `slipway previews delete`), saying why. */
export const previewRemoveSignal = defineSignal<[{ reason: string }]>('previewRemove');
export const previewStateQuery = defineQuery<PreviewState>('preview');
