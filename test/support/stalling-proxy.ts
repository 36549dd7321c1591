import { createServer, connect, type Server, type Socket } from 'node:net';

export interface StallingProxy {
  /** The same image reference, through the proxy: `<target>/name:tag` → `<proxy>/name:tag`. */
  through(ref: string): string;
  /** How many connections have stalled so far. */
  stalls(): number;
  /** Connections from now on pass everything through. */
  heal(): void;
  /** Closes every connection (dockerd's stalled ones too) and the listener. */
  stop(): Promise<void>;
}

/**
 * A registry that stops sending in the middle of a layer: a TCP relay on 127.0.0.1 to `target`
 * that passes `stallAfterBytes` of each answer, then holds the connection open and silent.
 * Manifests and configs are smaller than that, so only a layer's download stalls.
 */
export async function startStallingProxy(target: string, stallAfterBytes: number): Promise<StallingProxy> {
  const [host, port] = target.split(':') as [string, string];
  const sockets = new Set<Socket>();
  let stalls = 0;
  let healed = false;
  const track = (socket: Socket): Socket => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined); // a peer that goes away mid-answer is part of the test
    return socket;
  };
  const server: Server = createServer((client) => {
    track(client);
    const upstream = track(connect(Number(port), host));
    const cap = healed ? Infinity : stallAfterBytes;
    let sent = 0;
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => {
      if (sent >= cap) return;
      const part = chunk.subarray(0, cap - sent);
      sent += part.length;
      client.write(part);
      if (sent >= cap) stalls += 1;
    });
    client.on('close', () => upstream.destroy());
    // The registry may close its side once it has sent everything; a stalled one would not.
    upstream.on('close', () => {
      if (sent < cap) client.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no TCP address');
  const url = `127.0.0.1:${address.port}`;
  return {
    through: (ref) => {
      if (!ref.startsWith(`${target}/`)) throw new Error(`${ref} is not in the registry at ${target}`);
      return `${url}/${ref.slice(target.length + 1)}`;
    },
    stalls: () => stalls,
    heal: () => {
      healed = true;
    },
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
