/**
 * A build by GitHub Actions: dispatch the workflow (`workflow_dispatch`) on the configured ref and
 * wait for that run. A retried activity first looks for a run of this workflow for the commit that
 * is still going or succeeded, and follows it instead of dispatching a second build.
 */
import { ApplicationFailure } from '@temporalio/common';
import { shortSha } from '../../core/ids.js';
import { heartbeat, sleep } from '../activity-context.js';
import { FailureType, type BuildResult, type TriggerBuildInput } from '../types.js';
import { repoClient, type GithubClientOptions, type RepoClient } from './client.js';
import { toGithubFailure } from './failures.js';
import { waitForRun, type RunSnapshot } from './run-wait.js';

export interface BuildPollingOptions {
  /** How often to ask GitHub about the run (default 10 s). */
  pollIntervalMs?: number;
  /** How long to look for the run a dispatch created, when GitHub does not return its id (default 60 s). */
  findRunTimeoutMs?: number;
}

export async function triggerBuild(
  input: TriggerBuildInput,
  options: GithubClientOptions & BuildPollingOptions,
): Promise<BuildResult> {
  const client = repoClient(input.source, options);
  const where = `build ${input.workflow} for ${shortSha(input.commit)} in ${input.source.repo}`;
  const pollIntervalMs = options.pollIntervalMs ?? 10_000;
  const deadline = Date.now() + input.timeoutMs;
  try {
    const runId =
      (await existingRun(client, input)) ?? (await dispatch(client, input, pollIntervalMs, options.findRunTimeoutMs ?? 60_000));
    const outcome = await waitForRun(() => getRun(client, runId), { deadline, pollIntervalMs, heartbeat, pause: sleep });
    const run = outcome.run;
    if (!outcome.finished) {
      throw buildFailed(`${where}: the run did not finish within ${Math.round(input.timeoutMs / 1000)}s (status ${run.status}): ${run.html_url}`);
    }
    if (run.conclusion !== 'success') {
      throw buildFailed(`${where}: the run concluded ${run.conclusion ?? 'without a conclusion'}: ${run.html_url}`);
    }
    return { url: run.html_url, conclusion: 'success' };
  } catch (err) {
    throw toGithubFailure(err, where, client.token);
  }
}

const buildFailed = (message: string) => ApplicationFailure.create({ message, type: FailureType.BuildFailed, nonRetryable: true });

/** A dispatched run of this workflow for this commit that is running or succeeded (failed ones are rebuilt). */
async function existingRun(client: RepoClient, input: TriggerBuildInput): Promise<number | undefined> {
  const runs = await listDispatchedRuns(client, input);
  return runs.find((r) => r.status !== 'completed' || r.conclusion === 'success')?.id;
}

async function listDispatchedRuns(client: RepoClient, input: TriggerBuildInput, createdSince?: Date) {
  const { data } = await client.octokit.actions.listWorkflowRuns({
    owner: client.owner,
    repo: client.repo,
    workflow_id: input.workflow,
    head_sha: input.commit,
    event: 'workflow_dispatch',
    per_page: 20,
    ...(createdSince ? { created: `>=${createdSince.toISOString().replace(/\.\d+Z$/, 'Z')}` } : {}),
  });
  // The server filters already; checking again keeps us right with servers (and mocks) that don't.
  return data.workflow_runs.filter((r) => r.head_sha === input.commit && r.event === 'workflow_dispatch');
}

async function dispatch(client: RepoClient, input: TriggerBuildInput, pollIntervalMs: number, findRunTimeoutMs: number): Promise<number> {
  const since = new Date(Date.now() - 5_000);
  const response = await client.octokit.actions.createWorkflowDispatch({
    owner: client.owner,
    repo: client.repo,
    workflow_id: input.workflow,
    ref: input.ref,
    return_run_details: true,
  });
  const details = response.data as { workflow_run_id?: number } | undefined;
  if ((response.status as number) === 200 && typeof details?.workflow_run_id === 'number') return details.workflow_run_id;
  // Older GitHub servers answer 204 without the run: find it by commit, as it appears.
  const giveUp = Date.now() + findRunTimeoutMs;
  for (;;) {
    const run = (await listDispatchedRuns(client, input, since))[0];
    if (run) return run.id;
    heartbeat({ waitingForRunOf: input.workflow });
    if (Date.now() >= giveUp) {
      throw buildFailed(
        `dispatched ${input.workflow} on ${input.ref}, but no run for ${shortSha(input.commit)} appeared within ${Math.round(findRunTimeoutMs / 1000)}s ` +
          `(is ${input.ref} at that commit?)`,
      );
    }
    await sleep(Math.min(pollIntervalMs, 5_000));
  }
}

async function getRun(client: RepoClient, runId: number): Promise<RunSnapshot> {
  const { data } = await client.octokit.actions.getWorkflowRun({ owner: client.owner, repo: client.repo, run_id: runId });
  return { id: data.id, status: data.status, conclusion: data.conclusion, html_url: data.html_url };
}
