/** When a sync may be requested, and which of an Application's sources is the GitOps repository: Argo CD's rules, without any server. */
import { describe, expect, it } from 'vitest';
import type { ArgoApplication } from '../../activities/argocd/application.js';
import { syncOperation } from '../../activities/argocd/refresh.js';
import { gitopsSlot, normalizeRepoURL } from '../../activities/argocd/sources.js';
import { asksFor, decideSync, describeOperation } from '../../activities/argocd/sync-request.js';

const OURS = 'a'.repeat(40);
const OTHER = 'b'.repeat(40);
const single = { multi: false as const };

function app(o: { operation?: ArgoApplication["operation"]; phase?: string; running?: string }): ArgoApplication {
  const spec: ArgoApplication['spec'] = { project: 'default', destination: { namespace: 'x' }, source: { repoURL: '/r.git' } };
  return {
    metadata: { name: 'a', namespace: 'argocd', resourceVersion: '7' },
    spec,
    ...(o.operation ? { operation: o.operation } : {}),
    status: o.phase ? { operationState: { phase: o.phase, startedAt: '2026-01-01T00:00:00Z', operation: { sync: { revision: o.running } } } } : {},
  };
}

describe('decideSync', () => {
  const mine = asksFor(OURS, single);

  it('requests when no operation is set, whatever the last one was', () => {
    expect(decideSync(app({}), mine)).toEqual({ kind: 'request' });
    expect(decideSync(app({ phase: 'Succeeded', running: OTHER }), mine)).toEqual({ kind: 'request' });
    // An in-progress state without `operation` is left over: Argo CD does not run it, and ours replaces it.
    expect(decideSync(app({ phase: 'Running', running: OTHER }), mine)).toEqual({ kind: 'request' });
  });

  it('waits while another operation runs, is terminating, or is queued; only a Running one is terminable', () => {
    const running = decideSync(app({ operation: { sync: { revision: OTHER } }, phase: 'Running', running: OTHER }), mine);
    expect(running).toMatchObject({ kind: 'busy', stage: 'running', terminable: true });
    expect(describeOperation(running as Extract<typeof running, { kind: 'busy' }>)).toBe(`the sync of ${OTHER.slice(0, 12)} (running since 2026-01-01T00:00:00Z)`);
    expect(decideSync(app({ operation: { sync: { revision: OTHER } }, phase: 'Terminating', running: OTHER }), mine)).toMatchObject({ kind: 'busy', stage: 'terminating', terminable: false });
    expect(decideSync(app({ operation: { sync: { revision: OTHER } }, phase: 'Succeeded', running: OURS }), mine)).toMatchObject({ kind: 'busy', stage: 'queued', terminable: false });
  });

  it('a running operation decides, not `operation`: ours written over another running one is still busy (it would be dropped)', () => {
    expect(decideSync(app({ operation: { sync: { revision: OURS } }, phase: 'Running', running: OTHER }), mine)).toMatchObject({ kind: 'busy', stage: 'running' });
  });

  it('finds our own request queued, running or finished (a retry asks nothing more)', () => {
    expect(decideSync(app({ operation: { sync: { revision: OURS } } }), mine)).toEqual({ kind: 'ours', stage: 'queued' });
    expect(decideSync(app({ operation: { sync: { revision: OURS } }, phase: 'Running', running: OURS }), mine)).toEqual({ kind: 'ours', stage: 'running' });
    expect(decideSync(app({ phase: 'Failed', running: OURS }), mine)).toEqual({ kind: 'ours', stage: 'finished' });
    expect(decideSync(app({ phase: 'Failed', running: OURS }), mine, { finishedCounts: false })).toEqual({ kind: 'request' });
  });

  it('matches multi-source operations by the revision at the GitOps source', () => {
    const multi = asksFor(OURS, { multi: true, index: 1 });
    expect(multi({ sync: { revisions: ['', OURS] } })).toBe(true);
    expect(multi({ sync: { revisions: [OURS, ''] } })).toBe(false);
    expect(multi({ sync: { revision: OURS } })).toBe(false);
  });
});

describe('gitopsSlot', () => {
  const spec = (sources?: Array<{ repoURL: string; path?: string; ref?: string }>): ArgoApplication['spec'] => ({ project: 'p', destination: {}, ...(sources ? { sources } : { source: { repoURL: 'x' } }) });

  it('a single-source Application has the one revision', () => {
    expect(gitopsSlot(spec(), 'https://git.example/org/gitops')).toEqual({ ok: true, slot: { multi: false } });
  });

  it("finds the GitOps repository's source among several, spelled as Argo CD would accept it", () => {
    const sources = [{ repoURL: 'https://charts.example/org/chart.git', path: 'chart' }, { repoURL: 'git@GitHub.com:Org/GitOps.git', path: 'apps/web' }];
    expect(gitopsSlot(spec(sources), 'ssh://git@github.com/org/gitops/')).toEqual({ ok: true, slot: { multi: true, index: 1 } });
    expect(gitopsSlot(spec([{ repoURL: 'file:///srv/git/gitops.git/' }]), '/srv/git/gitops.git')).toEqual({ ok: true, slot: { multi: true, index: 0 } });
  });

  it('of two sources from the GitOps repository, takes the one rendering the overlay, else the first with a path', () => {
    const sources = [{ repoURL: 'https://git.example/gitops', ref: 'values' }, { repoURL: 'https://git.example/gitops', path: 'apps/a' }, { repoURL: 'https://git.example/gitops.git', path: 'apps/b/' }];
    expect(gitopsSlot(spec(sources), 'https://git.example/gitops', 'apps/b')).toEqual({ ok: true, slot: { multi: true, index: 2 } });
    expect(gitopsSlot(spec(sources), 'https://git.example/gitops')).toEqual({ ok: true, slot: { multi: true, index: 1 } });
  });

  it('says so, without credentials, when no source is the GitOps repository', () => {
    const lookup = gitopsSlot(spec([{ repoURL: 'https://bot:s3cret-token@git.example/other', path: 'p' }]), 'https://git.example/gitops');
    expect(lookup).toEqual({ ok: false, problem: expect.stringContaining('https://git.example/other') });
    expect(JSON.stringify(lookup)).not.toContain('s3cret');
  });

  it('normalizes only what does not name another repository', () => {
    expect(normalizeRepoURL('https://git.example/org/a.git/')).toBe(normalizeRepoURL(' HTTPS://git.example/org/a '));
    expect(normalizeRepoURL('https://git.example/org/a')).not.toBe(normalizeRepoURL('https://git.example/org/b'));
  });
});

describe('syncOperation', () => {
  it('puts our revision at the GitOps source and leaves the others at their targets (empty entries)', () => {
    const multi: ArgoApplication = { metadata: { name: 'a', namespace: 'n' }, spec: { project: 'p', destination: {}, sources: [{ repoURL: 'v' }, { repoURL: 'g' }, { repoURL: 'h' }] } };
    expect(syncOperation(multi, { multi: true, index: 1 }, OURS)).toEqual({ sync: { revisions: ['', OURS, ''] }, initiatedBy: { username: 'slipway' } });
    expect(syncOperation(app({}), single, OURS)).toEqual({ sync: { revision: OURS }, initiatedBy: { username: 'slipway' } });
    // Several sources and none known as ours: every source at its target.
    expect(syncOperation(multi, undefined, OURS)).toEqual({ sync: {}, initiatedBy: { username: 'slipway' } });
  });

  it("carries the Application's sync options and retry, as Argo CD's API server does for `argocd app sync`", () => {
    const manual: ArgoApplication = {
      metadata: { name: 'a', namespace: 'n' },
      spec: { project: 'p', destination: {}, source: { repoURL: 'g' }, syncPolicy: { syncOptions: ['CreateNamespace=true', 'ServerSideApply=true'], retry: { limit: 3 } } },
    };
    expect(syncOperation(manual, single, OURS)).toEqual({
      sync: { revision: OURS, syncOptions: ['CreateNamespace=true', 'ServerSideApply=true'] },
      initiatedBy: { username: 'slipway' },
      retry: { limit: 3 },
    });
  });
});
