/**
 * The environment workflow's messages to the releases that asked it for something: where their
 * request stands, and the answer. Signals are fire-and-forget, but the server drops a signal whose
 * sender has closed, so continue-as-new waits until every one sent here has been delivered (or
 * refused): a reply sent in the same task would otherwise be lost and its release would wait for ever.
 */
import { getExternalWorkflowHandle, patched } from '@temporalio/workflow';
import { workflowNow } from './clock.js';
import { promotionFinishedSignal, promotionProgressSignal } from './messages.js';
import type { EnvironmentPhase, PromotionOutcome, PromotionReply, PromotionRequest } from './types.js';

/** Versioning: progress names the request it is about, as answers always did, so a release can match both. */
const PATCH_PROGRESS_NAMES_REQUEST = 'environment-progress-names-request';

export class ReleaseMessenger {
  private unsent = 0;

  constructor(private readonly environment: string) {}

  progress(request: PromotionRequest, phase: EnvironmentPhase, detail: string): void {
    const about = patched(PATCH_PROGRESS_NAMES_REQUEST) ? { requestId: request.requestId } : {};
    this.track(
      getExternalWorkflowHandle(request.replyTo).signal(promotionProgressSignal, { environment: this.environment, ...about, phase, detail, since: workflowNow() }),
    );
  }

  /** The answer names the request it answers: the release takes it only for the request it waits on. */
  reply(request: PromotionRequest, outcome: PromotionOutcome): void {
    const message: PromotionReply = { ...outcome, requestId: request.requestId, environment: this.environment };
    this.track(getExternalWorkflowHandle(request.replyTo).signal(promotionFinishedSignal, message));
  }

  /** Every signal sent has been delivered, or refused (a terminated release: nobody left to tell). */
  get allDelivered(): boolean {
    return this.unsent === 0;
  }

  private track(signal: Promise<void>): void {
    this.unsent++;
    void signal.catch(() => undefined).finally(() => this.unsent--);
  }
}
