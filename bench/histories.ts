/** Counting what a release cost in workflow history: its own, its environments' and its promotions'. */
import type { Client } from '@temporalio/client';
import { environmentWorkflowId, promotionWorkflowId } from '../core/ids.js';
import type { ReleasePipeline } from '../workflows/types.js';

export interface ReleaseHistory {
  events: number;
  activities: number;
  workflows: number;
  promotions: number;
}

/**
 * The histories a release of a fresh app makes: the release, one environment workflow per
 * environment, and the first promotion (sequence 1) of each.
 */
export async function releaseHistory(client: Client, pipeline: ReleasePipeline, commit: string, releaseId: string): Promise<ReleaseHistory> {
  const envs = pipeline.appConfig.environments.map((e) => e.name);
  const ids = [releaseId, ...envs.map((e) => environmentWorkflowId(pipeline.app, e)), ...envs.map((e) => promotionWorkflowId(pipeline.app, e, commit, 1))];
  let events = 0;
  let activities = 0;
  for (const id of ids) {
    const history = await client.workflow.getHandle(id).fetchHistory();
    events += history.events?.length ?? 0;
    activities += history.events?.filter((e) => e.activityTaskScheduledEventAttributes).length ?? 0;
  }
  return { events, activities, workflows: ids.length, promotions: envs.length };
}
