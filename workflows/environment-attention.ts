/**
 * When an environment needs a person, as plain code. A promotion that failed and whose rollback
 * was refused (someone else changed the overlay after the promotion wrote it: a hotfix, a pin)
 * leaves the environment running something nobody vouched for. Slipway then writes nothing more
 * there on its own: automated promotions are refused, with the reason, until a person clears it —
 * `slipway resolve`, or (where the policy says `rollback.afterConflict: allow`) an explicit
 * rollback or override that goes through. No Temporal API and no clock: the caller passes the time.
 */
import { buildLabel } from '../core/ids.js';
import { isExplicit } from './environment-ledger.js';
import type { AttentionResolution, EnvironmentAttention, PromotionOutcome, PromotionRequest, ResolveAttention } from './types.js';

/** The rollback failure that leaves an environment needing a person (FailureType.RollbackConflict). */
export const ROLLBACK_CONFLICT = 'RollbackConflict';

/** The need for a person a finished request leaves behind, if its rollback was refused. */
export function attentionAfter(request: PromotionRequest, outcome: PromotionOutcome, now: number): EnvironmentAttention | undefined {
  if (outcome.outcome !== 'failed' || outcome.rolledBack || outcome.rollbackFailureType !== ROLLBACK_CONFLICT) return undefined;
  const rollbackError = outcome.rollbackError ?? 'the rollback was refused';
  return {
    reason: `the rollback of ${buildLabel(request)} (${request.replyTo}) was refused: ${rollbackError}`,
    failureType: outcome.rollbackFailureType,
    ...interveningCommit(rollbackError),
    requestId: request.requestId,
    releaseId: request.replyTo,
    commit: request.commit,
    ...(request.version ? { version: request.version } : {}),
    promotionFailure: outcome.reason,
    since: now,
  };
}

/**
 * The commit and author a RollbackConflict names. The gitops activity says
 * `last changed by <sha> (<name> <email>: "<subject>")`; the whole text stays in `reason` either way.
 */
export function interveningCommit(text: string): { interveningCommit?: string; interveningAuthor?: string } {
  const match = /last changed by ([0-9a-f]{7,64})(?: \((.+?<[^<>]*>): ")?/i.exec(text);
  if (!match) return {};
  return { interveningCommit: match[1], ...(match[2] ? { interveningAuthor: match[2] } : {}) };
}

/**
 * Why `request` may not run while the environment needs a person; undefined when it may. Automated
 * promotions never do: they cannot know whether the commit in between should be overwritten, and
 * a request that waited instead would hold its release (and every one queued behind it) open for
 * as long as nobody looks — refusing says at once, to the release and in its notifications, why
 * nothing was deployed. An explicit rollback or an override (a person naming the build) may, where
 * the policy says `rollback.afterConflict: allow`; by default (`refuse`) the person resolves first.
 */
export function attentionRefusal(attention: EnvironmentAttention | undefined, request: PromotionRequest): string | undefined {
  if (!attention || mayOverride(request)) return undefined;
  const where = `${request.app}/${request.environment.name}`;
  const clear = `slipway resolve ${request.app} ${request.environment.name} --reason "…"`;
  const since = new Date(attention.since).toISOString();
  if (isExplicit(request)) {
    return `${where} needs a person since ${since}: ${attention.reason}. Its policy (rollback.afterConflict: refuse) lets no rollback or override past that: look at the commit in between, then ${clear}`;
  }
  const orExplicit = request.environment.rollback?.afterConflict === 'allow' ? ', or an explicit slipway rollback / promote --force' : '';
  return `${where} needs a person since ${since}: ${attention.reason}. Promotions are refused until someone clears it (${clear}${orExplicit})`;
}

/** Whether the policy lets this request past a need for a person: an explicit one, where `afterConflict: allow`. */
export function mayOverride(request: PromotionRequest): boolean {
  return isExplicit(request) && request.environment.rollback?.afterConflict === 'allow';
}

/** Why a resolution cannot be taken now; undefined when it can. */
export function resolveProblem(attention: EnvironmentAttention | undefined, r: ResolveAttention, where: string): string | undefined {
  if (!r || typeof r.by !== 'string' || r.by.trim() === '') return 'a resolution must say who gives it (by)';
  if (typeof r.reason !== 'string' || r.reason.trim() === '') return 'a resolution must give its reason';
  if (!attention) return `${where} does not need a person: there is nothing to resolve`;
  return undefined;
}

/** The note on the record of an explicit request whose success cleared the need for a person. */
export function clearedNote(resolution: AttentionResolution): string {
  return `cleared the need for a person (since ${new Date(resolution.attention.since).toISOString()}: ${resolution.attention.reason}) by ${resolution.via} of ${resolution.by}: ${resolution.reason}`;
}
