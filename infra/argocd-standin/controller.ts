/**
 * An Argo CD stand-in: plays Argo CD's application controller against real Application
 * resources and a real git repository, writing `status` with Argo's ordering:
 *  - a refresh compares the target revision (resolved in git) with what is deployed and writes
 *    `sync` (revision = the target, Synced/OutOfSync), `health`, per-resource health,
 *    `reconciledAt`, and removes the refresh annotation in the same update;
 *  - with `syncPolicy.automated`, a refresh that finds the app OutOfSync sets `operation`
 *    (initiatedBy automated) — once per revision, as Argo does not auto-retry a revision it tried;
 *  - an `operation` is run: `operationState` Running (startedAt), then Succeeded (or Failed) with
 *    finishedAt and syncResult.revision, `operation` removed, history appended — and then a
 *    refresh, so `reconciledAt` lands at or after `finishedAt` and only then does health describe
 *    the new revision;
 *  - health is Progressing for the rollout delay, then Healthy or Degraded by the test's rules.
 * Timestamps have seconds precision, like Kubernetes' metav1.Time. It is test and demo
 * infrastructure: no Kubernetes resources are really applied.
 */
import { CustomObjectsApi, PatchStrategy, Watch, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import {
  REFRESH_ANNOTATION,
  applicationApi,
  applicationsPath,
  type ArgoApplication,
  type ArgoApplicationStatus,
  type ArgoOperation,
} from '../../activities/argocd/index.js';
import { readOverlayImages as readImagesFromGit, resolveRevision as resolveInGit, type OverlayImage } from './git-source.js';
import { applicationHealth, resourceHealth, type HealthRules } from './health-rules.js';

export interface ArgoStandInOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** Resolves spec.source.targetRevision to a commit (default: git rev-parse in the local repository). */
  resolveRevision?: (repoURL: string, targetRevision: string | undefined) => Promise<string>;
  /** Reads the overlay's images at a commit (default: git show <commit>:<path>/kustomization.yaml). */
  readOverlayImages?: (repoURL: string, revision: string, path: string | undefined) => Promise<OverlayImage[]>;
  rules?: HealthRules;
  /** How long a sync operation stays Running (default 50 ms). */
  syncMs?: number;
  /** How often every app is compared with git without being asked (Argo CD: 3 min; default 1 s). */
  resyncMs?: number;
  log?: (line: string) => void;
}

export interface ArgoStandIn {
  /** Compare one application with git now (what a refresh annotation does). */
  refresh(name: string): void;
  stop(): Promise<void>;
}

interface AppMemory {
  /** When the rollout of each deployed revision started (the sync's finishedAt), for health timing. */
  rolloutStartedAt: Map<string, number>;
  /** Revisions auto-sync already tried. */
  autoSynced: Set<string>;
  timer?: NodeJS.Timeout;
  running: boolean;
  again: boolean;
}

/** JSON with sorted keys: the API server returns objects with their keys sorted, so compare that way. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

const argoTime = (ms = Date.now()) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

export function startArgoStandIn(options: ArgoStandInOptions): ArgoStandIn {
  const api = options.kubeConfig.makeApiClient(CustomObjectsApi);
  const resolve = options.resolveRevision ?? resolveInGit;
  const readImages = options.readOverlayImages ?? readImagesFromGit;
  const rules = options.rules ?? {};
  const log = options.log ?? (() => {});
  const memory = new Map<string, AppMemory>();
  const stopping = new AbortController();
  let inFlight = 0;
  let idle: (() => void) | undefined;

  const mem = (name: string) => {
    let m = memory.get(name);
    if (!m) memory.set(name, (m = { rolloutStartedAt: new Map(), autoSynced: new Set(), running: false, again: false }));
    return m;
  };

  const patch = (name: string, body: unknown) =>
    api.patchNamespacedCustomObject(
      { ...applicationApi, namespace: options.namespace, name, body },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    ) as Promise<ArgoApplication>;

  const get = async (name: string): Promise<ArgoApplication | undefined> => {
    try {
      return (await api.getNamespacedCustomObject({ ...applicationApi, namespace: options.namespace, name })) as ArgoApplication;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  };

  /** Runs reconcile for one app, never twice at once; a request during a run runs it again after. */
  const schedule = (name: string, delayMs = 0) => {
    if (stopping.signal.aborted) return;
    const m = mem(name);
    if (delayMs > 0) {
      clearTimeout(m.timer);
      m.timer = setTimeout(() => schedule(name), delayMs);
      return;
    }
    if (m.running) {
      m.again = true;
      return;
    }
    m.running = true;
    inFlight++;
    void reconcile(name)
      .catch((err) => {
        log(`argocd stand-in: ${options.namespace}/${name}: ${(err as Error).message}`);
        // The API server may be restarting: try again shortly.
        if (!stopping.signal.aborted) m.timer = setTimeout(() => schedule(name), 250);
      })
      .finally(() => {
        m.running = false;
        inFlight--;
        if (inFlight === 0) idle?.();
        if (m.again) {
          m.again = false;
          schedule(name);
        }
      });
  };

  async function reconcile(name: string): Promise<void> {
    const app = await get(name);
    if (!app) {
      memory.delete(name);
      return;
    }
    const m = mem(name);
    if (app.operation && app.status?.operationState?.phase !== 'Running') {
      await runOperation(app, app.operation, m);
      return schedule(name); // Argo requests a refresh once an operation completes.
    }
    await refresh(app, m);
  }

  async function refresh(app: ArgoApplication, m: AppMemory): Promise<void> {
    const name = app.metadata.name;
    const source = app.spec.source;
    const status = app.status ?? {};
    const refreshRequested = app.metadata.annotations?.[REFRESH_ANNOTATION] !== undefined;
    const deployed = status.operationState?.phase === 'Succeeded' ? status.operationState.syncResult?.revision : status.history?.at(-1)?.revision;

    let target: string;
    let comparisonError: string | undefined;
    try {
      if (!source) throw new Error('the Application has no spec.source');
      target = await resolve(source.repoURL, source.targetRevision);
    } catch (err) {
      target = status.sync?.revision ?? '';
      comparisonError = (err as Error).message;
    }

    let resources: ReturnType<typeof resourceHealth> = [];
    let health: string;
    let nextCheckMs: number | undefined;
    if (!deployed) {
      health = 'Missing';
    } else {
      try {
        const images = await readImages(source!.repoURL, deployed, source!.path);
        const startedAt = m.rolloutStartedAt.get(deployed) ?? Date.parse(status.operationState?.finishedAt ?? '') ?? 0;
        const elapsed = Date.now() - (Number.isFinite(startedAt) ? startedAt : 0);
        resources = resourceHealth(images, rules, elapsed, app.spec.destination.namespace ?? options.namespace, deployed === target);
        health = applicationHealth(resources);
        const progressingMs = rules.progressingMs ?? 200;
        if (elapsed < progressingMs) nextCheckMs = progressingMs - elapsed + 5;
      } catch (err) {
        health = 'Unknown';
        comparisonError ??= (err as Error).message;
      }
    }
    const syncStatus = comparisonError ? 'Unknown' : deployed === target ? 'Synced' : 'OutOfSync';

    const next: ArgoApplicationStatus = {
      sync: { status: syncStatus, revision: target, comparedTo: { source, destination: app.spec.destination } },
      health: { status: health, ...(health !== status.health?.status ? { lastTransitionTime: argoTime() } : { lastTransitionTime: status.health?.lastTransitionTime }) },
      resources,
    };
    const conditions = comparisonError ? [{ type: 'ComparisonError', message: comparisonError, lastTransitionTime: argoTime() }] : null;

    const automated = app.spec.syncPolicy?.automated !== undefined;
    const autoSync = automated && syncStatus === 'OutOfSync' && !app.operation && target && !m.autoSynced.has(target);
    const changed =
      canonical({ s: next.sync, h: health, r: resources }) !== canonical({ s: status.sync, h: status.health?.status, r: status.resources ?? [] }) ||
      Boolean(conditions) !== Boolean((status as { conditions?: unknown[] }).conditions?.length);
    if (!changed && !refreshRequested && !autoSync) {
      if (nextCheckMs !== undefined) schedule(name, nextCheckMs);
      return;
    }

    const body: Record<string, unknown> = {
      status: { ...next, conditions, reconciledAt: argoTime(), observedAt: argoTime() },
    };
    if (refreshRequested) body.metadata = { annotations: { [REFRESH_ANNOTATION]: null } };
    if (autoSync) {
      m.autoSynced.add(target);
      const operation: ArgoOperation = { sync: { revision: target }, initiatedBy: { automated: true }, info: [] };
      body.operation = operation;
      log(`argocd stand-in: ${name}: auto-sync to ${target.slice(0, 12)}`);
    }
    await patch(name, body);
    if (nextCheckMs !== undefined) schedule(name, nextCheckMs);
  }

  async function runOperation(app: ArgoApplication, operation: ArgoOperation, m: AppMemory): Promise<void> {
    const name = app.metadata.name;
    const source = app.spec.source;
    const startedAt = argoTime();
    await patch(name, {
      status: { operationState: { operation, phase: 'Running', message: 'one or more tasks are running', startedAt, finishedAt: null, syncResult: null } },
    });
    await new Promise((r) => setTimeout(r, options.syncMs ?? 50));

    let revision: string | undefined;
    let failure: string | undefined;
    try {
      if (!source) throw new Error('the Application has no spec.source');
      revision = await resolve(source.repoURL, operation.sync?.revision || source.targetRevision);
      await readImages(source.repoURL, revision, source.path); // a broken overlay fails the sync, as kustomize build would
    } catch (err) {
      failure = (err as Error).message;
    }
    const finished = Date.now();
    const history = app.status?.history ?? [];
    const status: Record<string, unknown> = {
      operationState: {
        operation,
        phase: failure ? 'Failed' : 'Succeeded',
        message: failure ? `ComparisonError: ${failure}` : 'successfully synced (all tasks run)',
        startedAt,
        finishedAt: argoTime(finished),
        syncResult: revision ? { revision, source } : null,
      },
    };
    if (!failure && revision) {
      m.rolloutStartedAt.set(revision, finished);
      const id = (history.at(-1)?.id ?? -1) + 1;
      status.history = [...history, { id, revision, deployedAt: argoTime(finished), deployStartedAt: startedAt, source }].slice(-10);
    }
    await patch(name, { operation: null, status });
    log(`argocd stand-in: ${name}: sync to ${revision?.slice(0, 12) ?? '?'} ${failure ? `failed: ${failure}` : 'succeeded'}`);
  }

  // ------------------------------------------------------------------ watching applications
  const watch = new Watch(options.kubeConfig);
  let controller: AbortController | undefined;
  const watchLoop = async () => {
    while (!stopping.signal.aborted) {
      try {
        const list = (await api.listNamespacedCustomObject({ ...applicationApi, namespace: options.namespace })) as {
          metadata: { resourceVersion: string };
          items: ArgoApplication[];
        };
        for (const item of list.items) schedule(item.metadata.name);
        let resourceVersion = list.metadata.resourceVersion;
        await new Promise<void>((done) => {
          void watch
            .watch(
              applicationsPath(options.namespace),
              { resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 300 },
              (type, obj: ArgoApplication) => {
                if (obj?.metadata?.resourceVersion) resourceVersion = obj.metadata.resourceVersion;
                if (type === 'ERROR') return done();
                if (type !== 'BOOKMARK' && obj?.metadata?.name) schedule(obj.metadata.name);
              },
              () => done(),
            )
            .then((c) => {
              controller = c;
              if (stopping.signal.aborted) c.abort();
            }, () => done());
          stopping.signal.addEventListener('abort', () => done(), { once: true });
        });
      } catch (err) {
        log(`argocd stand-in: watch: ${(err as Error).message}`);
      }
      if (!stopping.signal.aborted) await new Promise((r) => setTimeout(r, 200));
    }
  };
  const watching = watchLoop();
  const resync = setInterval(() => {
    for (const name of memory.keys()) schedule(name);
  }, options.resyncMs ?? 1000);

  return {
    refresh: (name) => schedule(name),
    async stop() {
      stopping.abort();
      clearInterval(resync);
      controller?.abort();
      for (const m of memory.values()) clearTimeout(m.timer);
      await watching;
      if (inFlight > 0) await new Promise<void>((r) => (idle = r));
    },
  };
}
