/** Rendering a release's status for a terminal: one line per step, and what it waits for now. */
import { formatDuration } from '../core/duration.js';
import type { ReleaseStatus } from '../workflows/types.js';

const MARK: Record<string, string> = { pending: '·', running: '▸', done: '✔', failed: '✘', skipped: '–' };

export function renderSteps(status: ReleaseStatus): string[] {
  return status.steps.map((step) => {
    const env = status.environments.find((e) => e.environment === step.name);
    const phase = env && step.state === 'running' ? ` (${env.phase}${env.detail ? `: ${env.detail}` : ''})` : '';
    return `  ${MARK[step.state] ?? '?'} ${step.name}${phase}${step.detail && step.state !== 'running' ? ` — ${step.detail}` : ''}`;
  });
}

export function renderWaiting(status: ReleaseStatus, now: number): string | undefined {
  if (!status.waitingFor || ['released', 'failed', 'superseded', 'cancelled'].includes(status.stage)) return undefined;
  return `  waiting for ${status.waitingFor} (${formatDuration(Math.max(0, now - status.since))})`;
}

/** A key that changes whenever something a person would want to see changes. */
export function progressKey(status: ReleaseStatus): string {
  return JSON.stringify([status.stage, status.steps, status.environments.map((e) => [e.phase, e.detail])]);
}
