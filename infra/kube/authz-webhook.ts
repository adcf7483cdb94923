/**
 * The "core Kubernetes" the standalone apiextensions-apiserver delegates to. That server always
 * allows `system:masters` by itself and asks a SubjectAccessReview webhook about everyone else;
 * this loopback HTTP server answers those reviews with a denial, so a client outside
 * system:masters gets a real 403 from the real authorization filter. The server's informers of
 * core resources (services, namespaces, …) get empty lists and quiet watches, so they sync and
 * /readyz can say ok.
 */
import { createServer, type Server } from 'node:http';

export interface CoreStub {
  url: string;
  close(): Promise<void>;
}

export const DENY_REASON = 'slipway test API server: only system:masters may act here';

/** `/api/v1/services` → { apiVersion: v1, kind: ServiceList }; undefined for anything that is not a collection. */
function listKind(path: string): { apiVersion: string; kind: string } | undefined {
  const parts = path.split('/').filter(Boolean);
  let apiVersion: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) [apiVersion, rest] = [parts[1]!, parts.slice(2)];
  else if (parts[0] === 'apis' && parts.length >= 4) [apiVersion, rest] = [`${parts[1]}/${parts[2]}`, parts.slice(3)];
  else return undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  if (rest.length !== 1) return undefined;
  const plural = rest[0]!;
  const singular = plural === 'endpoints' ? 'endpoints' : plural.replace(/ies$/, 'y').replace(/(ch|sh|ss|x)es$/, '$1').replace(/s$/, '');
  const kind = `${singular.charAt(0).toUpperCase()}${singular.slice(1)}`
    .replace(/^Endpoints$/, 'Endpoints')
    .replace(/^Mutatingwebhookconfiguration$/, 'MutatingWebhookConfiguration')
    .replace(/^Validatingwebhookconfiguration$/, 'ValidatingWebhookConfiguration');
  return { apiVersion, kind: `${kind}List` };
}

export function startCoreStub(port: number): Promise<CoreStub> {
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      if (req.method === 'POST' && req.url?.startsWith('/apis/authorization.k8s.io/v1/subjectaccessreviews')) {
        let review: { spec?: unknown } = {};
        try {
          review = JSON.parse(body);
        } catch {
          /* answer anyway */
        }
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SubjectAccessReview',
            spec: review.spec ?? {},
            status: { allowed: false, reason: DENY_REASON },
          }),
        );
        return;
      }
      const url = new URL(req.url ?? '/', 'http://stub');
      const list = req.method === 'GET' ? listKind(url.pathname) : undefined;
      if (!list) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'not served by the test core stub' }));
        return;
      }
      if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') {
        // A watch that never reports anything; the informer times it out and watches again.
        res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
        if (url.searchParams.get('sendInitialEvents') === 'true') {
          // A streaming list (WatchList): there are no objects, so only the bookmark that ends the initial events.
          const object = { apiVersion: list.apiVersion, kind: list.kind.replace(/List$/, ''), metadata: { resourceVersion: '1', annotations: { 'k8s.io/initial-events-end': 'true' } } };
          res.write(`${JSON.stringify({ type: 'BOOKMARK', object })}\n`);
        } else {
          res.flushHeaders();
        }
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ...list, metadata: { resourceVersion: '1' }, items: [] }));
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
