/** Reading Argo CD status: Argo's ordering rules, without any server. */
import { describe, expect, it } from 'vitest';
import { judge } from '../../activities/argocd/judge.js';
import { ownershipAt } from '../../activities/argocd/ownership.js';

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

  it('a Degraded carried over from before our sync (an earlier second than finishedAt, or the one seen while waiting) is not a verdict on ours; one that starts after it is', () => {
    // Rolling back from a Deployment past its progress deadline, as the real Argo CD reported it right after the rollback's sync.
    const synced = { phase: 'Succeeded', finishedAt: '2026-12-01T12:47:55Z', syncResult: { revision: 'c2' } };
    const carried = {
      sync: { status: 'Synced', revision: 'c2' },
      health: { status: 'Degraded', message: 'Caused by apps/Deployment:staging/frontend', lastTransitionTime: '2026-12-01T12:47:50Z' },
      reconciledAt: '2026-12-01T12:47:55Z',
      operationState: synced,
    };
    expect(judge(carried, ours)).toMatchObject({ kind: 'waiting', reason: expect.stringContaining('Degraded since 2026-12-01T12:47:50Z, from before our sync finished') });
    // The same second is ambiguous: Degraded then counts, unless it is the very Degraded seen before our sync was in.
    const sameSecond = { ...carried, health: { ...carried.health, lastTransitionTime: '2026-12-01T12:47:55Z' } };
    expect(judge(sameSecond, ours)).toMatchObject({ kind: 'degraded' });
    expect(judge(sameSecond, ours, { degradedBeforeOurs: '2026-12-01T12:47:55Z' }).kind).toBe('waiting');
    expect(judge({ ...carried, health: { ...carried.health, lastTransitionTime: '2026-12-01T12:48:05Z' }, reconciledAt: '2026-12-01T12:48:05Z' }, ours)).toMatchObject({ kind: 'degraded' });
    // Without a transition time (older Argo CD), Degraded at our commit after the sync is the verdict.
    expect(judge({ ...carried, health: { status: 'Degraded', message: 'x' } }, ours)).toMatchObject({ kind: 'degraded' });
  });

  it("takes Argo CD 3's app-level message when resource health is not persisted in the Application (its default)", () => {
    // As the real Argo CD v3.6.1 application-controller wrote it for a Deployment past its progress deadline.
    const status = {
      sync: { status: 'Synced', revision: 'c2' },
      health: { status: 'Degraded', message: 'Caused by apps/Deployment:staging/frontend', lastTransitionTime: '2026-12-01T12:41:50Z' },
      resources: [
        { group: 'apps', kind: 'Deployment', name: 'backend', namespace: 'staging', status: 'Synced', version: 'v1' },
        { group: 'apps', kind: 'Deployment', name: 'frontend', namespace: 'staging', status: 'Synced', version: 'v1' },
      ],
    };
    expect(judge(status, ours)).toMatchObject({ kind: 'degraded', message: 'Caused by apps/Deployment:staging/frontend' });
  });

  it("prefers the unhealthy resources' own messages where resource health is persisted, over the app-level one", () => {
    const status = { sync: { status: 'Synced', revision: 'c2' }, health: { status: 'Degraded', message: 'Caused by apps/Deployment:staging/api' }, resources: [
      { kind: 'Deployment', name: 'web', health: { status: 'Healthy' } },
      { kind: 'Deployment', name: 'api', health: { status: 'Degraded', message: 'Deployment "api" exceeded its progress deadline' } },
    ] };
    expect(judge(status, ours)).toMatchObject({ kind: 'degraded', message: 'Deployment/api: Deployment "api" exceeded its progress deadline' });
  });

  it('takes the reason from unhealthy resources when the app-level message is absent', () => {
    const status = { sync: { status: 'Synced', revision: 'c2' }, health: { status: 'Degraded' }, resources: [
      { kind: 'Deployment', name: 'web', health: { status: 'Healthy' } },
      { kind: 'Deployment', name: 'api', health: { status: 'Degraded', message: 'progress deadline exceeded' } },
    ] };
    expect(judge(status, ours)).toMatchObject({ kind: 'degraded', message: 'Deployment/api: progress deadline exceeded' });
  });
});

describe('judge, multi-source Applications', () => {
  // The GitOps repository is the second source; the first (a values repository) is at v1.
  const slot = { multi: true as const, index: 1 };
  const finished = { phase: 'Succeeded', finishedAt: '2026-01-01T00:00:05Z', syncResult: { revisions: ['v1', 'c2'] }, message: 'ok' };
  const healthy = { sync: { status: 'Synced', revisions: ['v1', 'c2'] }, health: { status: 'Healthy' }, reconciledAt: '2026-01-01T00:00:05Z', operationState: finished };

  it('reads our revision from status.sync.revisions at the GitOps source, not from sync.revision', () => {
    expect(judge(healthy, ours, { slot })).toMatchObject({ kind: 'healthy', seen: { revision: 'c2' } });
    // Without the slot it reads `revision`, which a multi-source Application does not have.
    expect(judge(healthy, ours)).toMatchObject({ kind: 'waiting', reason: 'no synced revision yet' });
    // Our commit at another source's position is not ours.
    expect(judge({ ...healthy, sync: { status: 'Synced', revisions: ['c2', 'c1'] } }, ours, { slot }).kind).toBe('waiting');
  });

  it('a failed sync is ours when syncResult.revisions holds our commit at the GitOps source', () => {
    const failed = { phase: 'Failed', finishedAt: '2026-01-01T00:00:05Z', syncResult: { revisions: ['v1', 'c2'] }, message: 'hook failed' };
    expect(judge({ operationState: failed }, ours, { slot })).toMatchObject({ kind: 'degraded', message: 'sync failed: hook failed' });
    expect(judge({ operationState: { ...failed, syncResult: { revisions: ['c2', 'c1'] } } }, ours, { slot }).kind).toBe('waiting');
  });
});

describe('judge, what a revision is to us', () => {
  const status = { sync: { status: 'Synced', revision: 'c3' }, health: { status: 'Healthy' }, reconciledAt: '2026-01-01T00:00:05Z', operationState: op('Succeeded', '2026-01-01T00:00:05Z', 'c3') };

  it('a later commit that changed our images is superseded, healthy or not', () => {
    const classify = (r: string) => (r === 'c3' ? { superseded: 'c3 sets web:9 instead of our web:8' } : r === 'c2' ? 'ours' as const : 'other' as const);
    expect(judge(status, classify)).toMatchObject({ kind: 'superseded', message: 'c3 sets web:9 instead of our web:8' });
    expect(judge({ ...status, health: { status: 'Degraded' } }, classify).kind).toBe('superseded');
    expect(judge({ ...status, sync: { status: 'OutOfSync', revision: 'c3' } }, classify).kind).toBe('superseded');
  });

  it('a requested operation not yet taken (operationState cleared, operation set) leaves health not final', () => {
    const { operationState: _, ...withoutState } = { ...status, sync: { status: 'Synced', revision: 'c2' } };
    expect(judge(withoutState, ours).kind).toBe('healthy');
    expect(judge(withoutState, ours, { operation: { sync: { revision: 'c2' } } })).toMatchObject({ kind: 'waiting', reason: expect.stringContaining('not started') });
    expect(judge({ ...withoutState, health: { status: 'Degraded' } }, ours, { operation: { sync: { revision: 'c2' } } }).kind).toBe('waiting');
  });
});

describe('ownershipAt', () => {
  const C = 'c'.repeat(40);
  const R = 'd'.repeat(40);
  const file = 'apps/web/overlays/prod/kustomization.yaml';
  const wrote = [{ name: 'org/web', newTag: 'v8' }, { name: 'org/api', newTag: 'v8' }];

  it('is ours while the overlay at the later commit holds every setting we wrote; fields we left open do not count', () => {
    const images = [{ name: 'org/web', newName: 'registry.example/web', newTag: 'v8' }, { name: 'org/api', newTag: 'v8' }, { name: 'org/other', newTag: 'x' }];
    expect(ownershipAt({ found: true, file, images }, wrote, R, C)).toBe('ours');
  });

  it('is superseded, naming the later commit, the file and both settings, when a later commit changed one', () => {
    const images = [{ name: 'org/web', newTag: 'v9' }, { name: 'org/api', newTag: 'v8' }];
    const owner = ownershipAt({ found: true, file, images }, wrote, R, C);
    expect(owner).toEqual({ superseded: expect.stringContaining(`${R.slice(0, 12)}, a later commit than ours (${C.slice(0, 12)})`) });
    const message = (owner as { superseded: string }).superseded;
    expect(message).toContain(`${file} sets org/web:v9 instead of our org/web:v8`);
    expect(message).not.toContain('org/api');
    expect(message).toContain('superseded by a later commit that changed the images');
  });

  it('a digest added next to our tag changes what runs: superseded', () => {
    const images = [{ name: 'org/web', newTag: 'v8', digest: 'sha256:' + 'a'.repeat(64) }, { name: 'org/api', newTag: 'v8' }];
    expect(ownershipAt({ found: true, file, images }, wrote, R, C)).toEqual({ superseded: expect.stringContaining('org/web:v8@sha256:') });
  });

  it('is superseded when the overlay is gone at the later commit', () => {
    expect(ownershipAt({ found: false, reason: 'overlay folder apps/web/overlays/prod does not exist at dddddddddddd' }, wrote, R, C)).toEqual({
      superseded: expect.stringContaining('does not exist at dddddddddddd'),
    });
  });
});
