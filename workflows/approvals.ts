/**
 * One wait for approval, as plain code: who may decide through which channel, how many different
 * people must approve, and whether the person who asked may approve their own release (four
 * eyes). The environment workflow opens one when a request reaches an approval gate and feeds it
 * the decisions that arrive; a GitHub decision is checked against GitHub by an activity first.
 */
import { buildLabel } from '../core/ids.js';
import type { EnvironmentConfig } from '../config/schema.js';
import type { ApprovalDecision, PromotionRequest } from './types.js';

/**
 * How a decision reached the workflow: the `approve`/`reject` Update from the CLI (`cli`), the
 * `*BySignal` signals a person sends from the Temporal UI (`ui`), or a GitHub comment relayed by
 * the webhook and checked by the worker (`github`). Only `github` proves who the person is; the
 * others carry the name the caller gives, so a policy may refuse them.
 */
export type ApprovalChannel = 'cli' | 'ui' | 'github';

export interface ApprovalRules {
  count: number;
  fourEyes: boolean;
  channels: ApprovalChannel[];
  approvers?: { users: string[]; teams: string[] };
  /** Who asked for the release (four eyes). */
  requestedBy?: string;
}

export interface Approval {
  by: string;
  channel: ApprovalChannel;
  at: number;
}

/** The gate's rules from the environment's policy. Requests from before rules existed keep one approval by anyone. */
export function approvalRules(approval: NonNullable<EnvironmentConfig['approval']>, requestedBy: string | undefined): ApprovalRules {
  return {
    count: approval.count ?? 1,
    fourEyes: approval.fourEyes ?? false,
    channels: approval.channels ?? ['github', 'cli', 'ui'],
    ...(approval.approvers ? { approvers: approval.approvers } : {}),
    ...(requestedBy ? { requestedBy } : {}),
  };
}

const same = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

export class ApprovalWait {
  readonly approvals: Approval[] = [];
  rejection: (Approval & { reason?: string }) | undefined;

  constructor(
    readonly request: PromotionRequest,
    readonly rules: ApprovalRules,
    /** When the wait began: a GitHub comment must be newer. */
    readonly since: number,
  ) {}

  /** Approved by enough people, or rejected. */
  get decided(): boolean {
    return this.rejection !== undefined || this.approvals.length >= this.rules.count;
  }

  get approved(): boolean {
    return this.rejection === undefined && this.approvals.length >= this.rules.count;
  }

  /** `cli:alice, github:bob`: for the record. */
  get approvedBy(): string {
    return this.approvals.map((a) => `${a.channel}:${a.by}`).join(', ');
  }

  /** Why this decision cannot be taken, or undefined. Checks what the workflow can know itself. */
  problem(d: ApprovalDecision, approve: boolean, channel: ApprovalChannel, where: string): string | undefined {
    if (!d || typeof d.by !== 'string' || d.by.trim() === '') return 'an approval must say who gives it (by)';
    if (this.decided) return `${where} is not waiting for approval (the decision on ${buildLabel(this.request)} is made)`;
    if (d.version && d.version !== this.request.version && !this.request.commit.startsWith(d.version)) {
      return `${where} is waiting for approval of ${buildLabel(this.request)}, not ${d.version}`;
    }
    if (!this.rules.channels.includes(channel)) {
      return `${where} does not take decisions through ${channel} (the policy accepts: ${this.rules.channels.join(', ')})`;
    }
    if (channel === 'github' && !d.evidence) return 'a decision from GitHub must carry the signed webhook delivery of its comment';
    if (approve && this.rules.fourEyes && this.rules.requestedBy && same(this.rules.requestedBy, d.by)) {
      return `${d.by} asked for ${buildLabel(this.request)} and may not approve it too (the policy wants four eyes)`;
    }
    const listed = this.rules.approvers;
    if (channel !== 'github' && listed && (listed.users.length > 0 || listed.teams.length > 0) && !listed.users.some((u) => same(u, d.by))) {
      // A name given through the CLI or the UI can only be matched against the listed people; teams are checked on GitHub.
      return `${d.by} is not among the approvers of ${where} (${[...listed.users, ...listed.teams].join(', ')})`;
    }
    if (approve && this.approvals.some((a) => same(a.by, d.by))) {
      return `${d.by} has approved ${buildLabel(this.request)} already; ${this.rules.count - this.approvals.length} more needed from someone else`;
    }
    return undefined;
  }

  /** Takes a decision that passed `problem` (and, for GitHub, the worker's check). */
  take(d: ApprovalDecision, approve: boolean, channel: ApprovalChannel, at: number): { requestId: string; version?: string; approvals: number; needed: number } {
    if (approve) this.approvals.push({ by: d.by, channel, at });
    else this.rejection = { by: d.by, channel, at, ...(d.comment ? { reason: d.comment } : {}) };
    return { requestId: this.request.requestId, version: this.request.version, approvals: this.approvals.length, needed: this.rules.count };
  }
}
