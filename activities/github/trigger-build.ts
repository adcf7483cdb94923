/**
 * A build by GitHub Actions: dispatch the workflow (`workflow_dispatch`) on the configured ref with
 * the released commit and this activity's dispatch key as inputs, and wait for that run. A dispatch
 * runs the head of the ref, so the run counts only when it is at the released commit; one at
 * another commit fails the build as BuildWrongCommit. A retried attempt follows the run an earlier
 * one dispatched (the run id in its heartbeat, else the run titled with its key) and never
 * dispatches a second build. Every request has a deadline.
 */
import { ApplicationFailure } from '@temporalio/common';
import { shortSha } from '../../core/ids.js';
import { currentActivity, heartbeat, sleep, waitContext } from '../activity-context.js';
import { FailureType, type BuildResult, type TriggerBuildInput } from '../types.js';
import { repoClient, type GithubClientOptions, type RepoClient } from './client.js';
import { isStatus, scrub, toGithubFailure } from './failures.js';
import { buildsCommit, DISPATCH_INPUT, COMMIT_INPUT, dispatchInputs, dispatchKey, nextPageMayHold, ownRun, recordedRunId, type RunFacts } from './run-match.js';
import { waitForRun, type RunSnapshot } from './run-wait.js';

export interface BuildPollingOptions {
  /** How often to ask GitHub about the run (default 10 s). */
  pollIntervalMs?: number;
  /** How long to look for the run a dispatch created, when GitHub does not return its id (default 60 s). */
  findRunTimeoutMs?: number;
  /** The deadline of each request to GitHub (default 15 s, under the default heartbeat timeout). */
  requestTimeoutMs?: number;
}

/** Runs per page when looking for our own run, and how many pages at most. */
const PER_PAGE = 100;
const MAX_PAGES = 5;
/** Runs created this long before the activity was first scheduled are still searched (clock skew). */
const CLOCK_SLACK_MS = 5 * 60_000;

interface Build {
  client: RepoClient;
  input: TriggerBuildInput;
  key: string;
  /** When the first attempt was scheduled: runs older than this (less the slack) are not ours. */
  startedAtMs: number;
  requestTimeoutMs: number;
  cancellation?: AbortSignal;
}

type Run = RunSnapshot & Pick<RunFacts, 'head_sha' | 'display_title'>;

export async function triggerBuild(input: TriggerBuildInput, options: GithubClientOptions & BuildPollingOptions): Promise<BuildResult> {
  const client = repoClient(input.source, options);
  const where = `build ${input.workflow} for ${shortSha(input.commit)} in ${input.source.repo}`;
  const pollIntervalMs = options.pollIntervalMs ?? 10_000;
  const activity = currentActivity();
  const execution = activity?.info.workflowExecution;
  const wait = waitContext();
  const build: Build = {
    client,
    input,
    key: dispatchKey(activity && execution && { workflowId: execution.workflowId, runId: execution.runId, activityId: activity.info.activityId }),
    startedAtMs: wait.startedAtMs,
    requestTimeoutMs: options.requestTimeoutMs ?? 15_000,
    cancellation: activity?.cancellationSignal,
  };
  // A retry keeps the first attempt's deadline: the build's timeout bounds the whole wait.
  const deadline = wait.startedAtMs + input.timeoutMs;
  try {
    // A retry follows the run its earlier attempt recorded, or (when that attempt died before its
    // heartbeat got through) the run titled with the key; a first attempt cannot have dispatched one.
    const retried = (activity?.info.attempt ?? 1) > 1;
    const runId =
      recordedRunId(activity?.info.heartbeatDetails) ??
      (retried ? (await findOwnRun(build))?.id : undefined) ??
      (await dispatch(build, pollIntervalMs, options.findRunTimeoutMs ?? 60_000));
    // Recorded before anything else can fail, so that a retry follows this run.
    heartbeat({ runId });
    const outcome = await waitForRun(() => getRunAtCommit(build, runId, where), {
      deadline,
      pollIntervalMs,
      // The id this attempt follows is the one a retry must resume, whatever the answer says.
      heartbeat: (details) => heartbeat({ ...(details as object), runId }),
      pause: sleep,
    });
    const run = outcome.run;
    if (!outcome.finished) {
      throw buildFailed(`${where}: the run did not finish within ${Math.round(input.timeoutMs / 1000)}s (status ${run.status}): ${run.html_url}`);
    }
    if (run.conclusion !== 'success') {
      throw buildFailed(`${where}: the run concluded ${run.conclusion ?? 'without a conclusion'}: ${run.html_url}`);
    }
    return { url: run.html_url, conclusion: 'success' };
  } catch (err) {
    // A cancelled activity ends its requests through the signal: report the cancellation itself.
    if (build.cancellation?.aborted) throw build.cancellation.reason;
    throw toGithubFailure(err, where, client.token);
  }
}

const buildFailed = (message: string) => ApplicationFailure.create({ message, type: FailureType.BuildFailed, nonRetryable: true });

/** Per request: its own deadline, and the activity's cancellation. */
function requestOptions(build: Build): { request: { signal: AbortSignal } } {
  const deadline = AbortSignal.timeout(build.requestTimeoutMs);
  return { request: { signal: build.cancellation ? AbortSignal.any([deadline, build.cancellation]) : deadline } };
}

/** The run an earlier attempt of this activity dispatched, found by its key among the recent dispatched runs. */
async function findOwnRun(build: Build): Promise<{ id: number } | undefined> {
  const { client, input } = build;
  const since = build.startedAtMs - CLOCK_SLACK_MS;
  for (let page = 1; page <= MAX_PAGES; page++) {
    // No `created` filter: GitHub's own description types it as a date-time, so a range is not a valid request.
    const { data } = await client.octokit.actions.listWorkflowRuns({
      owner: client.owner,
      repo: client.repo,
      workflow_id: input.workflow,
      event: 'workflow_dispatch',
      per_page: PER_PAGE,
      page,
      ...requestOptions(build),
    });
    const found = ownRun(data.workflow_runs, build.key);
    if (found) return found;
    if (!nextPageMayHold(data.workflow_runs, PER_PAGE, since)) return undefined;
  }
  return undefined;
}

async function dispatch(build: Build, pollIntervalMs: number, findRunTimeoutMs: number): Promise<number> {
  const { client, input } = build;
  let response;
  try {
    response = await client.octokit.actions.createWorkflowDispatch({
      owner: client.owner,
      repo: client.repo,
      workflow_id: input.workflow,
      ref: input.ref,
      inputs: dispatchInputs(input.commit, build.key),
      return_run_details: true,
      ...requestOptions(build),
    });
  } catch (err) {
    if (isStatus(err, 422)) {
      // GitHub refuses inputs the workflow does not declare ("Unexpected inputs provided").
      const detail = (err as { response?: { data?: { message?: string } } }).response?.data?.message ?? '';
      throw ApplicationFailure.create({
        message: scrub(
          `GitHub refused to dispatch ${input.workflow} on ${input.ref} (422: ${detail}); its on.workflow_dispatch must declare the inputs ${COMMIT_INPUT} and ${DISPATCH_INPUT}`,
          client.token,
        ),
        type: FailureType.GitHubRequestFailed,
        nonRetryable: true,
      });
    }
    throw err;
  }
  const details = response.data as { workflow_run_id?: number } | undefined;
  if ((response.status as number) === 200 && typeof details?.workflow_run_id === 'number') return details.workflow_run_id;
  // Servers without return_run_details answer 204: find the run by the key its name carries.
  const giveUp = Date.now() + findRunTimeoutMs;
  for (;;) {
    const run = await findOwnRun(build);
    if (run) return run.id;
    heartbeat({ waitingForRunOf: input.workflow });
    if (Date.now() >= giveUp) {
      throw buildFailed(
        `dispatched ${input.workflow} on ${input.ref}, but no run titled with its key ${build.key} appeared within ${Math.round(findRunTimeoutMs / 1000)}s ` +
          `(does the workflow's run-name include \${{ inputs.${DISPATCH_INPUT} }}?)`,
      );
    }
    await sleep(Math.min(pollIntervalMs, 5_000));
  }
}

/** The run, refused as BuildWrongCommit when it is not at the released commit. */
async function getRunAtCommit(build: Build, runId: number, where: string): Promise<Run> {
  const { client, input } = build;
  const { data } = await client.octokit.actions.getWorkflowRun({ owner: client.owner, repo: client.repo, run_id: runId, ...requestOptions(build) });
  if (!buildsCommit(data, input.commit)) {
    throw ApplicationFailure.create({
      message:
        `${where}: the run builds ${shortSha(data.head_sha)}, not ${shortSha(input.commit)} (${input.ref} was at ${shortSha(data.head_sha)} when it started): ${data.html_url}; ` +
        `a dispatch builds the head of ${input.ref}, which must be the released commit`,
      type: FailureType.BuildWrongCommit,
      nonRetryable: true,
    });
  }
  return { id: data.id, status: data.status, conclusion: data.conclusion, html_url: data.html_url, head_sha: data.head_sha, display_title: data.display_title };
}
