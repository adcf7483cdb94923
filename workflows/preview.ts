/**
 * The preview environment of one pull request of an app's source repository
 * (`preview/todoapp/12`), started by the app's previews workflow — the runbook:
 *   1. ask GitHub for the pull request: still open, and at which head commit;
 *   2. a new head: write the preview's overlay from the template (its namespace, the head's image
 *      tags) on the previews branch, make sure its Argo CD Application is there, wait until it is
 *      Synced and Healthy at that commit, and say so in one comment on the pull request, edited on
 *      each push;
 *   3. wait for a delivery (a push, a close), a request to go, the periodic look, or the time to
 *      live since the last push;
 *   4. closed, merged, idle past its time to live, or asked to go: delete the Application (its
 *      resources with it), remove the overlay in a commit, say so in the comment, and free the place.
 * A preview that does not become healthy stays (the next push may mend it) and says why.
 */
import { ApplicationFailure, CancellationScope, condition, getExternalWorkflowHandle, setCurrentDetails, setHandler } from '@temporalio/workflow';
import type { GitTarget } from '../activities/types.js';
import type { PreviewsConfig } from '../config/schema.js';
import { formatDuration } from '../core/duration.js';
import { previewsWorkflowId, shortSha } from '../core/ids.js';
import { imagesForCommit } from '../core/images.js';
import { previewName, previewParent } from '../core/preview-name.js';
import { gitStepOptions, shortStepOptions, stepActivities, waitActivities, waitStepOptions } from './activities.js';
import { workflowNow } from './clock.js';
import { describeFailure } from './failures.js';
import { previewEndedSignal, previewRemoveSignal, previewStateQuery, previewWakeSignal } from './messages.js';
import { releasePolicy } from './policy.js';
import type { PreviewState, PreviewWorkflowInput } from './types.js';

/** Everything a preview needs from the policy, fixed for its run. */
export interface PreviewPlan {
  name: string;
  /** `<app>-<name>`: the Application's name and the namespace it deploys to. */
  qualified: string;
  path: string;
  url?: string;
  git: GitTarget;
  previews: PreviewsConfig;
}

/** The preview's names and places under the policy (pure, tested without a server). */
export function previewPlan(app: string, number: number, previews: PreviewsConfig, git: GitTarget): PreviewPlan {
  const name = previewName(previews.name, { number, app });
  const parent = previewParent(previews);
  const fill = (text: string) => text.replaceAll('{name}', name).replaceAll('{number}', String(number)).replaceAll('{app}', app);
  return {
    name,
    qualified: `${app}-${name}`,
    // The app in the folder's name too: two apps' previews of the same number never share a folder.
    path: `${parent}/${app}-${name}`,
    ...(previews.url ? { url: fill(previews.url) } : {}),
    git: { ...git, branch: previews.branch },
    previews,
  };
}

export async function preview(input: PreviewWorkflowInput): Promise<{ reason: string }> {
  let reason = 'it ended';
  try {
    const ended = await runPreview(input);
    reason = ended.reason;
    return ended;
  } finally {
    // However it ended (even refused by the policy, or failed), its place among the app's previews is free.
    await CancellationScope.nonCancellable(() =>
      getExternalWorkflowHandle(previewsWorkflowId(input.app))
        .signal(previewEndedSignal, { number: input.number, reason })
        .catch(() => undefined), // the previews workflow may be gone
    );
  }
}

async function runPreview({ app, number }: PreviewWorkflowInput): Promise<{ reason: string }> {
  const { pipeline } = await releasePolicy(app);
  const config = pipeline.appConfig;
  if (!config.previews || !config.source) throw ApplicationFailure.nonRetryable(`${app} has no previews in the worker's policy`, 'RequestRefused');
  let plan: PreviewPlan;
  try {
    plan = previewPlan(app, number, config.previews, pipeline.git);
  } catch (err) {
    throw ApplicationFailure.nonRetryable(`${app} #${number}: ${(err as Error).message}`, 'InvalidConfig');
  }
  const source = { repo: config.source.github, tokenFromEnv: config.source.tokenFromEnv };
  const steps = stepActivities(pipeline.engine);
  const waits = waitActivities(pipeline.engine, plan.previews.argocd.timeout);
  const gitOptions = gitStepOptions(pipeline.engine);
  const application = { application: plan.qualified, namespace: plan.previews.argocd.namespace };
  const label = `preview ${plan.name} of ${app} #${number}`;

  const state: PreviewState = { app, number, name: plan.name, phase: 'deploying', detail: 'starting', since: workflowNow(), lastPush: workflowNow(), ...(plan.url ? { url: plan.url } : {}) };
  let woken = false;
  let removal: string | undefined;
  setHandler(previewStateQuery, () => state);
  setHandler(previewWakeSignal, () => {
    woken = true;
  });
  setHandler(previewRemoveSignal, (r) => {
    removal ??= typeof r?.reason === 'string' && r.reason ? r.reason.slice(0, 200) : 'asked to go';
  });
  const show = (phase: PreviewState['phase'], detail: string) => {
    Object.assign(state, { phase, detail });
    setCurrentDetails(`**${phase}** — ${detail}`);
  };
  const comment = (body: string) =>
    steps.upsertComment
      .executeWithOptions({ ...shortStepOptions(pipeline.engine), summary: `comment on #${number}: ${body.split('\n')[0]!.slice(0, 80)}` }, [{ ...source, number, marker: `preview/${app}`, body }])
      .catch(() => undefined); // the comment tells people; it never decides anything

  const deploy = async (head: string) => {
    state.head = head;
    state.lastPush = workflowNow();
    show('deploying', `${shortSha(head)} into ${plan.qualified}`);
    await comment(`**Preview** of ${shortSha(head)} is being deployed to \`${plan.qualified}\`…`);
    try {
      const written = await steps.writePreviewOverlay.executeWithOptions({ ...gitOptions, summary: `write ${plan.path} on ${plan.git.branch} for ${shortSha(head)}` }, [
        {
          git: plan.git,
          baseBranch: pipeline.git.branch,
          template: plan.previews.template,
          path: plan.path,
          namespace: plan.qualified,
          images: imagesForCommit(config.images, head),
          context: { app, number, headSha: head },
        },
      ]);
      await steps.ensurePreviewApplication.executeWithOptions({ ...shortStepOptions(pipeline.engine), summary: `Argo CD Application ${plan.qualified}` }, [
        {
          ...application,
          app,
          number,
          project: plan.previews.argocd.project,
          repoURL: pipeline.git.url,
          path: plan.path,
          targetRevision: plan.git.branch,
          destination: { ...(plan.previews.argocd.server ? { server: plan.previews.argocd.server } : {}), namespace: plan.qualified },
        },
      ]);
      await steps.refreshApplication.executeWithOptions({ ...gitOptions, summary: `ask Argo CD to refresh ${plan.qualified}` }, [{ app: application, sync: false }]);
      await waits.waitForHealthy.executeWithOptions(
        { ...waitStepOptions(pipeline.engine, plan.previews.argocd.timeout), summary: `wait for ${plan.qualified} Synced+Healthy at ${shortSha(written.commit)}` },
        [{ app: application, commit: written.commit, git: plan.git, timeoutMs: plan.previews.argocd.timeout }],
      );
      await comment(
        `**Preview** of ${shortSha(head)} is up${plan.url ? ` at ${plan.url}` : ''} (namespace \`${plan.qualified}\`).\n\nIt is removed when this pull request closes, or after ${formatDuration(plan.previews.ttl)} without a push.`,
      );
      show('up', `${shortSha(head)} healthy${plan.url ? ` at ${plan.url}` : ''}`);
    } catch (err) {
      const why = describeFailure(err).reason;
      await comment(`**Preview** of ${shortSha(head)} did not come up: ${why}\n\nThe next push tries again.`);
      show('unhealthy', `${shortSha(head)}: ${why}`);
    }
  };

  let reason = '';
  let deployed: string | undefined;
  for (;;) {
    const pr = await steps.pullRequestState.executeWithOptions({ ...shortStepOptions(pipeline.engine), summary: `is #${number} still open` }, [{ ...source, number }]);
    if (pr.state !== 'open') {
      reason = pr.state === 'merged' ? `#${number} was merged` : `#${number} was closed`;
      break;
    }
    if (removal) {
      reason = removal;
      break;
    }
    if (pr.headSha !== deployed) {
      await deploy(pr.headSha);
      deployed = pr.headSha;
    }
    const idleFor = workflowNow() - state.lastPush;
    if (idleFor >= plan.previews.ttl) {
      reason = `no push for ${formatDuration(plan.previews.ttl)}`;
      break;
    }
    woken = false;
    await condition(() => woken || removal !== undefined, Math.max(1_000, Math.min(plan.previews.check, plan.previews.ttl - idleFor)));
  }

  // Taken down whatever happens to the workflow from here: a preview is never left half removed.
  await CancellationScope.nonCancellable(async () => {
    show('removing', reason);
    await steps.deletePreviewApplication.executeWithOptions({ ...shortStepOptions(pipeline.engine), summary: `delete Argo CD Application ${plan.qualified}` }, [{ ...application, app, number }]);
    await steps.removePreviewOverlay.executeWithOptions({ ...gitOptions, summary: `remove ${plan.path} from ${plan.git.branch}` }, [{ git: plan.git, path: plan.path, context: { app, number } }]);
    await comment(`**Preview** \`${plan.qualified}\` was removed: ${reason}.`);
    show('removed', reason);
  });
  return { reason: `${label}: ${reason}` };
}
