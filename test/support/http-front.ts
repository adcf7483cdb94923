/**
 * An HTTP server on loopback for a test's front of another server (a front before Prism that mends
 * its examples, a twin that keeps state): an async handler whose failure is answered 502, naming it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export async function startFront(name: string, handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (res.headersSent) return void res.destroy();
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`${name} failed: ${err.message}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}
