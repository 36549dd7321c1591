import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startNatsServer, type NatsServer } from './nats-server.js';
import { freeLoopbackPort } from './ports.js';

export interface NatsClusterOptions {
  /** 3 by default: the smallest cluster that keeps a JetStream quorum after losing a node. */
  nodes?: number;
  /** Cluster name; members are `${name}-1` ... `${name}-N`. */
  name?: string;
  readyTimeoutMs?: number;
}

export interface NatsCluster {
  name: string;
  /** Each member; kill() and restart() one to test losing it. */
  servers: NatsServer[];
  /** Every member's client URL: what agents and the controller are given. */
  urls: string[];
  /** Resolves once every member knows a JetStream meta leader (not while one is down). */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** Stops every member and removes their stores; safe to call twice. */
  stop(): Promise<void>;
}

interface MemberPorts {
  client: number;
  route: number;
  monitor: number;
}

const MAX_NODES = 5;

/** Distinct free loopback ports: the kernel may hand out one it just gave, so ask until n differ. */
async function distinctPorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  for (let asked = 0; ports.size < n; asked++) {
    if (asked > n * 10) throw new Error(`could not find ${n} distinct free loopback ports`);
    ports.add(await freeLoopbackPort());
  }
  return [...ports];
}

interface MetaCluster {
  meta_cluster?: { leader?: string; cluster_size?: number };
}

/** A member's own view: it knows a meta leader and a cluster of the expected size. */
async function memberReady(server: NatsServer, nodes: number): Promise<boolean> {
  if (!server.monitorUrl) return false;
  try {
    const res = await fetch(`${server.monitorUrl}/jsz`, { signal: AbortSignal.timeout(1_000) });
    const meta = ((await res.json()) as MetaCluster).meta_cluster;
    return Boolean(meta?.leader) && meta?.cluster_size === nodes;
  } catch {
    return false;
  }
}

/**
 * N nats-servers with JetStream on loopback, routed to each other: a real
 * cluster, so that a test can kill a member (by its pid) and see what a fleet
 * does when a NATS node dies. Each member has its own client, route and monitor
 * ports and its own store, all kept across kill() and restart().
 */
export async function startNatsCluster(opts: NatsClusterOptions = {}): Promise<NatsCluster> {
  const nodes = opts.nodes ?? 3;
  if (!Number.isInteger(nodes) || nodes < 2 || nodes > MAX_NODES) {
    throw new Error(`startNatsCluster: nodes must be an integer from 2 to ${MAX_NODES}, not ${nodes}`);
  }
  // Ports picked here can be taken by someone else before the members bind them: pick again.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startCluster(opts, nodes);
    } catch (err) {
      if (!/address already in use/.test(String(err)) || attempt >= 3) throw err;
    }
  }
}

async function startCluster(opts: NatsClusterOptions, nodes: number): Promise<NatsCluster> {
  const name = opts.name ?? `fleetroll-cluster-${process.pid}`;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 20_000;
  const root = await mkdtemp(join(tmpdir(), `fleetroll-nats-${name}-`));
  const servers: NatsServer[] = [];
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await Promise.all(servers.map((s) => s.stop().catch(() => undefined)));
      await rm(root, { recursive: true, force: true });
    })();
    return stopping;
  };

  const waitHealthy = async (timeoutMs = readyTimeoutMs): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ready = await Promise.all(servers.map((s) => memberReady(s, nodes)));
      if (ready.every(Boolean)) return;
      if (Date.now() > deadline) {
        const waiting = servers.filter((_, i) => !ready[i]).map((s) => s.name);
        throw new Error(
          `NATS cluster ${name}: ${waiting.join(', ')} saw no JetStream meta leader of ${nodes} nodes within ${timeoutMs / 1000} s`,
        );
      }
      await sleep(100);
    }
  };

  try {
    const all = await distinctPorts(nodes * 3);
    const ports: MemberPorts[] = Array.from({ length: nodes }, (_, i) => ({
      client: all[i * 3]!,
      route: all[i * 3 + 1]!,
      monitor: all[i * 3 + 2]!,
    }));
    // Side by side: a member waits for the others before JetStream can elect a meta leader.
    const started = await Promise.allSettled(
      ports.map((p, i) =>
        startNatsServer({
          name: `${name}-${i + 1}`,
          port: p.client,
          monitorPort: p.monitor,
          dir: join(root, `node-${i + 1}`),
          readyTimeoutMs,
          cluster: { name, port: p.route, routes: ports.filter((o) => o !== p).map((o) => o.route) },
        }),
      ),
    );
    for (const s of started) if (s.status === 'fulfilled') servers.push(s.value);
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    await waitHealthy();
  } catch (err) {
    await stop();
    throw err;
  }
  return { name, servers, urls: servers.map((s) => s.url), waitHealthy, stop };
}
