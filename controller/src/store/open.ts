import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ControllerConfig, Logger } from '@fleetroll/shared';
import { MemoryRolloutStore, type RolloutArchive } from '../rollout/store.js';
import { FileLeaseBackend } from './file-lease.js';
import { FileRolloutStore } from './file-rollouts.js';
import { KvLeaseBackend } from './kv-lease.js';
import { KvRolloutStore } from './kv-rollouts.js';
import type { LeaseBackend, LeaseIdentity } from './lease.js';

export interface Persistence {
  readonly kind: 'nats' | 'file' | 'memory';
  readonly store: RolloutArchive;
  /** Where the leader lock lives; undefined for the memory store: nothing is shared, so this controller leads. */
  readonly lock?: LeaseBackend;
}

/** This process, as the leader lock names it; `port` is the one ControllerService got. */
export function controllerIdentity(listen: string, port: number): LeaseIdentity {
  const address = listen.replace(/:\d+$/, `:${port}`);
  const host = hostname();
  return { owner: `${host}/${address}`, address, incarnation: randomUUID(), host, pid: process.pid };
}

/** The store and leader lock the config asks for; `auto` is NATS KV when NATS is configured, else files. */
export async function openPersistence(
  config: Pick<ControllerConfig, 'store' | 'stateDir' | 'leaderLeaseMs' | 'nats'>,
  nc: NatsConnection | undefined,
  log: Logger,
): Promise<Persistence> {
  const kind = config.store === 'auto' ? (nc ? 'nats' : 'file') : config.store;
  const leaseMs = config.leaderLeaseMs;
  if (kind === 'memory') return { kind, store: new MemoryRolloutStore() };
  if (kind === 'file') {
    return {
      kind,
      store: new FileRolloutStore(config.stateDir),
      lock: new FileLeaseBackend(config.stateDir),
    };
  }
  // The schema requires nats: for store nats; auto picks it only with a connection.
  if (!nc) throw new Error('store nats needs a NATS connection');
  const replicas = config.nats?.kvReplicas ?? 1;
  const store = await KvRolloutStore.open(nc, { log, replicas });
  return { kind, store, lock: await KvLeaseBackend.open(nc, { leaseMs, replicas }) };
}
