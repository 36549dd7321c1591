import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { spawnController, type ControllerProcess } from './controller-process.js';
import { startLocalHost, type LocalHost } from './host.js';
import { startNatsServer, type NatsServer } from './nats-server.js';

export interface FleetOptions {
  /** Host ids are `${name}-1` ... `${name}-N`. */
  name: string;
  hosts: number;
  /** First host's port block index (see local-host.ts); hosts take indexBase .. indexBase+N-1. */
  indexBase: number;
  transport: 'nats' | 'grpc';
  groups?: (i: number) => string[];
  /** App container command per host (1-based), for hosts that must behave differently. */
  cmd?: (i: number) => string[] | undefined;
}

export interface LocalFleet {
  hosts: LocalHost[];
  nats: NatsServer;
  controller: ControllerProcess;
  inventoryPath: string;
  dir: string;
  frontends: string[];
  stop(): Promise<void>;
}

/**
 * N simulated machines (each: 3 app containers, its own HAProxy, its own agent
 * process), one nats-server and one controller process, all real, on loopback.
 */
export async function startLocalFleet(opts: FleetOptions): Promise<LocalFleet> {
  const dir = await mkdtemp(join(tmpdir(), `fleetroll-fleet-${opts.name}-`));
  const hosts: LocalHost[] = [];
  let nats: NatsServer | undefined;
  let controller: ControllerProcess | undefined;
  const stop = async () => {
    await controller?.stop('SIGKILL').catch(() => undefined);
    await Promise.all(hosts.map((h) => h.stop().catch(() => undefined)));
    await nats?.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    nats = await startNatsServer({ name: `${opts.name}-nats` });
    const servers = [nats.url];
    const ids = Array.from({ length: opts.hosts }, (_, i) => i + 1);
    // Hosts come up side by side: each is a few containers and two processes.
    const started = await Promise.allSettled(
      ids.map((i) =>
        startLocalHost({
          hostId: `${opts.name}-${i}`,
          index: opts.indexBase + i - 1,
          groups: opts.groups?.(i) ?? ['all'],
          cmd: opts.cmd?.(i),
          // 18 containers checked every 200 ms would keep two cores busy with docker execs alone.
          healthIntervalMs: 1_000,
          nats: { servers },
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
    const configPath = join(dir, 'controller.yml');
    await writeFile(
      configPath,
      stringify({ listen: address, inventory: inventoryPath, nats: { servers }, transport: opts.transport }),
    );
    controller = await spawnController(configPath, address, join(dir, 'controller.log'));
    return {
      hosts,
      nats,
      controller,
      inventoryPath,
      dir,
      frontends: hosts.map((h) => h.frontendUrl),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
