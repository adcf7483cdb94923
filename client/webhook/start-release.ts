/**
 * The webhook's releases on Temporal. A pushed tag becomes a release that starts at the last
 * environment, skips the build (the images of that commit exist) and the tag (it was pushed); its
 * workflow id comes from app + tag + commit, and it names the tag (`pushedTag`) so that no
 * environment takes it to a lower version than the newest versioned release that completed there.
 * A push to a triggering branch becomes a release of that commit into one environment, built
 * first; its id comes from app + commit, like any release of that commit. Either way a duplicate
 * delivery lands on the same workflow while Temporal keeps it; once retention has dropped it, a
 * redelivered tag starts a release that its environments answer as superseded.
 */
import type { Client } from '@temporalio/client';
import { releaseWorkflowId, shortSha, tagReleaseWorkflowId } from '../../core/ids.js';
import type { ReleaseInput } from '../../workflows/types.js';
import { startReleaseWorkflow } from '../start-release.js';
import type { CreatedTagLookup, PushRelease } from './tag-push.js';

export type StartRelease = (release: PushRelease) => Promise<{ workflowId: string; started: boolean }>;

export function pushReleaseInput(release: PushRelease): ReleaseInput {
  const requestedBy = release.requestedBy ? { requestedBy: release.requestedBy } : {};
  if (release.via === 'branch') {
    return { app: release.app, commit: release.commit, startAt: release.startAt, only: true, trigger: release.trigger, ...requestedBy };
  }
  return {
    app: release.app,
    commit: release.commit,
    version: release.version,
    startAt: release.startAt,
    skipBuild: true,
    skipTag: true,
    pushedTag: release.tag,
    trigger: release.trigger,
    ...requestedBy,
  };
}

export function pushReleaseWorkflowId(release: PushRelease): string {
  return release.via === 'tag' ? tagReleaseWorkflowId(release.app, release.tag, release.commit) : releaseWorkflowId(release.app, release.commit);
}

export function startReleaseViaTemporal(client: Client, taskQueue: string): StartRelease {
  return async (release) => {
    const workflowId = pushReleaseWorkflowId(release);
    const { started } = await startReleaseWorkflow(client, {
      workflowId,
      taskQueue,
      input: pushReleaseInput(release),
      ...(release.committedAt !== undefined ? { committedAt: release.committedAt } : {}),
      summary:
        release.via === 'tag'
          ? `release ${release.app} ${release.tag} (${shortSha(release.commit)}) to ${release.startAt} (tag push)`
          : `release ${release.app} ${shortSha(release.commit)} to ${release.startAt} (push to ${release.branch})`,
    });
    return { workflowId, started };
  };
}

/** The tag a release recorded in its memo (it does so before it creates the tag). */
export function createdTagViaTemporal(client: Client): CreatedTagLookup {
  return async (workflowId) => {
    try {
      const { memo } = await client.workflow.getHandle(workflowId).describe();
      return typeof memo?.tag === 'string' ? memo.tag : undefined;
    } catch (err) {
      if ((err as Error).name === 'WorkflowNotFoundError') return undefined;
      throw err;
    }
  };
}
