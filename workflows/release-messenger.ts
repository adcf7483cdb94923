/**
 * The environment workflow's messages to the releases that asked it for something: where their
 * request stands, and the answer. Signals are fire-and-forget, but the server drops a signal whose
 * sender has closed, so continue-as-new waits until every one sent here has been delivered (or
 * refused): a reply sent in the same task would otherwise be lost and its release would wait for ever.
 */
import { getExternalWorkflowHandle } from '@temporalio/workflow';
import { workflowNow } from './clock.js';
import { promotionFinishedSignal, promotionProgressSignal } from './messages.js';
import type { EnvironmentPhase, PromotionOutcome, PromotionReply, PromotionRequest } from './types.js';

export class ReleaseMessenger {
  private unsent = 0;

  constructor(private readonly environment: string) {}

  progress(request: PromotionRequest, phase: EnvironmentPhase, detail: string): void {
    this.track(
      getExternalWorkflowHandle(request.replyTo).signal(promotionProgressSignal, { environment: this.environment, phase, detail, since: workflowNow() }),
    );
  }

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
