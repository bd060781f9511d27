/**
 * A TCP proxy that tests and drills put between one server process and
 * memcached, to cut that process off (and only that one) without touching
 * memcached or its contents: a network partition rather than a restart.
 * node:net piping; nothing to configure, so no library is worth it here.
 *
 *   const proxy = await startTcpProxy(mc.port);
 *   new MemcachedClient({ servers: [proxy.address] });
 *   proxy.cut();     // open connections reset, new ones refused
 *   proxy.restore(); // accepted again
 */
import { createServer, connect, type Socket } from 'node:net';
import { freePort } from './free-port.js';

export interface TcpProxy {
  readonly port: number;
  /** "127.0.0.1:port" */
  readonly address: string;
  /** Reset every open connection and refuse new ones until `restore`. */
  cut(): void;
  restore(): void;
  readonly isCut: boolean;
  close(): Promise<void>;
}

export async function startTcpProxy(
  targetPort: number,
  targetHost = '127.0.0.1',
): Promise<TcpProxy> {
  const port = await freePort();
  const open = new Set<Socket>();
  let cut = false;
  const server = createServer((client) => {
    if (cut) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect({ port: targetPort, host: targetHost });
    open.add(client);
    open.add(upstream);
    const drop = (): void => {
      open.delete(client);
      open.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const resetAll = (): void => {
    for (const socket of open) socket.resetAndDestroy();
    open.clear();
  };
  return {
    port,
    address: `127.0.0.1:${port}`,
    cut() {
      cut = true;
      resetAll();
    },
    restore() {
      cut = false;
    },
    get isCut() {
      return cut;
    },
    close: () =>
      new Promise<void>((resolve) => {
        resetAll();
        server.close(() => resolve());
      }),
  };
}
