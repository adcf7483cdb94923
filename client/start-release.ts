/**
 * Starting a release from config: shared by the CLI and the tag-push webhook. The workflow id is
 * derived from what is released, so asking twice lands on the same workflow.
 */
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy, type Client, type WorkflowHandle } from '@temporalio/client';
import { shortSha } from '../core/ids.js';
import { SA_APP, SA_STAGE, SA_VERSION } from '../core/search-attributes.js';
import type { release } from '../workflows/release.js';
import type { ReleaseInput } from '../workflows/types.js';

/** The release memo key that holds its commit's time. */
export const COMMITTED_AT_MEMO = 'committedAt';

export interface StartReleaseOptions {
  workflowId: string;
  taskQueue: string;
  input: ReleaseInput;
  summary?: string;
  /** When the commit was made (epoch ms), kept in the release's memo for `slipway metrics`' lead time. */
  committedAt?: number;
}

/** Starts the release, or returns the one already running or finished under the same id. */
export async function startReleaseWorkflow(
  client: Client,
  options: StartReleaseOptions,
): Promise<{ handle: WorkflowHandle<typeof release>; started: boolean }> {
  const { input } = options;
  const version = input.version ?? shortSha(input.commit);
  try {
    const handle = await client.workflow.start<typeof release>('release', {
      workflowId: options.workflowId,
      taskQueue: options.taskQueue,
      args: [input],
      // A release id is used once: a second request for the same build is the same release.
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      staticSummary: options.summary ?? `release ${input.app} ${version}`,
      staticDetails: `commit ${input.commit}, started by ${input.trigger}`,
      // A memo, not an input: the workflow never reads it, so no workflow code changes for it.
      ...(options.committedAt !== undefined ? { memo: { [COMMITTED_AT_MEMO]: options.committedAt } } : {}),
      typedSearchAttributes: [
        { key: SA_APP, value: input.app },
        { key: SA_VERSION, value: version },
        { key: SA_STAGE, value: 'starting' },
      ],
    });
    return { handle, started: true };
  } catch (err) {
    if ((err as Error).name === 'WorkflowExecutionAlreadyStartedError') {
      return { handle: client.workflow.getHandle<typeof release>(options.workflowId), started: false };
    }
    throw err;
  }
}
