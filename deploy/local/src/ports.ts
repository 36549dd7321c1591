import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { randomInt } from 'node:crypto';

/** The kit's own fixed ports (frontends 20000+, app servers 21000+, agents 22000+, …) end below this. */
const KIT_PORTS_END = 25_000;
/** Linux's default, for a system that does not say. */
const DEFAULT_EPHEMERAL: [number, number] = [32_768, 60_999];
const ATTEMPTS = 50;

async function ephemeralRange(): Promise<[number, number]> {
  try {
    const text = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
    const [lo, hi] = text.trim().split(/\s+/).map(Number);
    return lo && hi ? [lo, hi] : DEFAULT_EPHEMERAL;
  } catch {
    return DEFAULT_EPHEMERAL;
  }
}

/** Listens on the port (0: the kernel picks one) and closes again; the port, or undefined if taken. */
function tryListen(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : undefined;
      server.close(() => resolve(bound));
    });
  });
}

/**
 * A port on 127.0.0.1 that nothing listens on right now, outside the kernel's ephemeral range: a
 * port from that range can be taken by an outgoing connection (a load generator opens thousands)
 * between this answer and the listen it is for, which then fails EADDRINUSE (seen once in a
 * controller's dashboard port). Falls back to a port the kernel picks.
 */
export async function freeLoopbackPort(): Promise<number> {
  const [lo, hi] = await ephemeralRange();
  const ranges: [number, number][] = [];
  if (lo - 1 >= KIT_PORTS_END) ranges.push([KIT_PORTS_END, lo - 1]);
  if (hi < 65_535) ranges.push([hi + 1, 65_535]);
  const size = ranges.reduce((n, [from, to]) => n + to - from + 1, 0);
  for (let i = 0; i < ATTEMPTS && size > 0; i++) {
    let pick = randomInt(size);
    for (const [from, to] of ranges) {
      if (pick <= to - from) {
        const port = await tryListen(from + pick);
        if (port !== undefined) return port;
        break;
      }
      pick -= to - from + 1;
    }
  }
  const port = await tryListen(0);
  if (port === undefined) throw new Error('no free loopback port');
  return port;
}
