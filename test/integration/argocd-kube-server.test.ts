/** The test Kubernetes API server itself: it stores Applications as Argo CD's CRD would, survives a restart, and leaves nothing behind. */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { applicationApi } from '../../activities/argocd/index.js';
import { groupAlive, startKubeApiServer } from '../../infra/kube/index.js';

/** Processes whose command line mentions `text` (our servers' temp folder appears in their arguments). */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      /* exited meanwhile */
    }
  }
  return pids;
}

describe('startKubeApiServer', () => {
  it('serves Applications with unknown status fields kept (multi-source ones too), keeps them across an API server restart, and stops every process', async () => {
    const kube = await startKubeApiServer();
    const { etcd, apiserver } = kube.pids();
    expect(processesMentioning(kube.dir).sort()).toEqual([etcd, apiserver].sort());

    const api = kube.kubeConfig.makeApiClient(CustomObjectsApi);
    await api.createNamespacedCustomObject({
      ...applicationApi,
      namespace: 'argocd',
      body: {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Application',
        metadata: { name: 'kept', namespace: 'argocd' },
        spec: { project: 'default', destination: { namespace: 'x' }, source: { repoURL: '/tmp/x.git' } },
        status: { sync: { status: 'Synced', revision: 'abc' }, history: [{ id: 0, revision: 'abc', deployedAt: '2026-01-01T00:00:00Z' }] },
      },
    });
    // A multi-source Application: no spec.source, and revisions as lists Argo CD's fields spell.
    await api.createNamespacedCustomObject({
      ...applicationApi,
      namespace: 'argocd',
      body: {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Application',
        metadata: { name: 'kept-multi', namespace: 'argocd' },
        spec: { project: 'default', destination: { namespace: 'x' }, sources: [{ repoURL: '/tmp/v.git', ref: 'values' }, { repoURL: '/tmp/x.git', path: 'o' }] },
        operation: { sync: { revisions: ['', 'def'] }, initiatedBy: { username: 'slipway' } },
        status: { sync: { status: 'Synced', revisions: ['v1', 'abc'] }, operationState: { phase: 'Terminating', syncResult: { revisions: ['v1', 'abc'] } } },
      },
    });
    // The schema is enforced: a spec without a destination is refused by the real validation.
    await expect(
      api.createNamespacedCustomObject({
        ...applicationApi,
        namespace: 'argocd',
        body: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'invalid' }, spec: { project: 'default' } },
      }),
    ).rejects.toMatchObject({ code: 422 });

    await kube.restart();
    expect(kube.pids().apiserver).not.toBe(apiserver);
    expect(groupAlive(apiserver)).toBe(false);
    const kept = (await api.getNamespacedCustomObject({ ...applicationApi, namespace: 'argocd', name: 'kept' })) as {
      status: { history: Array<{ revision: string }> };
    };
    expect(kept.status.history[0]!.revision).toBe('abc');
    const multi = (await api.getNamespacedCustomObject({ ...applicationApi, namespace: 'argocd', name: 'kept-multi' })) as {
      spec: { sources: unknown[] };
      operation: { sync: { revisions: string[] } };
      status: { sync: { revisions: string[] }; operationState: { phase: string; syncResult: { revisions: string[] } } };
    };
    expect(multi.spec.sources).toHaveLength(2);
    expect(multi.operation.sync.revisions).toEqual(['', 'def']);
    expect(multi.status.sync.revisions).toEqual(['v1', 'abc']);
    expect(multi.status.operationState).toMatchObject({ phase: 'Terminating', syncResult: { revisions: ['v1', 'abc'] } });

    const pids = kube.pids();
    const dir = kube.dir;
    await kube.stop();
    expect(groupAlive(pids.etcd)).toBe(false);
    expect(groupAlive(pids.apiserver)).toBe(false);
    expect(processesMentioning(dir)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });
});
