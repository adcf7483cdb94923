/**
 * An Argo CD stand-in: plays Argo CD's application controller against real Application
 * resources and a real git repository, writing `status` with Argo's ordering:
 *  - a refresh compares the target revision (resolved in git) with what is deployed and writes
 *    `sync` (revision = the target, Synced/OutOfSync), `health`, per-resource health,
 *    `reconciledAt`, and removes the refresh annotation in the same update;
 *  - with `syncPolicy.automated`, a refresh that finds the app OutOfSync sets `operation`
 *    (initiatedBy automated) — once per revision, as Argo does not auto-retry a revision it tried;
 *  - an `operation` is run: `operationState` Running (startedAt, the operation copied in), then
 *    Succeeded (or Failed) with finishedAt and syncResult.revision, history appended, and
 *    `operation` cleared in the same update — whatever it holds by then, so an operation written
 *    over a running one is lost, as with Argo CD — and then a refresh, so `reconciledAt` lands at
 *    or after `finishedAt` and only then does health describe the new revision;
 *  - an operation stays Running for `syncMs`; setting its phase to Terminating (what
 *    `argocd app terminate-op` does) ends it early as Failed, "Operation terminated"; an operation
 *    found in progress (a restarted stand-in) is resumed from operationState;
 *  - a multi-source Application (`spec.sources`) has its revisions as lists in source order:
 *    `sync.revisions`, `syncResult.revisions`, `history[].revisions`, `operation.sync.revisions`;
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
import { deployedRevisions, requestedRevisions, revisionFields, sameRevisions, sourceFields, sourcesOf, type AppSources } from './sources.js';

export interface ArgoStandInOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** Resolves spec.source.targetRevision to a commit (default: git rev-parse in the local repository). */
  resolveRevision?: (repoURL: string, targetRevision: string | undefined) => Promise<string>;
  /** Reads the overlay's images at a commit (default: git show <commit>:<path>/kustomization.yaml). */
  readOverlayImages?: (repoURL: string, revision: string, path: string | undefined) => Promise<OverlayImage[]>;
  rules?: HealthRules;
  /**
   * How long a sync operation stays Running (default 50 ms): a number, or per operation (real
   * syncs with hooks and waves run for minutes; tests make one long to request another meanwhile).
   */
  syncMs?: number | ((app: ArgoApplication, operation: ArgoOperation) => number);
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
  /** Ends the operation running now as terminated (set while one runs). */
  terminate?: () => void;
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

const inProgress = (phase: string | undefined) => phase === 'Running' || phase === 'Terminating';

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
    const state = app.status?.operationState;
    // Argo CD processes an operation only while `operation` is set; one already in progress
    // (after a controller restart, say) is resumed from operationState — what it was started
    // with — whatever `operation` holds now.
    if (app.operation && state && inProgress(state.phase)) {
      await runOperation(app, state.operation ?? app.operation, m, { startedAt: state.startedAt });
      return schedule(name); // Argo requests a refresh once an operation completes.
    }
    if (app.operation) {
      await runOperation(app, app.operation, m);
      return schedule(name);
    }
    await refresh(app, m);
  }

  async function refresh(app: ArgoApplication, m: AppMemory): Promise<void> {
    const name = app.metadata.name;
    const sources = sourcesOf(app);
    const status = app.status ?? {};
    const refreshRequested = app.metadata.annotations?.[REFRESH_ANNOTATION] !== undefined;
    const deployed = deployedRevisions(sources, status);

    let targets: string[];
    let comparisonError: string | undefined;
    try {
      if (sources.sources.length === 0) throw new Error('the Application has neither spec.source nor spec.sources');
      targets = await Promise.all(sources.sources.map((source) => resolve(source.repoURL, source.targetRevision)));
    } catch (err) {
      targets = (sources.multi ? status.sync?.revisions : status.sync?.revision ? [status.sync.revision] : undefined) ?? [];
      comparisonError = (err as Error).message;
    }
    const synced = sameRevisions(deployed, targets);

    let resources: ReturnType<typeof resourceHealth> = [];
    let health: string;
    let nextCheckMs: number | undefined;
    if (!deployed) {
      health = 'Missing';
    } else {
      try {
        const images = await imagesAt(sources, deployed);
        const key = deployed.join(',');
        const startedAt = m.rolloutStartedAt.get(key) ?? Date.parse(status.operationState?.finishedAt ?? '') ?? 0;
        const elapsed = Date.now() - (Number.isFinite(startedAt) ? startedAt : 0);
        resources = resourceHealth(images, rules, elapsed, app.spec.destination.namespace ?? options.namespace, synced);
        health = applicationHealth(resources);
        const progressingMs = rules.progressingMs ?? 200;
        if (elapsed < progressingMs) nextCheckMs = progressingMs - elapsed + 5;
      } catch (err) {
        health = 'Unknown';
        comparisonError ??= (err as Error).message;
      }
    }
    const syncStatus = comparisonError ? 'Unknown' : synced ? 'Synced' : 'OutOfSync';

    const next: ArgoApplicationStatus = {
      sync: { status: syncStatus, ...(targets.length > 0 ? revisionFields(sources, targets) : {}), comparedTo: { ...sourceFields(sources), destination: app.spec.destination } },
      health: { status: health, ...(health !== status.health?.status ? { lastTransitionTime: argoTime() } : { lastTransitionTime: status.health?.lastTransitionTime }) },
      resources,
    };
    const conditions = comparisonError ? [{ type: 'ComparisonError', message: comparisonError, lastTransitionTime: argoTime() }] : null;

    const automated = app.spec.syncPolicy?.automated !== undefined;
    const targetKey = targets.join(',');
    const autoSync = automated && syncStatus === 'OutOfSync' && !app.operation && targets.length > 0 && !m.autoSynced.has(targetKey);
    const changed =
      canonical({ s: next.sync, h: health, r: resources }) !== canonical({ s: status.sync, h: status.health?.status, r: status.resources ?? [] }) ||
      Boolean(conditions) !== Boolean((status as { conditions?: unknown[] }).conditions?.length);
    if (!changed && !refreshRequested && !autoSync) {
      if (nextCheckMs !== undefined) schedule(name, nextCheckMs);
      return;
    }

    // A merge patch keeps fields it does not name: drop the other spelling of the revision.
    const sync = { ...next.sync, ...(sources.multi ? { revision: null } : { revisions: null }) };
    const body: Record<string, unknown> = {
      status: { ...next, sync, conditions, reconciledAt: argoTime(), observedAt: argoTime() },
    };
    if (refreshRequested) body.metadata = { annotations: { [REFRESH_ANNOTATION]: null } };
    if (autoSync) {
      // Argo CD sets an automated operation only if none is set meanwhile (SetAppOperation's
      // check, under the version it read): never over a sync someone just requested.
      body.metadata = { ...(body.metadata as object | undefined), resourceVersion: app.metadata.resourceVersion };
      const operation: ArgoOperation = { sync: sources.multi ? { revisions: targets } : { revision: targets[0] }, initiatedBy: { automated: true }, info: [] };
      body.operation = operation;
      log(`argocd stand-in: ${name}: auto-sync to ${targets.map((t) => t.slice(0, 12)).join(',')}`);
    }
    try {
      await patch(name, body);
    } catch (err) {
      if ((err as { code?: number }).code === 409) return schedule(name); // changed meanwhile: look again
      throw err;
    }
    if (autoSync) m.autoSynced.add(targetKey);
    if (nextCheckMs !== undefined) schedule(name, nextCheckMs);
  }

  /** The images the sources with a path render (a `ref`-only source lends files, it renders nothing). */
  async function imagesAt(sources: AppSources, revisions: string[]): Promise<OverlayImage[]> {
    const lists = await Promise.all(
      sources.sources.map((source, i) => (source.path !== undefined || !source.ref ? readImages(source.repoURL, revisions[i]!, source.path) : Promise.resolve([]))),
    );
    return lists.flat();
  }

  /**
   * One sync: Running (with the operation it runs copied into operationState), the revisions
   * resolved, then — after the operation's duration, or earlier when someone sets the phase to
   * Terminating (`argocd app terminate-op`) — Succeeded, Failed or "Operation terminated". Its
   * end clears `operation`, whatever it holds by then, as Argo CD's controller does.
   */
  async function runOperation(app: ArgoApplication, operation: ArgoOperation, m: AppMemory, resumed?: { startedAt?: string }): Promise<void> {
    const name = app.metadata.name;
    const sources = sourcesOf(app);
    const startedAt = resumed?.startedAt ?? argoTime();
    if (!resumed) {
      await patch(name, {
        status: { operationState: { operation, phase: 'Running', message: 'one or more tasks are running', startedAt, finishedAt: null, syncResult: null } },
      });
    }

    let revisions: string[] | undefined;
    let failure: string | undefined;
    try {
      if (sources.sources.length === 0) throw new Error('the Application has neither spec.source nor spec.sources');
      const asked = requestedRevisions(sources, operation);
      revisions = await Promise.all(sources.sources.map((source, i) => resolve(source.repoURL, asked[i])));
      await imagesAt(sources, revisions); // a broken overlay fails the sync, as kustomize build would
    } catch (err) {
      failure = `ComparisonError: ${(err as Error).message}`;
    }

    const duration = typeof options.syncMs === 'function' ? options.syncMs(app, operation) : (options.syncMs ?? 50);
    const elapsed = Date.now() - Date.parse(startedAt);
    const end = await runningFor(Math.max(0, duration - (Number.isFinite(elapsed) ? elapsed : 0)), m);
    if (end === 'stopping') return; // left Running: a later stand-in resumes it
    // As Argo CD does before it writes a Running operation's end: a termination may have come meanwhile.
    const terminated = end === 'terminated' || (await get(name))?.status?.operationState?.phase === 'Terminating';

    const finished = Date.now();
    const history = app.status?.history ?? [];
    const succeeded = !terminated && !failure && revisions !== undefined;
    const status: Record<string, unknown> = {
      operationState: {
        operation,
        phase: terminated || failure ? 'Failed' : 'Succeeded',
        message: terminated ? 'Operation terminated' : (failure ?? 'successfully synced (all tasks run)'),
        startedAt,
        finishedAt: argoTime(finished),
        syncResult: revisions ? { ...revisionFields(sources, revisions), ...sourceFields(sources) } : null,
      },
    };
    if (succeeded) {
      m.rolloutStartedAt.set(revisions!.join(','), finished);
      const id = (history.at(-1)?.id ?? -1) + 1;
      const entry = { id, ...revisionFields(sources, revisions!), deployedAt: argoTime(finished), deployStartedAt: startedAt, ...sourceFields(sources) };
      status.history = [...history, entry].slice(-10);
    }
    await patch(name, { operation: null, status });
    const what = revisions?.map((r) => r.slice(0, 12)).join(',') ?? '?';
    log(`argocd stand-in: ${name}: sync to ${what} ${terminated ? 'terminated' : failure ? `failed: ${failure}` : 'succeeded'}`);
  }

  /** Waits out a running operation; ends early when it is terminated or the stand-in stops. */
  function runningFor(ms: number, m: AppMemory): Promise<'done' | 'terminated' | 'stopping'> {
    return new Promise((done) => {
      const end = (how: 'done' | 'terminated' | 'stopping') => {
        clearTimeout(timer);
        m.terminate = undefined;
        stopping.signal.removeEventListener('abort', onStop);
        done(how);
      };
      const onStop = () => end('stopping');
      const timer = setTimeout(() => end('done'), ms);
      m.terminate = () => end('terminated');
      stopping.signal.addEventListener('abort', onStop, { once: true });
    });
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
                if (type === 'BOOKMARK' || !obj?.metadata?.name) return;
                // A running operation learns of its termination from the watch, as Argo CD's sync does.
                if (obj.status?.operationState?.phase === 'Terminating') memory.get(obj.metadata.name)?.terminate?.();
                schedule(obj.metadata.name);
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
