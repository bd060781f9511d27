/**
 * A tiny scripted meta-protocol server for what real memcached cannot be made
 * to do on demand: answer byte by byte, join many answers into one segment,
 * hang, or drop the connection mid-request. Used IN ADDITION to the tests
 * against real memcached, never instead of them.
 *
 * It understands just enough: `mg <key> … O<n>` (hit when the key was `set`
 * through the `values` map), `ms <key> <len> … O<n>` + data, `mn`.
 */
import net from 'node:net';

export type Delivery = 'normal' | 'byte-by-byte' | 'coalesced';

export interface FakeMetaServer {
  readonly port: number;
  readonly address: string;
  /** How answers are written: as produced, one byte per write, or held ~20 ms and joined. */
  delivery: Delivery;
  /** While true, requests are read and never answered. */
  hang: boolean;
  /** Close each connection after reading this many requests (then reset to undefined). */
  disconnectAfter: number | undefined;
  /** key → value served by `mg`. */
  readonly values: Map<string, Buffer>;
  /** Raw request bytes seen per connection read (to count socket writes of the client). */
  readonly reads: Buffer[];
  connections: number;
  close(): Promise<void>;
}

function answer(server: FakeMetaServer, line: string, data: Buffer | undefined): Buffer {
  const parts = line.split(' ');
  const opaque = parts.find((p) => p.startsWith('O'));
  const o = opaque ? ` ${opaque}` : '';
  const quiet = parts.includes('q');
  switch (parts[0]) {
    case 'mg': {
      const value = server.values.get(parts[1] as string);
      if (!value) return Buffer.from(quiet ? '' : `EN${o}\r\n`);
      const f = parts.includes('f') ? ' f3' : '';
      return Buffer.concat([
        Buffer.from(`VA ${value.length}${f}${o}\r\n`),
        value,
        Buffer.from('\r\n'),
      ]);
    }
    case 'ms':
      server.values.set(parts[1] as string, data ?? Buffer.alloc(0));
      return Buffer.from(quiet ? '' : `HD${o}\r\n`);
    case 'mn':
      return Buffer.from('MN\r\n');
    default:
      return Buffer.from('ERROR\r\n');
  }
}

export async function startFakeMetaServer(): Promise<FakeMetaServer> {
  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let pending = Buffer.alloc(0);
    let handled = 0;
    const held: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => {
      state.reads.push(chunk);
      pending = Buffer.concat([pending, chunk]);
      const out: Buffer[] = [];
      for (;;) {
        const nl = pending.indexOf('\r\n');
        if (nl === -1) break;
        const line = pending.toString('latin1', 0, nl);
        let data: Buffer | undefined;
        let consumed = nl + 2;
        if (line.startsWith('ms ')) {
          const size = Number(line.split(' ')[2]);
          if (pending.length < consumed + size + 2) break;
          data = Buffer.from(pending.subarray(consumed, consumed + size));
          consumed += size + 2;
        }
        pending = pending.subarray(consumed);
        handled++;
        if (state.disconnectAfter !== undefined && handled > state.disconnectAfter) {
          state.disconnectAfter = undefined;
          socket.destroy();
          return;
        }
        if (!state.hang) out.push(answer(state, line, data));
      }
      const bytes = Buffer.concat(out);
      if (bytes.length === 0) return;
      if (state.delivery === 'byte-by-byte') {
        // One write per byte, each in its own tick, so the client reads them apart.
        let i = 0;
        const next = () => {
          if (i >= bytes.length || socket.destroyed) return;
          socket.write(bytes.subarray(i, i + 1));
          i++;
          setImmediate(next);
        };
        next();
      } else if (state.delivery === 'coalesced') {
        // Hold answers for a moment so those of several client writes leave as one segment.
        held.push(bytes);
        if (held.length === 1) {
          setTimeout(() => {
            if (!socket.destroyed) socket.write(Buffer.concat(held.splice(0)));
          }, 20);
        }
      } else {
        socket.write(bytes);
      }
    });
  });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  const port = (tcp.address() as net.AddressInfo).port;
  const state: FakeMetaServer = {
    port,
    address: `127.0.0.1:${port}`,
    delivery: 'normal',
    hang: false,
    disconnectAfter: undefined,
    values: new Map(),
    reads: [],
    connections: 0,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };
  return state;
}
