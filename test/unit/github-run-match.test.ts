/**
 * Which GitHub Actions run is a build's own: the decisions behind triggerBuild that Prism cannot
 * show (its examples hold one run, with a fixed title), made here on chosen runs.
 */
import { describe, expect, it } from 'vitest';
import { buildsCommit, dispatchInputs, dispatchKey, nextPageMayHold, ownRun, recordedRunId } from '../../activities/github/run-match.js';

const identity = { workflowId: 'release/todoapp/3f2a9c1', runId: '0190a1b2-0000-7000-8000-000000000001', activityId: '1' };
const run = (id: number, display_title: string, event = 'workflow_dispatch', created_at = '2026-03-01T12:00:00Z') => ({ id, display_title, event, created_at });

describe('dispatchKey', () => {
  it('is the same for every attempt of one activity, so a retry recognises its run', () => {
    expect(dispatchKey({ ...identity })).toBe(dispatchKey(identity));
    expect(dispatchKey(identity)).toMatch(/^slipway-[0-9a-f]{24}$/);
  });

  it('differs for another activity, another workflow run (a reset or a new release) and a direct call', () => {
    const key = dispatchKey(identity);
    expect(dispatchKey({ ...identity, activityId: '2' })).not.toBe(key);
    expect(dispatchKey({ ...identity, runId: '0190a1b2-0000-7000-8000-000000000002' })).not.toBe(key);
    expect(dispatchKey({ ...identity, workflowId: 'release/todoapp/4e1b0d2' })).not.toBe(key);
    expect(dispatchKey(undefined)).not.toBe(dispatchKey(undefined));
  });

  it('is not confused by identities whose parts run into each other', () => {
    expect(dispatchKey({ workflowId: 'a', runId: 'b1', activityId: '2' })).not.toBe(dispatchKey({ workflowId: 'a', runId: 'b', activityId: '12' }));
  });
});

describe('dispatchInputs', () => {
  it('carries the released commit and the key under the names the workflow declares', () => {
    expect(dispatchInputs('3f2a9c1e', 'slipway-abc')).toEqual({ slipway_commit: '3f2a9c1e', slipway_dispatch: 'slipway-abc' });
  });
});

describe('ownRun', () => {
  const key = dispatchKey(identity);

  it('finds the dispatched run whose name carries the key, among others', () => {
    const runs = [run(1, 'Build 3f2a9c1 slipway-000000000000000000000000'), run(2, `Build 3f2a9c1 (${key})`), run(3, 'Update README.md', 'push')];
    expect(ownRun(runs, key)?.id).toBe(2);
  });

  it('takes no run of someone else: another key, a run not started by a dispatch, a name without the key', () => {
    expect(ownRun([run(1, `Build (${dispatchKey({ ...identity, activityId: '9' })})`)], key)).toBeUndefined();
    expect(ownRun([run(2, `Build (${key})`, 'push')], key)).toBeUndefined();
    expect(ownRun([run(3, 'Build')], key)).toBeUndefined();
  });
});

describe('nextPageMayHold', () => {
  const since = Date.parse('2026-03-01T12:00:00Z');

  it('looks further only when the page was full and its oldest run is not older than the attempt', () => {
    const full = (oldest: string) => [run(1, 'a', 'workflow_dispatch', '2026-03-01T13:00:00Z'), run(2, 'b', 'workflow_dispatch', oldest)];
    expect(nextPageMayHold(full('2026-03-01T12:30:00Z'), 2, since)).toBe(true);
    expect(nextPageMayHold(full('2026-03-01T11:59:59Z'), 2, since)).toBe(false);
    expect(nextPageMayHold(full('2026-03-01T12:30:00Z'), 3, since)).toBe(false);
    expect(nextPageMayHold([], 100, since)).toBe(false);
  });
});

describe('buildsCommit', () => {
  const head = 'acb5820ced9479c074f688cc328bf03f341a511d';

  it('accepts the run at the released commit, full or abbreviated', () => {
    expect(buildsCommit({ head_sha: head }, head)).toBe(true);
    expect(buildsCommit({ head_sha: head }, head.toUpperCase())).toBe(true);
    expect(buildsCommit({ head_sha: head }, head.slice(0, 7))).toBe(true);
  });

  it('refuses a run at another commit, and a prefix too short to name one', () => {
    expect(buildsCommit({ head_sha: head }, 'c3d0be41ecbe669545ee3e94d31ed9a4bc91ee3c')).toBe(false);
    expect(buildsCommit({ head_sha: head }, head.slice(0, 39) + '0')).toBe(false);
    expect(buildsCommit({ head_sha: head }, 'acb58')).toBe(false);
    expect(buildsCommit({ head_sha: head }, '')).toBe(false);
  });
});

describe('recordedRunId', () => {
  it('reads the run id an earlier attempt heartbeat, and nothing else', () => {
    expect(recordedRunId({ runId: 30433642, status: 'queued' })).toBe(30433642);
    expect(recordedRunId(undefined)).toBeUndefined();
    expect(recordedRunId({ waitingForRunOf: 'build.yml' })).toBeUndefined();
    expect(recordedRunId({ runId: '30433642' })).toBeUndefined();
    expect(recordedRunId({ runId: -1 })).toBeUndefined();
    expect(recordedRunId([30433642])).toBeUndefined();
  });
});
