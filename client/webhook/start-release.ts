/**
 * The real `startRelease` for the webhook: a tag push becomes a release that starts at the last
 * environment, skips the build (the images of that commit exist) and the tag (it was pushed).
 * The workflow id comes from app + tag, so a duplicate delivery lands on the same workflow.
 */
import type { Client } from '@temporalio/client';
import { tagReleaseWorkflowId } from '../../core/ids.js';
import type { ReleaseInput } from '../../workflows/types.js';
import { startReleaseWorkflow } from '../start-release.js';
import type { TagRelease } from './tag-push.js';

export type StartRelease = (release: TagRelease) => Promise<{ workflowId: string; started: boolean }>;

export function tagReleaseInput(release: TagRelease): ReleaseInput {
  return {
    app: release.app,
    commit: release.commit,
    version: release.version,
    startAt: release.startAt,
    skipBuild: true,
    skipTag: true,
    trigger: release.trigger,
  };
}

export function startReleaseViaTemporal(client: Client, taskQueue: string): StartRelease {
  return async (release) => {
    const workflowId = tagReleaseWorkflowId(release.app, release.tag);
    const { started } = await startReleaseWorkflow(client, {
      workflowId,
      taskQueue,
      input: tagReleaseInput(release),
      summary: `release ${release.app} ${release.tag} to ${release.startAt} (tag push)`,
    });
    return { workflowId, started };
  };
}
