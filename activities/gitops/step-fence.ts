/**
 * Fencing overlay writes by step. Two replicas of a worker can both run an attempt of one write:
 * the first times out in Temporal's eyes but is still alive (a "zombie"), the workflow moves on —
 * it rolls back, or the next promotion writes — and the zombie then pushes. A non-forced push only
 * protects against a branch that moved between our fetch and our push; it cannot tell that the
 * branch moved *because this environment went on without us*.
 *
 * So each write carries its step (see WriteStep) in a `Slipway-Step` trailer, and before every
 * push the writer looks at the newest Slipway commit of the same app and environment on the branch:
 * - a later step of the same environment run chain: this attempt is late and must not land;
 * - this very step: an earlier attempt of it already landed (and died before answering), so its
 *   commit is the answer, and nothing is written twice;
 * - an earlier step, another run chain, or none: go ahead.
 * The check and the push are tied by git itself: if anything lands between them the push is
 * rejected as non-fast-forward, and the writer fetches and checks again.
 */
import type { WriteStep } from '../types.js';

export interface StepCommit {
  commit: string;
  app: string;
  environment: string;
  step?: WriteStep;
}

export type FenceVerdict = { kind: 'go' } | { kind: 'already-landed'; commit: string } | { kind: 'stale'; by: StepCommit };

const PHASE_ORDER: Record<WriteStep['phase'], number> = { write: 1, compensation: 2 };

export function stepTrailer(step: WriteStep): string {
  return `Slipway-Step: ${step.sequence} ${step.phase} (${step.epoch})`;
}

const STEP = /^(\d+) (write|compensation) \(([^()\s]+)\)$/;

export function parseStep(value: string): WriteStep | undefined {
  const m = STEP.exec(value.trim());
  if (!m) return undefined;
  return { sequence: Number(m[1]), phase: m[2] as WriteStep['phase'], epoch: m[3]! };
}

/** Orders two steps of one run chain: negative when `a` came first. */
export function compareSteps(a: WriteStep, b: WriteStep): number {
  return a.sequence - b.sequence || PHASE_ORDER[a.phase] - PHASE_ORDER[b.phase];
}

/** The separators of LOG_FORMAT: a record per commit, the hash apart from the message. */
export const LOG_FORMAT = '%x1e%H%x1f%B';

/** Reads `git log --format=LOG_FORMAT` output into the Slipway commits it lists, newest first. */
export function parseStepLog(output: string): StepCommit[] {
  const commits: StepCommit[] = [];
  for (const record of output.split('\x1e')) {
    const [hash, message = ''] = record.split('\x1f');
    if (!hash?.trim()) continue;
    const trailer = (key: string) => new RegExp(`^${key}: (.*)$`, 'm').exec(message)?.[1]?.trim();
    const app = trailer('Slipway-App');
    const environment = trailer('Slipway-Environment');
    if (!app || !environment) continue;
    const stepValue = trailer('Slipway-Step');
    const step = stepValue ? parseStep(stepValue) : undefined;
    commits.push({ commit: hash.trim(), app, environment, ...(step ? { step } : {}) });
  }
  return commits;
}

/**
 * What a write of `mine` for (app, environment) may do, given the branch's Slipway commits newest
 * first. Only commits that carry a step count: older Slipway versions and people's own commits
 * say nothing about the order of steps.
 */
export function fenceVerdict(mine: WriteStep, app: string, environment: string, commits: StepCommit[]): FenceVerdict {
  const latest = latestStepCommit(commits, app, environment);
  if (!latest?.step || latest.step.epoch !== mine.epoch) return { kind: 'go' };
  const order = compareSteps(latest.step, mine);
  if (order > 0) return { kind: 'stale', by: latest };
  if (order === 0) return { kind: 'already-landed', commit: latest.commit };
  return { kind: 'go' };
}

export function latestStepCommit(commits: StepCommit[], app: string, environment: string): StepCommit | undefined {
  return commits.find((c) => c.app === app && c.environment === environment && c.step);
}
