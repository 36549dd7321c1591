import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { spawnController, type ControllerProcess } from './controller-process.js';
import { startLocalHost, type LocalHost } from './host.js';
import { startNatsCluster, type NatsCluster } from './nats-cluster.js';
import { startNatsServer, type NatsServer } from './nats-server.js';

export interface FleetOptions {
  /** Host ids are `${name}-1` ... `${name}-N`. */
  name: string;
  hosts: number;
  /** First host's port block index (see local-host.ts); hosts take indexBase .. indexBase+N-1. */
  indexBase: number;
  transport: 'nats' | 'grpc';
  groups?: (i: number) => string[];
  /** What every app container runs at the start (default fleetroll-app:v1). */
  image?: string;
  /** App container command per host (1-based), for hosts that must behave differently. */
  cmd?: (i: number) => string[] | undefined;
  /**
   * Members of a NATS cluster to run instead of one server (3 to test losing a node).
   * Agents and controller are given every member's URL, and KV buckets get 3 replicas.
   */
  natsCluster?: number;
  /** The controller's dashboard and /metrics port on 127.0.0.1; by default 24000 + indexBase. */
  httpPort?: number;
  /**
   * Whether the app containers keep a Docker HEALTHCHECK, probed every 2 s (default true).
   * Without one the agents wait minReady, then HAProxy UP (its HTTP check of /health). Every probe
   * is a `docker exec`, which a real fleet spreads over its machines: probed every second, 18
   * containers' probes took 1.3 of the two cores of a machine where a process costs milliseconds
   * to start (docs/decisions.md). Tests that are not about Docker's health check leave it out.
   */
  dockerHealthcheck?: boolean;
  /** Every agent's docker.pullStallTimeoutMs. */
  pullStallTimeoutMs?: number;
  /** Hosts (1-based) whose agent runs in a pid namespace of its own, as in a container (see spawnAgent). */
  agentPidNamespace?: (i: number) => boolean;
}

export interface LocalFleet {
  hosts: LocalHost[];
  /** The NATS server, or the cluster's first member. */
  nats: NatsServer;
  /** Every NATS server: one, or the cluster's members. */
  natsServers: NatsServer[];
  natsCluster?: NatsCluster;
  controller: ControllerProcess;
  /** What the controller was started with: for a test that restarts it, or starts a second one. */
  controllerConfigPath: string;
  inventoryPath: string;
  /** The controller's dashboard, e.g. http://127.0.0.1:24040/ (its /metrics is beside it). */
  dashboardUrl: string;
  dir: string;
  frontends: string[];
  stop(): Promise<void>;
}

/**
 * N simulated machines (each: 3 app containers, its own HAProxy, its own agent
 * process), one nats-server (or a cluster of them) and one controller process,
 * all real, on loopback.
 */
export async function startLocalFleet(opts: FleetOptions): Promise<LocalFleet> {
  const dir = await mkdtemp(join(tmpdir(), `fleetroll-fleet-${opts.name}-`));
  const hosts: LocalHost[] = [];
  let natsServers: NatsServer[] = [];
  let natsCluster: NatsCluster | undefined;
  let controller: ControllerProcess | undefined;
  const stop = async () => {
    await controller?.stop('SIGKILL').catch(() => undefined);
    await Promise.all(hosts.map((h) => h.stop().catch(() => undefined)));
    await Promise.all(natsServers.map((s) => s.stop().catch(() => undefined)));
    await natsCluster?.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    if (opts.natsCluster !== undefined) {
      natsCluster = await startNatsCluster({ nodes: opts.natsCluster, name: `${opts.name}-nats` });
      natsServers = natsCluster.servers;
    } else {
      natsServers = [await startNatsServer({ name: `${opts.name}-nats` })];
    }
    const nats = {
      servers: natsServers.map((s) => s.url),
      kvReplicas: natsCluster ? Math.min(3, natsServers.length) : 1,
    };
    const ids = Array.from({ length: opts.hosts }, (_, i) => i + 1);
    // Hosts come up side by side: each is a few containers and two processes.
    const started = await Promise.allSettled(
      ids.map((i) =>
        startLocalHost({
          hostId: `${opts.name}-${i}`,
          index: opts.indexBase + i - 1,
          groups: opts.groups?.(i) ?? ['all'],
          image: opts.image,
          cmd: opts.cmd?.(i),
          // 18 containers checked every 200 ms would keep two cores busy with docker execs alone.
          healthcheck: opts.dockerHealthcheck === false ? 'none' : { intervalMs: 2_000 },
          pullStallTimeoutMs: opts.pullStallTimeoutMs,
          nats,
          agentPidNamespace: opts.agentPidNamespace?.(i),
        }),
      ),
    );
    for (const s of started) if (s.status === 'fulfilled') hosts.push(s.value);
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;

    const inventoryPath = join(dir, 'inventory.yml');
    await writeFile(
      inventoryPath,
      stringify({
        hosts: hosts.map((h, i) => ({
          id: h.hostId,
          groups: opts.groups?.(i + 1) ?? ['all'],
          grpc: h.agentAddress,
        })),
      }),
    );
    const address = `127.0.0.1:${23000 + opts.indexBase}`;
    // Every fleet names its own port: the controller's default one would clash between fleets.
    const http = `127.0.0.1:${opts.httpPort ?? 24000 + opts.indexBase}`;
    const configPath = join(dir, 'controller.yml');
    await writeFile(
      configPath,
      stringify({
        listen: address,
        http: { listen: http },
        inventory: inventoryPath,
        nats,
        transport: opts.transport,
      }),
    );
    controller = await spawnController(configPath, address, join(dir, 'controller.log'));
    return {
      hosts,
      nats: natsServers[0]!,
      natsServers,
      ...(natsCluster ? { natsCluster } : {}),
      controller,
      controllerConfigPath: configPath,
      inventoryPath,
      dashboardUrl: `http://${http}/`,
      dir,
      frontends: hosts.map((h) => h.frontendUrl),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
