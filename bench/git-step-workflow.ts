/**
 * The crash bench's workflow: one overlay write, with the options the promotion gives its git
 * steps (heartbeat) or the short-step options they had before (no heartbeat), so both are
 * measured by the same workflow and differ only in how the activity is scheduled.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { GitopsActivities, WriteOverlayInput, WriteOverlayResult } from '../activities/types.js';
import { gitStepOptions, shortStepOptions, type StepLimits } from '../workflows/activities.js';

export interface GitStepInput {
  write: WriteOverlayInput;
  limits: StepLimits;
  /** gitStepOptions (heartbeat) when true, shortStepOptions otherwise. */
  heartbeat: boolean;
}

export async function gitStep(input: GitStepInput): Promise<WriteOverlayResult> {
  const options = input.heartbeat ? gitStepOptions(input.limits) : shortStepOptions(input.limits);
  return proxyActivities<GitopsActivities>(options).writeOverlayImages(input.write);
}
