/** Reading Argo CD status: Argo's ordering rules, without any server. */
import { describe, expect, it } from 'vitest';
import { judge } from '../../activities/argocd/judge.js';

const ours = (r: string) => r === 'c2';
const op = (phase: string, finishedAt?: string, revision = 'c2') => ({ phase, finishedAt, syncResult: { revision }, message: `op ${phase}` });

describe('judge', () => {
  it('is healthy only when Synced and Healthy at our revision, reconciled after the sync finished', () => {
    const status = { sync: { status: 'Synced', revision: 'c2' }, health: { status: 'Healthy' }, reconciledAt: '2026-01-01T00:00:05Z', operationState: op('Succeeded', '2026-01-01T00:00:05Z') };
    expect(judge(status, ours).kind).toBe('healthy');
    expect(judge({ ...status, reconciledAt: '2026-01-01T00:00:04Z' }, ours)).toMatchObject({ kind: 'waiting', reason: expect.stringContaining('not reconciled') });
    expect(judge({ ...status, sync: { status: 'Synced', revision: 'c1' } }, ours).kind).toBe('waiting');
    expect(judge({ ...status, operationState: op('Running') }, ours).kind).toBe('waiting');
  });

  it('does not blame our commit for the Degraded health of what ran before it', () => {
    const before = { sync: { status: 'OutOfSync', revision: 'c2' }, health: { status: 'Degraded', message: 'old pods crash' }, reconciledAt: '2026-01-01T00:00:09Z', operationState: op('Succeeded', '2026-01-01T00:00:01Z', 'c1') };
    expect(judge(before, ours).kind).toBe('waiting');
    const stale = { ...before, sync: { status: 'Synced', revision: 'c2' }, reconciledAt: '2026-01-01T00:00:01Z', operationState: op('Succeeded', '2026-01-01T00:00:02Z') };
    expect(judge(stale, ours).kind).toBe('waiting');
    expect(judge({ ...stale, reconciledAt: '2026-01-01T00:00:03Z' }, ours)).toMatchObject({ kind: 'degraded', message: 'old pods crash' });
  });

  it('a failed sync of our revision is final; of another revision it is not ours', () => {
    expect(judge({ operationState: op('Failed', '2026-01-01T00:00:01Z') }, ours)).toMatchObject({ kind: 'degraded', message: 'sync failed: op Failed' });
    expect(judge({ operationState: op('Error', '2026-01-01T00:00:01Z', 'c1') }, ours).kind).toBe('waiting');
  });

  it('takes the reason from unhealthy resources when the app-level message is absent (Argo CD 3)', () => {
    const status = { sync: { status: 'Synced', revision: 'c2' }, health: { status: 'Degraded' }, resources: [
      { kind: 'Deployment', name: 'web', health: { status: 'Healthy' } },
      { kind: 'Deployment', name: 'api', health: { status: 'Degraded', message: 'progress deadline exceeded' } },
    ] };
    expect(judge(status, ours)).toMatchObject({ kind: 'degraded', message: 'Deployment/api: progress deadline exceeded' });
  });
});
