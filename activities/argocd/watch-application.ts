/**
 * Following one Application through the Kubernetes watch API: list it (by name), then watch from
 * the list's resourceVersion. A closed or broken connection is re-established from the last
 * resourceVersion seen (bookmarks included); a 410 Gone — that version is compacted away —
 * lists again. Runs until the signal aborts; every version of the object goes to onObject.
 */
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { sleep } from '../activity-context.js';
import type { ArgoApplicationRef } from '../types.js';
import { applicationApi, applicationsPath, type ArgoApplication } from './application.js';
import { customObjectsApi } from './kube-api.js';
import { isMissingObject, isRefused, permanentFailure, statusCode, toActivityError } from './kube-errors.js';

export interface WatchApplicationOptions {
  kubeConfig: KubeConfig;
  app: ArgoApplicationRef;
  signal: AbortSignal;
  onObject(app: ArgoApplication): void;
  /** A failure no reconnect can fix: the Application is gone (404) or access is refused (403). */
  onFatal(err: unknown): void;
  /** A connection problem that will be retried (for logs and heartbeats). */
  onDisconnect?(err: unknown): void;
}

type WatchEnd = { kind: 'closed' } | { kind: 'gone' } | { kind: 'deleted' } | { kind: 'error'; err: unknown };

const notFound = (name: string) => Object.assign(new Error(`${name} not found`), { code: 404, body: { details: { name } } });

/** How long the Application API may stay unserved (404 without a name) before the wait gives up. */
const UNSERVED_GRACE_MS = 15_000;

export async function watchApplication(o: WatchApplicationOptions): Promise<void> {
  const api = customObjectsApi(o.kubeConfig);
  const watch = new Watch(o.kubeConfig);
  const fieldSelector = `metadata.name=${o.app.application}`;
  let resourceVersion: string | undefined;
  let failures = 0;
  let unservedSince: number | undefined;
  const isFatal = (err: unknown): boolean => {
    if (isRefused(err) || isMissingObject(err)) return true;
    if (statusCode(err) !== 404) return false;
    unservedSince ??= Date.now();
    return Date.now() - unservedSince > UNSERVED_GRACE_MS;
  };

  while (!o.signal.aborted) {
    if (!resourceVersion) {
      try {
        const list = (await api.listNamespacedCustomObject({ ...applicationApi, namespace: o.app.namespace, fieldSelector })) as {
          metadata: { resourceVersion: string };
          items: ArgoApplication[];
        };
        if (o.signal.aborted) return;
        const item = list.items[0];
        if (!item) return o.onFatal(notFound(o.app.application));
        resourceVersion = list.metadata.resourceVersion;
        failures = 0;
        unservedSince = undefined;
        o.onObject(item);
      } catch (err) {
        if (isFatal(err)) return o.onFatal(err);
        o.onDisconnect?.(err);
        await sleep(backoff(++failures), o.signal);
        continue;
      }
    }

    let controller: AbortController | undefined;
    let settle: (e: WatchEnd) => void = () => {};
    const onAbort = () => {
      controller?.abort();
      settle({ kind: 'closed' });
    };
    const end = await new Promise<WatchEnd>((resolve) => {
      let settled = false;
      settle = (e: WatchEnd) => {
        if (!settled) {
          settled = true;
          resolve(e);
        }
      };
      o.signal.addEventListener('abort', onAbort, { once: true });
      watch
        .watch(
          applicationsPath(o.app.namespace),
          { fieldSelector, resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 300 },
          (type, object: ArgoApplication & { code?: number }) => {
            if (settled) return;
            if (type === 'ERROR') {
              settle(object.code === 410 ? { kind: 'gone' } : { kind: 'error', err: object });
              return;
            }
            if (object?.metadata?.resourceVersion) resourceVersion = object.metadata.resourceVersion;
            failures = 0;
            if (type === 'DELETED') settle({ kind: 'deleted' });
            else if (type === 'ADDED' || type === 'MODIFIED') o.onObject(object);
          },
          (err) => settle(err ? { kind: 'error', err } : { kind: 'closed' }),
        )
        .then((c) => {
          controller = c;
          if (settled) c.abort();
        })
        .catch((err) => settle({ kind: 'error', err }));
    });
    o.signal.removeEventListener('abort', onAbort);
    // An ERROR event or a deletion leaves the stream open: close it before going on.
    controller?.abort();
    if (o.signal.aborted) return;

    switch (end.kind) {
      case 'deleted':
        return o.onFatal(notFound(o.app.application));
      case 'gone':
        resourceVersion = undefined;
        break;
      case 'closed':
        // A normal end (server timeout or shutdown): reconnect at once, a little slower if it keeps happening.
        await sleep(Math.min(50 * ++failures, 2000), o.signal);
        break;
      case 'error':
        if (statusCode(end.err) === 410) resourceVersion = undefined;
        else if (isFatal(end.err)) return o.onFatal(end.err);
        else o.onDisconnect?.(end.err);
        await sleep(backoff(++failures), o.signal);
        break;
    }
  }
}

function backoff(failures: number): number {
  return Math.min(100 * 2 ** Math.min(failures - 1, 5), 2000);
}

/**
 * A watch for an activity that waits on the Application: every version goes to `onObject`, the
 * connection's state (for heartbeats) to `onConnection`, and a failure no reconnect can fix ends
 * the wait through `fail`, as the ApplicationFailure the workflow expects (`doing` names the wait).
 */
export function followApplication(o: {
  kubeConfig: KubeConfig;
  app: ArgoApplicationRef;
  signal: AbortSignal;
  doing: string;
  onObject(app: ArgoApplication): void;
  onConnection(state: string): void;
  fail(err: unknown): void;
}): void {
  void watchApplication({
    kubeConfig: o.kubeConfig,
    app: o.app,
    signal: o.signal,
    onObject(app) {
      o.onConnection('watching');
      o.onObject(app);
    },
    onFatal: (err) => o.fail(permanentFailure(err, o.app) ?? toActivityError(err, o.app, o.doing)),
    onDisconnect: (err) => o.onConnection(`reconnecting after: ${(err as Error)?.message ?? String(err)}`),
  }).catch((err) => o.fail(toActivityError(err, o.app, o.doing)));
}
