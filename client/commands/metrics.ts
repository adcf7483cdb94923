/**
 * `slipway metrics <app> [--env <env>] [--since 30d]`: the DORA figures of an app's environments
 * (client/dora.ts), from Temporal's visibility and the histories of the app's promotion workflows.
 *
 * Why the promotion workflows (`promotion/<app>/<env>/…`, children of `env/<app>/<env>`), and not
 * the environment workflow's `recent` records (its state query): every promotion that ran is there
 * for as long as the namespace keeps closed workflows, not only the last 20 an environment
 * carries; reading them needs no worker (a query does); and their times are stamped by the
 * Temporal server — start and close in visibility, the failure in the history — not by workflow
 * code. What each did: Completed is promoted, Healthy with its checks passed, at its close; Failed
 * carries the promotion's own failure details (`PromotionFailureDetails`: rolled back or not),
 * restored at its close when its rollback was (the rollback waits for Healthy before the
 * promotion ends), and seen failing when its first step failed. The change's ready time is the
 * commit's time where its release kept one in its memo (the webhook does, from the push), else
 * the asking release's start (`releaseStartedAt` in the promotion's input).
 */
import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { durationProblem, formatDuration, parseDuration } from '../../core/duration.js';
import { environmentWorkflowId } from '../../core/ids.js';
import type { PromotionFailureDetails } from '../../workflows/promotion.js';
import type { PromotionWorkflowInput } from '../../workflows/types.js';
import type { CliContext } from '../context.js';
import { computeDora, renderDoraSummary, type DoraSummary, type DoraWindow, type PromotionRecord } from '../dora.js';
import { CliExit, EXIT_USAGE } from '../errors.js';
import { COMMITTED_AT_MEMO } from '../start-release.js';
import { assertEnvironment } from './release.js';

export const DEFAULT_SINCE = '30d';
/** Said with every lead time: where it starts, when no release recorded its commit's time. */
export const LEAD_TIME_FROM = 'release start (commit times are not recorded)';
/** Visibility is read in pages of this many workflows. */
const PAGE_SIZE = 100;
/** Each call to Temporal has this long: a hung frontend fails the command instead of holding it. */
const CALL_DEADLINE_MS = 10_000;
/** At most this many promotions are read; beyond, the report says so. */
export const MAX_PROMOTIONS = 2000;
/** A promotion's history is read in pages of this many events, at most this many pages (promotions have about a hundred). */
const HISTORY_PAGE_SIZE = 200;
const HISTORY_PAGES_MAX = 10;
/** Histories read at once. */
const READ_CONCURRENCY = 8;
/** Activities whose failure says nothing about the environment: the promotion goes on without them. */
const INFORMATIONAL_ACTIVITIES = new Set(['notify', 'reportDeployment']);

/** The proto enum temporal.api.enums.v1.WorkflowExecutionStatus (wire values, stable). */
const STATUS = { RUNNING: 1, COMPLETED: 2, FAILED: 3, CANCELED: 4, TERMINATED: 5, CONTINUED_AS_NEW: 6, TIMED_OUT: 7 } as const;
/** temporal.api.enums.v1.HistoryEventFilterType */
const ALL_EVENTS = 1;

type Service = Client['workflowService'];
type RawExecution = NonNullable<Awaited<ReturnType<Service['listWorkflowExecutions']>>['executions']>[number];
type HistoryEvent = NonNullable<NonNullable<Awaited<ReturnType<Service['getWorkflowExecutionHistory']>>['history']>['events']>[number];
type Timestamp = { seconds?: { toString(): string } | number | null; nanos?: number | null } | null | undefined;

export function registerMetricsCommands(program: Command, context: () => CliContext): void {
  program
    .command('metrics')
    .description('DORA metrics of an app per environment: deployment frequency, lead time, change failure rate, time to restore')
    .argument('<app>')
    .option('--env <env>', 'only this environment (default: all of the app\'s)')
    .option('--since <duration>', 'the window, back from now: 7d, 30d, 12h', DEFAULT_SINCE)
    .action(async (app: string, opts: { env?: string; since: string }) => {
      // Checked before anything is asked of Temporal.
      const windowMs = parseSince(opts.since);
      if (typeof windowMs === 'string') throw new CliExit(EXIT_USAGE, `error: --since: ${windowMs}`);
      const ctx = context();
      const environments = (await ctx.appPolicy(app)).environments.map((e) => e.name);
      if (opts.env !== undefined) assertEnvironment(environments, opts.env);
      const until = Date.now();
      const summary = await collectDoraSummary(await ctx.client(), {
        app,
        environments: opts.env !== undefined ? [opts.env] : environments,
        only: opts.env,
        window: { since: until - windowMs, until },
      });
      if (ctx.json) {
        ctx.printJson(summary);
        return;
      }
      for (const line of renderDoraSummary(summary)) ctx.print(line);
    });
}

/** The window `--since` names, in ms, or why it names none. */
export function parseSince(text: string): number | string {
  const problem = durationProblem(text);
  if (problem) return problem;
  const ms = parseDuration(text)!;
  return ms > 0 ? ms : `the window must be longer than 0, got "${text}"`;
}

export interface CollectOptions {
  app: string;
  /** The environments to report, in order. */
  environments: string[];
  /** Read only this environment's promotions. */
  only?: string;
  window: DoraWindow;
}

/** The figures, with what limits them: shared by `slipway metrics` and the demo. */
export type CollectedSummary = DoraSummary & {
  /** Promotions in the window that are no change (yet): still running, or cancelled before they ended. */
  notCounted: { running: number; cancelled: number };
};

export async function collectDoraSummary(client: Client, options: CollectOptions): Promise<CollectedSummary> {
  const { app, window } = options;
  const [read, retentionMs] = await Promise.all([readPromotionRecords(client, app, window.since, options.only), namespaceRetention(client)]);
  const names = [...options.environments, ...new Set(read.records.map((r) => r.environment).filter((e) => !options.environments.includes(e)))];
  const notes: string[] = [];
  if (retentionMs !== undefined && window.until - window.since > retentionMs) {
    notes.push(
      `Temporal keeps closed workflows for ${formatDuration(retentionMs)} in namespace "${client.options.namespace}": promotions that ended before ${new Date(window.until - retentionMs).toISOString()} may be gone and are not counted`,
    );
  }
  if (read.truncated) notes.push(`more than ${MAX_PROMOTIONS} promotions started in the window: only ${MAX_PROMOTIONS} were read (narrow it with --since or --env)`);
  const { running, cancelled } = read.notCounted;
  if (running + cancelled > 0) {
    notes.push(`not counted: ${[running ? `${running} still running` : '', cancelled ? `${cancelled} cancelled` : ''].filter(Boolean).join(', ')}`);
  }
  const records = await withCommitTimes(client, read.records);
  const known = records.filter((r) => r.committedAt !== undefined && r.kind === 'promote').length;
  const changes = records.filter((r) => r.kind === 'promote').length;
  const leadTimeFrom = known === 0 ? LEAD_TIME_FROM : known === changes ? 'commit time' : `commit time where the release recorded it (${known} of ${changes} promotions), else release start`;
  return { app, leadTimeFrom, ...computeDora(records, window, names), notes, notCounted: read.notCounted };
}

/**
 * The commit times releases started by the webhook keep in their memo (`committedAt`, from the
 * push's head_commit). A time after the release started is the committer's clock, not a fact
 * about the change: it is left out, and lead time starts at the release's start.
 */
async function withCommitTimes(client: Client, records: PromotionRecord[]): Promise<PromotionRecord[]> {
  const releases = [...new Set(records.map((r) => r.releaseId).filter((id): id is string => typeof id === 'string'))];
  const times = new Map<string, number>();
  await eachWithLimit(releases, READ_CONCURRENCY, async (releaseId) => {
    const memo = await bounded(client, () => client.workflow.getHandle(releaseId).describe()).then(
      (d) => d.memo,
      () => undefined, // a release gone from visibility: its promotions keep the release start
    );
    const at = memo?.[COMMITTED_AT_MEMO];
    if (typeof at === 'number' && Number.isFinite(at)) times.set(releaseId, at);
  });
  return records.map((r) => {
    const at = r.releaseId ? times.get(r.releaseId) : undefined;
    return at !== undefined && at <= r.readyAt ? { ...r, committedAt: at } : r;
  });
}

export interface PromotionRead {
  records: PromotionRecord[];
  notCounted: { running: number; cancelled: number };
  truncated: boolean;
}

/** The app's promotions that started since `since` (of one environment, when given), as records. */
export async function readPromotionRecords(client: Client, app: string, since: number, environment?: string): Promise<PromotionRead> {
  // The query is built from names the policy has (lowercase, digits, dashes); anything else is refused.
  for (const name of [app, environment ?? '']) if (!/^[a-z0-9-]*$/.test(name)) throw new CliExit(EXIT_USAGE, `error: not an app or environment name: "${name}"`);
  const query = [
    `WorkflowType = 'promotion'`,
    `SlipwayApp = '${app}'`,
    ...(environment ? [`SlipwayEnvironment = '${environment}'`] : []),
    `StartTime >= '${new Date(since).toISOString()}'`,
  ].join(' AND ');
  const { executions, truncated } = await listExecutions(client, query);
  const notCounted = { running: 0, cancelled: 0 };
  const records: PromotionRecord[] = [];
  await eachWithLimit(executions, READ_CONCURRENCY, async (execution) => {
    const status = execution.status ?? 0;
    if (status === STATUS.RUNNING) notCounted.running++;
    else if (status === STATUS.CANCELED) notCounted.cancelled++;
    else if (status !== STATUS.CONTINUED_AS_NEW) {
      const record = await promotionRecord(client, app, execution);
      if (record) records.push(record);
    }
  });
  return { records, notCounted, truncated };
}

async function listExecutions(client: Client, query: string): Promise<{ executions: RawExecution[]; truncated: boolean }> {
  const executions: RawExecution[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await bounded(client, () =>
      client.workflowService.listWorkflowExecutions({ namespace: client.options.namespace, query, pageSize: PAGE_SIZE, nextPageToken }),
    );
    executions.push(...(page.executions ?? []));
    if (executions.length >= MAX_PROMOTIONS) return { executions: executions.slice(0, MAX_PROMOTIONS), truncated: executions.length > MAX_PROMOTIONS || (page.nextPageToken?.length ?? 0) > 0 };
    nextPageToken = page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return { executions, truncated: false };
}

/**
 * One closed promotion as a record, or undefined when it is not one an environment workflow ran
 * for this app (anyone who reaches the Temporal API can start a workflow of that type and give it
 * these search attributes; the promotion itself refuses to run unless its parent is its
 * environment workflow, and so does this count).
 */
async function promotionRecord(client: Client, app: string, execution: RawExecution): Promise<PromotionRecord | undefined> {
  const workflowId = execution.execution?.workflowId ?? '';
  const runId = execution.execution?.runId ?? undefined;
  const startedAt = ms(execution.startTime);
  const closedAt = ms(execution.closeTime);
  if (startedAt === undefined || closedAt === undefined) return undefined;
  const completed = execution.status === STATUS.COMPLETED;
  // A promoted one needs only its input (the first event); a failed one its whole (short) history.
  const events = await historyEvents(client, workflowId, runId, completed ? 1 : HISTORY_PAGES_MAX * HISTORY_PAGE_SIZE);
  const started = events[0]?.workflowExecutionStartedEventAttributes;
  const input = decode<PromotionWorkflowInput>(client, started?.input?.payloads?.[0]);
  const request = input?.request;
  if (!request || request.app !== app || typeof request.environment?.name !== 'string') return undefined;
  if (started?.parentWorkflowExecution?.workflowId !== environmentWorkflowId(app, request.environment.name)) return undefined;
  const base = {
    environment: request.environment.name,
    kind: request.kind === 'rollback' ? ('rollback' as const) : ('promote' as const),
    promotionId: workflowId,
    releaseId: request.replyTo,
    commit: request.commit,
    ...(request.version ? { version: request.version } : {}),
    // Releases from before requests carried their start time: when the release asked this environment.
    readyAt: typeof request.releaseStartedAt === 'number' ? request.releaseStartedAt : request.requestedAt,
    startedAt,
  };
  if (completed) return { ...base, outcome: 'promoted', healthyAt: closedAt };
  // Failed, terminated or timed out: rolled back only when the promotion says its rollback was done.
  const failedAt = firstStepFailure(events) ?? startedAt;
  const failure = events.at(-1)?.workflowExecutionFailedEventAttributes?.failure;
  const details = failure?.applicationFailureInfo?.type === 'PromotionFailed' ? decode<PromotionFailureDetails>(client, failure.applicationFailureInfo.details?.payloads?.[0]) : undefined;
  return details?.rolledBack === true ? { ...base, outcome: 'rolled-back', failedAt, restoredAt: closedAt } : { ...base, outcome: 'failed', failedAt };
}

/** When the promotion's first step failed (Degraded, a check, a write): the first failed or timed-out activity that is not informational. */
function firstStepFailure(events: HistoryEvent[]): number | undefined {
  const types = new Map<string, string>();
  for (const event of events) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) types.set(String(event.eventId), scheduled.activityType?.name ?? '');
    const ended = event.activityTaskFailedEventAttributes ?? event.activityTaskTimedOutEventAttributes;
    if (ended && !INFORMATIONAL_ACTIVITIES.has(types.get(String(ended.scheduledEventId)) ?? '')) return ms(event.eventTime);
  }
  return undefined;
}

async function historyEvents(client: Client, workflowId: string, runId: string | undefined, limit: number): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await bounded(client, () =>
      client.workflowService.getWorkflowExecutionHistory({
        namespace: client.options.namespace,
        execution: { workflowId, runId },
        maximumPageSize: Math.min(limit, HISTORY_PAGE_SIZE),
        historyEventFilterType: ALL_EVENTS,
        nextPageToken,
      }),
    );
    events.push(...(page.history?.events ?? []));
    nextPageToken = page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
  } while (nextPageToken && events.length < limit);
  return events.slice(0, limit);
}

/** How long the namespace keeps closed workflows, when Temporal says. */
async function namespaceRetention(client: Client): Promise<number | undefined> {
  try {
    const described = await bounded(client, () => client.workflowService.describeNamespace({ namespace: client.options.namespace }));
    const ttl = described.config?.workflowExecutionRetentionTtl;
    return ms(ttl);
  } catch {
    return undefined; // a note less; the figures stand
  }
}

function bounded<T>(client: Client, call: () => Promise<T>): Promise<T> {
  return client.withDeadline(Date.now() + CALL_DEADLINE_MS, call);
}

/** The CLI's client has no codec: payloads are plain JSON, read with its payload converter. */
function decode<T>(client: Client, payload: Payload | null | undefined): T | undefined {
  if (!payload) return undefined;
  try {
    return client.options.loadedDataConverter.payloadConverter.fromPayload<T>(payload);
  } catch {
    return undefined;
  }
}

/** Epoch ms of a protobuf Timestamp (or Duration: the same two fields). */
function ms(ts: Timestamp): number | undefined {
  if (!ts || ts.seconds === null || ts.seconds === undefined) return undefined;
  const seconds = typeof ts.seconds === 'number' ? ts.seconds : Number(ts.seconds.toString());
  return seconds * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

async function eachWithLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
