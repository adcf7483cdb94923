/** Free loopback ports and waiting for a TCP listener, for the servers tests and the demo start. */
import { createServer, connect } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A free loopback port below the OS's ephemeral range (32768 and up on Linux), for servers that
 * keep ports in a smallint (the Temporal server's cluster membership table) or must not collide
 * with a port the OS hands a client meanwhile. Tries random ports in [low, 32767].
 */
export async function freeLowPort(low = 20_000): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const port = low + Math.floor(Math.random() * (32_768 - low));
    const ok = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.unref();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error(`no free port found between ${low} and 32767`);
}
