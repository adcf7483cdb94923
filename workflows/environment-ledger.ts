/**
 * What one environment knows, as plain code: what runs there, the request in flight and the one
 * waiting behind it, requests for the same build that share an answer, and the last deployments.
 * The environment workflow owns one of these and does what its answers say (send the replies,
 * start the promotion); keeping the queue policy here, apart from the message handlers, lets it be
 * tested without a Temporal server. No Temporal API and no clock: the caller passes the time.
 */
import { formatDuration } from '../core/duration.js';
import { buildLabel } from '../core/ids.js';
import { compareSemver } from '../core/version.js';
import type { ApprovalChannel, ApprovalWait } from './approvals.js';
import type {
  ApprovalDecision,
  AttentionResolution,
  Deployment,
  DeploymentRecord,
  EnvironmentAttention,
  EnvironmentPhase,
  EnvironmentWorkflowInput,
  NewestRelease,
  PromotionOutcome,
  PromotionRequest,
  QueuedRequestView,
} from './types.js';

export const RECENT_KEPT = 20;
/** Withdrawals remembered for requests that have not arrived (oldest dropped first). */
const WITHDRAWN_KEPT = 50;
/** Cleared needs for a person kept, newest first. */
export const RESOLUTIONS_KEPT = 10;

export type CarriedLedger = NonNullable<EnvironmentWorkflowInput['carried']>;

/** What the workflow learnt while running a request, kept with its record. */
export type RecordFacts = Pick<DeploymentRecord, 'policyVersion' | 'approvedBy' | 'approvals' | 'notes'>;

/** A request and the answer it is to get. */
export interface Answer {
  request: PromotionRequest;
  outcome: PromotionOutcome;
}

/** What became of a request that arrived. */
export type Admission =
  /** Seen before; `answer` is the recorded one when it finished already (its first reply may have been lost). */
  | { kind: 'duplicate'; answer?: Answer }
  /** Taken back before it arrived: recorded as cancelled, never queued. */
  | { kind: 'withdrawn' }
  /** The same build is pending already: this request gets that one's answer. */
  | { kind: 'follower'; of: PromotionRequest }
  /** The build runs there already and nothing is pending: answered at once. */
  | { kind: 'already-deployed'; answer: Answer }
  /** From a release older than one waiting or completed here: answered superseded at once, never queued. */
  | { kind: 'stale'; answer: Answer }
  /** In the queue; `superseded` are the requests it replaced, `behind` the one in flight when it waits. */
  | { kind: 'queued'; superseded: Answer[]; behind?: PromotionRequest };

/** What a withdrawal did. */
export type Withdrawal =
  /** The request in flight: the workflow stops it (gates or the running promotion). */
  | { kind: 'in-flight' }
  /** A waiting request or a follower, taken out and recorded as cancelled. */
  | { kind: 'removed'; request: PromotionRequest }
  | { kind: 'unknown' };

/** A newer release than the one asking: the one waiting here, or the newest that completed here. */
export interface NewerRelease {
  releaseId: string;
  commit: string;
  version?: string;
  where: 'waiting' | 'completed';
}

/**
 * A release's age, as environments compare releases: the start time of its workflow, which the
 * release sends with each request. It is fixed for the release's life and the same on replay,
 * unlike the time a request arrives (a crash can delay that by minutes); the release's workflow
 * id breaks a tie. Requests without it (from releases that did not send it) have no age, and
 * keep the order in which they arrived.
 */
interface ReleaseAge {
  startedAt: number;
  releaseId: string;
}

function ageOf(request: PromotionRequest): ReleaseAge | undefined {
  const startedAt = request.releaseStartedAt;
  return typeof startedAt === 'number' && Number.isFinite(startedAt) ? { startedAt, releaseId: request.replyTo } : undefined;
}

/** Whether release `a` started before release `b`. */
export function startedBefore(a: ReleaseAge, b: ReleaseAge): boolean {
  return a.startedAt < b.startedAt || (a.startedAt === b.startedAt && a.releaseId < b.releaseId);
}

/**
 * Whether a request may take the environment back past a newer release: an explicit rollback, or
 * an override (a person naming the build, after someone else approves). Others never do.
 */
export function isExplicit(request: PromotionRequest): boolean {
  return request.kind === 'rollback' || request.override !== undefined;
}

/** Where the request in flight stands: a gate it waits at, or its promotion. */
export interface Gate {
  phase: EnvironmentPhase;
  detail?: string;
  since: number;
}

export class EnvironmentLedger {
  current: Deployment | undefined;
  readonly recent: DeploymentRecord[];
  /** pending[0] is in flight (gates or promotion); pending[1], if any, waits behind it. */
  readonly pending: PromotionRequest[];
  /** Requests for the same build as one already pending, by that one's id: they get its answer. */
  readonly followers: Map<string, PromotionRequest[]>;
  readonly withdrawn: Set<string>;
  /** The newest release (by start time) that completed here; carried, so an older one stays refused. */
  newest: NewestRelease | undefined;
  /**
   * The newest release (by start time) with a version that completed here; carried, so a pushed
   * tag below its version stays refused however long ago that was. A release without a version
   * (a `slipway promote` of a bare commit) leaves it as it was: it says nothing about versions.
   */
  newestVersioned: NewestRelease | undefined;
  /** Numbers the promotions (child workflow ids), across continue-as-new. */
  sequence: number;
  gate: Gate | undefined;
  /** The request in flight's wait for approval, while it waits (and until it is settled). */
  approval: ApprovalWait | undefined;
  /** Set while the environment needs a person (a refused rollback); carried until someone clears it. */
  attention: EnvironmentAttention | undefined;
  /** Who cleared it before, why and how, newest first. */
  readonly resolutions: AttentionResolution[];

  constructor(carried?: CarriedLedger) {
    this.current = carried?.current;
    this.recent = [...(carried?.recent ?? [])];
    this.pending = [...(carried?.pending ?? [])];
    this.followers = new Map(Object.entries(carried?.followers ?? {}));
    this.withdrawn = new Set(carried?.withdrawn ?? []);
    this.newest = carried?.newest;
    this.newestVersioned = carried?.newestVersioned;
    this.sequence = carried?.sequence ?? 0;
    this.attention = carried?.attention;
    this.resolutions = [...(carried?.resolutions ?? [])];
  }

  get head(): PromotionRequest | undefined {
    return this.pending[0];
  }

  get waiting(): PromotionRequest | undefined {
    return this.pending[1];
  }

  /**
   * Takes a request in: deduplicated, joined to the same build, answered at once, or queued. A
   * request from a release older than the one waiting, or than the newest that completed here, is
   * answered superseded — where the caller's versioning says this run does so (`byAge`; older runs
   * went by arrival alone). An older request behind a newer one in flight waits: should the newer
   * one fail, the older build may still go (see `newerCompleted` when it comes to the head). A
   * pushed tag's request below the newest version that completed here is answered superseded too
   * (`byVersion`, where the caller's versioning says so; see `higherVersionCompleted`).
   */
  receive(request: PromotionRequest, now: number, options: { byAge: () => boolean; byVersion?: () => boolean; laterRun?: () => boolean } = { byAge: () => true }): Admission {
    // A release cannot have started after its request arrived: a start time from the future
    // (anyone who reaches the Temporal API can send one) would otherwise win over every later release.
    if (request.releaseStartedAt !== undefined && request.releaseStartedAt > now) request = { ...request, releaseStartedAt: now };
    const done = this.recent.find((r) => r.requestId === request.requestId);
    // A request id is a release's id and an environment. A retry of its delivery comes from the
    // same run of that release; a later run under the same id (started again once Temporal's
    // retention dropped the first: a redelivered tag, a repeated `slipway release`) asks anew, and
    // the first run's answer would tell it of a deployment it did not make. Where the caller's
    // versioning says so (`laterRun`; older runs answered it as a duplicate).
    const laterRun = done !== undefined && !this.isQueued(request.requestId) && startedLaterThan(request, done) && (options.laterRun?.() ?? true);
    if (this.isKnown(request.requestId) && !laterRun) {
      return { kind: 'duplicate', answer: done ? { request, outcome: recordedOutcome(done) } : undefined };
    }
    if (this.withdrawn.has(request.requestId)) {
      // Taken back before it arrived (the withdrawal overtook the request): it never queues.
      this.withdrawn.delete(request.requestId);
      this.record(request, { outcome: 'cancelled' }, now);
      return { kind: 'withdrawn' };
    }
    const sameBuild = this.pending.find((p) => p.commit === request.commit && p.kind === request.kind && !this.withdrawn.has(p.requestId));
    if (sameBuild) {
      this.followers.set(sameBuild.requestId, [...(this.followers.get(sameBuild.requestId) ?? []), request]);
      return { kind: 'follower', of: sameBuild };
    }
    // While a person is needed, what runs there is not known to be `current`: the request queues
    // (and is answered when it reaches the head) instead of being told its build runs already.
    if (this.pending.length === 0 && this.current && this.current.commit === request.commit && request.kind === 'promote' && !this.attention) {
      const outcome: PromotionOutcome = { outcome: 'promoted', gitopsCommit: this.current.gitopsCommit, previousImages: this.current.images, alreadyDeployed: true };
      this.record(request, outcome, now);
      this.completed(request);
      return { kind: 'already-deployed', answer: { request, outcome } };
    }
    const newer = this.newerThanArrival(request);
    if (newer && options.byAge()) {
      const outcome: PromotionOutcome = { outcome: 'superseded', by: newer.releaseId };
      this.record(request, outcome, now, { notes: [olderThan(newer)] });
      return { kind: 'stale', answer: { request, outcome } };
    }
    const higher = this.higherVersionCompleted(request);
    if (higher && (options.byVersion?.() ?? true)) {
      const outcome: PromotionOutcome = { outcome: 'superseded', by: higher.releaseId };
      this.record(request, outcome, now, { notes: [lowerVersionThan(request, higher)] });
      return { kind: 'stale', answer: { request, outcome } };
    }
    const superseded: Answer[] = [];
    if (this.pending.length >= 2) {
      const replaced = this.pending.pop()!;
      superseded.push(...this.settle(replaced, { outcome: 'superseded', by: request.replyTo }, now));
    }
    this.pending.push(request);
    return { kind: 'queued', superseded, behind: this.pending.length === 2 ? this.pending[0] : undefined };
  }

  /**
   * Takes a request back. The one in flight is only marked: the workflow stops its gates or its
   * promotion and settles it. A waiting one is removed. A follower, and a request not seen yet
   * (remembered so that it never queues when it comes), only where the caller's versioning says
   * this run does so: older runs ignored both.
   */
  withdraw(requestId: string, now: number, options: { followers: () => boolean; unseen: () => boolean; handOver?: () => boolean }): Withdrawal {
    const index = this.pending.findIndex((p) => p.requestId === requestId);
    if (index === 0) {
      this.withdrawn.add(requestId);
      return { kind: 'in-flight' };
    }
    if (index > 0) {
      const [removed] = this.pending.splice(index, 1);
      this.record(removed!, { outcome: 'cancelled' }, now);
      // Its followers were not withdrawn: the first takes its place in the queue.
      if (this.followers.has(removed!.requestId) && (options.handOver?.() ?? true)) this.handOver(removed!, index);
      return { kind: 'removed', request: removed! };
    }
    for (const [leader, list] of this.followers) {
      const follower = list.find((f) => f.requestId === requestId);
      if (!follower) continue;
      if (options.followers()) {
        const rest = list.filter((f) => f !== follower);
        if (rest.length > 0) this.followers.set(leader, rest);
        else this.followers.delete(leader);
        this.record(follower, { outcome: 'cancelled' }, now);
        return { kind: 'removed', request: follower };
      }
      return { kind: 'unknown' };
    }
    if (!this.recent.some((r) => r.requestId === requestId) && options.unseen()) {
      this.withdrawn.add(requestId);
      if (this.withdrawn.size > WITHDRAWN_KEPT) this.withdrawn.delete(this.withdrawn.values().next().value!);
    }
    return { kind: 'unknown' };
  }

  isWithdrawn(requestId: string): boolean {
    return this.withdrawn.has(requestId);
  }

  /**
   * The head is done: it and its followers are recorded, and each is to get this answer. A head
   * cancelled because its own release withdrew it is the exception: nobody cancelled its followers,
   * so the first of them becomes the head and runs (the rest follow it) — where the caller's
   * versioning says this run does so (`handOver`; older runs gave them the "cancelled" too).
   */
  finishHead(outcome: PromotionOutcome, now: number, facts: RecordFacts = {}, options: { handOver: () => boolean } = { handOver: () => true }): Answer[] {
    const head = this.pending.shift();
    if (!head) return [];
    this.gate = undefined;
    this.approval = undefined;
    const withdrawn = this.withdrawn.delete(head.requestId);
    if (withdrawn && outcome.outcome === 'cancelled' && this.followers.has(head.requestId) && options.handOver()) {
      this.handOver(head, 0);
      this.record(head, outcome, now, facts);
      return [{ request: head, outcome }];
    }
    return this.settle(head, outcome, now, facts);
  }

  /**
   * Clears the need for a person: recorded with who, why and how. Undefined when there was none
   * (an explicit request that succeeded after someone resolved it already).
   */
  resolve(by: Omit<AttentionResolution, 'attention' | 'at'>, now: number): AttentionResolution | undefined {
    const attention = this.attention;
    if (!attention) return undefined;
    const resolution: AttentionResolution = { attention, ...by, at: now };
    this.attention = undefined;
    this.resolutions.unshift(resolution);
    this.resolutions.splice(RESOLUTIONS_KEPT);
    return resolution;
  }

  /** The head's promotion went through: it is what runs there now. */
  deployed(request: PromotionRequest, gitopsCommit: string, now: number): void {
    this.current = {
      requestId: request.requestId,
      releaseId: request.replyTo,
      commit: request.commit,
      version: request.version,
      images: request.images,
      gitopsCommit,
      at: now,
    };
    this.completed(request);
  }

  /**
   * The newest release that completed here, when this request's release is older than it; for the
   * head before it starts (one that waited behind the newer one, or was carried across
   * continue-as-new). Whether the request may go anyway (`isExplicit`) is the caller's to decide.
   */
  newerCompleted(request: PromotionRequest): NewerRelease | undefined {
    const age = ageOf(request);
    if (!age || !this.newest || !startedBefore(age, this.newest)) return undefined;
    return { releaseId: this.newest.releaseId, commit: this.newest.commit, version: this.newest.version, where: 'completed' };
  }

  /**
   * The newest versioned release that completed here, when this request comes from a pushed tag
   * (`pushedTag`) whose version is lower than that one's. Start times cannot order these: a
   * delivery GitHub redelivers (or a person replays) after Temporal's retention dropped the first
   * release starts a new release — the newest by start time — of an old build. The tag's version
   * can, and what it is compared with is carried across continue-as-new, so the refusal outlives
   * retention. Equal versions go (a tag re-created on another commit is a request the policy
   * decides on; the same commit running already is answered at once). Explicit requests never
   * name a pushed tag, so `slipway promote` and `rollback` still go back; a version either side
   * that is not semantic compares to nothing, and the request goes as any other.
   */
  higherVersionCompleted(request: PromotionRequest): NewerRelease | undefined {
    const floor = this.newestVersioned;
    if (typeof request.pushedTag !== 'string' || request.kind !== 'promote' || isExplicit(request) || !request.version || !floor?.version) return undefined;
    const order = compareSemver(request.version, floor.version);
    return order !== undefined && order < 0 ? { releaseId: floor.releaseId, commit: floor.commit, version: floor.version, where: 'completed' } : undefined;
  }

  /** The next promotion's number. */
  nextSequence(): number {
    return ++this.sequence;
  }

  /** Whether an approval or rejection may be taken now; the reason when not. */
  approvalProblem(d: ApprovalDecision, approve: boolean, channel: ApprovalChannel, where: string): string | undefined {
    if (!d || typeof d.by !== 'string' || d.by.trim() === '') return 'an approval must say who gives it (by)';
    const head = this.head;
    if (!head || this.gate?.phase !== 'awaiting-approval' || !this.approval) {
      return `${where} is not waiting for approval${head ? ` (it is ${this.gate?.phase ?? 'queued'}: ${buildLabel(head)})` : ' (nothing is pending)'}`;
    }
    return this.approval.problem(d, approve, channel, where);
  }

  view(request: PromotionRequest, gate?: Gate): QueuedRequestView {
    return {
      requestId: request.requestId,
      releaseId: request.replyTo,
      commit: request.commit,
      version: request.version,
      phase: gate?.phase ?? 'queued',
      detail: gate?.detail,
      since: gate?.since ?? request.requestedAt,
    };
  }

  /** What continue-as-new hands to the next run. */
  carry(): CarriedLedger {
    return {
      current: this.current,
      recent: this.recent,
      pending: this.pending,
      sequence: this.sequence,
      followers: Object.fromEntries(this.followers),
      ...(this.withdrawn.size > 0 ? { withdrawn: [...this.withdrawn] } : {}),
      ...(this.newest ? { newest: this.newest } : {}),
      ...(this.newestVersioned ? { newestVersioned: this.newestVersioned } : {}),
      ...(this.attention ? { attention: this.attention } : {}),
      ...(this.resolutions.length > 0 ? { resolutions: this.resolutions } : {}),
    };
  }

  /** A newer release that makes an arriving request stale: the one waiting, or the newest that completed. */
  private newerThanArrival(request: PromotionRequest): NewerRelease | undefined {
    const age = ageOf(request);
    if (!age || isExplicit(request)) return undefined;
    const waiting = this.pending[1];
    const waitingAge = waiting && ageOf(waiting);
    if (waiting && waitingAge && startedBefore(age, waitingAge)) {
      return { releaseId: waiting.replyTo, commit: waiting.commit, version: waiting.version, where: 'waiting' };
    }
    return this.newerCompleted(request);
  }

  /** A request's release completed here: the newest one so far, unless a newer one did before. */
  private completed(request: PromotionRequest): void {
    const age = ageOf(request);
    if (!age) return;
    const release: NewestRelease = { releaseId: age.releaseId, startedAt: age.startedAt, commit: request.commit, ...(request.version ? { version: request.version } : {}) };
    if (!this.newest || startedBefore(this.newest, age)) this.newest = release;
    if (request.version && (!this.newestVersioned || startedBefore(this.newestVersioned, age))) this.newestVersioned = release;
  }

  /** `leader` leaves the queue unanswered for its followers: the first takes its place at `index`, the rest follow it. */
  private handOver(leader: PromotionRequest, index: number): void {
    const [next, ...rest] = this.followers.get(leader.requestId) ?? [];
    this.followers.delete(leader.requestId);
    if (!next) return;
    this.pending.splice(index, 0, next);
    if (rest.length > 0) this.followers.set(next.requestId, rest);
  }

  private settle(request: PromotionRequest, outcome: PromotionOutcome, now: number, facts: RecordFacts = {}): Answer[] {
    const answers = [request, ...(this.followers.get(request.requestId) ?? [])].map((r) => ({ request: r, outcome }));
    this.followers.delete(request.requestId);
    for (const answer of answers) this.record(answer.request, outcome, now, facts);
    return answers;
  }

  private record(request: PromotionRequest, outcome: PromotionOutcome, finishedAt: number, facts: RecordFacts = {}): void {
    this.recent.unshift({
      requestId: request.requestId,
      releaseId: request.replyTo,
      commit: request.commit,
      version: request.version,
      kind: request.kind,
      ...(request.releaseStartedAt !== undefined ? { releaseStartedAt: request.releaseStartedAt } : {}),
      outcome: outcome.outcome,
      reason: reasonOf(outcome),
      gitopsCommit: outcome.outcome === 'promoted' ? outcome.gitopsCommit : outcome.outcome === 'failed' ? outcome.rollbackCommit : undefined,
      requestedAt: request.requestedAt,
      finishedAt,
      result: outcome,
      ...facts,
    });
    this.recent.splice(RECENT_KEPT);
  }

  private isKnown(requestId: string): boolean {
    return this.isQueued(requestId) || this.recent.some((r) => r.requestId === requestId);
  }

  private isQueued(requestId: string): boolean {
    return this.pending.some((p) => p.requestId === requestId) || [...this.followers.values()].some((list) => list.some((f) => f.requestId === requestId));
  }
}

/** Whether `request` comes from a later run of the release that `record`'s request came from (both say when their run started). */
function startedLaterThan(request: PromotionRequest, record: DeploymentRecord): boolean {
  return typeof request.releaseStartedAt === 'number' && typeof record.releaseStartedAt === 'number' && request.releaseStartedAt > record.releaseStartedAt;
}

/** Why a request from an older release was not run, for its record. */
export function olderThan(newer: NewerRelease): string {
  return `${newer.releaseId} (${buildLabel(newer)}) started later and ${newer.where === 'waiting' ? 'waits' : 'completed'} here: an older release never replaces a newer one`;
}

/** Why a pushed tag's request was not run, for its record. */
export function lowerVersionThan(request: PromotionRequest, higher: NewerRelease): string {
  return `tag ${request.pushedTag} is ${request.version}, lower than ${buildLabel(higher)} of ${higher.releaseId}, the newest version that completed here: a pushed tag never takes an environment to a lower version (slipway promote or rollback can)`;
}

/** The note on the record of an explicit request that goes back past a newer release. */
export function goesBackPast(request: PromotionRequest, newer: NewerRelease): string {
  const what = request.kind === 'rollback' ? 'explicit rollback' : `override by ${request.requestedBy ?? 'someone unnamed'}`;
  return `${what}: goes back past ${newer.releaseId} (${buildLabel(newer)}), a newer release that completed here`;
}

/** The reason a person reads in `slipway history` and status. */
export function reasonOf(outcome: PromotionOutcome): string | undefined {
  switch (outcome.outcome) {
    case 'failed':
    case 'refused':
      return outcome.reason;
    case 'superseded':
      return `superseded by ${outcome.by}`;
    case 'rejected':
      return `rejected by ${outcome.by}${outcome.reason ? `: ${outcome.reason}` : ''}`;
    case 'approval-timed-out':
      return `no approval within ${formatDuration(outcome.after)}`;
    default:
      return undefined;
  }
}

/**
 * The answer recorded for a finished request. Records carried from runs before outcomes were
 * kept whole hold only the outcome's name and reason; for those it is rebuilt as well as it can be.
 */
export function recordedOutcome(record: DeploymentRecord): PromotionOutcome {
  if (record.result) return record.result;
  switch (record.outcome) {
    case 'promoted':
      return { outcome: 'promoted', gitopsCommit: record.gitopsCommit ?? '', previousImages: [], alreadyDeployed: true };
    case 'failed':
      return { outcome: 'failed', reason: record.reason ?? 'failed', failureType: 'PromotionFailed', rolledBack: Boolean(record.gitopsCommit), rollbackCommit: record.gitopsCommit };
    case 'superseded':
      return { outcome: 'superseded', by: (record.reason ?? '').replace('superseded by ', '') };
    case 'rejected':
      return { outcome: 'rejected', by: record.reason ?? '' };
    case 'approval-timed-out':
      return { outcome: 'approval-timed-out', after: record.finishedAt - record.requestedAt };
    default:
      return { outcome: 'cancelled' };
  }
}

/** The fields the environment reads from a request before its policy replaces the rest. */
export function isPromotionRequest(value: unknown): value is PromotionRequest {
  const r = value as Partial<PromotionRequest> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.requestId === 'string' &&
    typeof r.replyTo === 'string' &&
    typeof r.app === 'string' &&
    typeof r.commit === 'string' &&
    /^[0-9a-f]{7,64}$/i.test(r.commit) &&
    (r.kind === 'promote' || r.kind === 'rollback') &&
    typeof r.requestedAt === 'number' &&
    typeof r.environment === 'object' &&
    r.environment !== null
  );
}
