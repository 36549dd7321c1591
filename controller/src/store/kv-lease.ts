import { jetstream } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { StoreUnavailableError } from './errors.js';
import { isWrongRevision } from './kv-rollouts.js';
import { leaseRecordSchema, type Lease, type LeaseBackend, type LeaseRecord } from './lease.js';

/** Its own bucket, because the lock expires (the bucket's max age) and rollouts must not. */
export const LEADER_BUCKET = 'fleetroll-controller-leader';
const KEY = 'leader';

function parse(bytes: Uint8Array): LeaseRecord | undefined {
  try {
    const parsed = leaseRecordSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

const encode = (record: LeaseRecord): Uint8Array => new TextEncoder().encode(JSON.stringify(record));

async function unlessTaken(write: Promise<number>): Promise<number | undefined> {
  try {
    return await write;
  } catch (err) {
    if (isWrongRevision(err)) return undefined;
    throw err;
  }
}

/**
 * The leader lock in JetStream KV: one key in a bucket whose values expire a lease after their
 * last write, so a dead leader's lock vanishes by itself; create and update are compare-and-set.
 */
export class KvLeaseBackend implements LeaseBackend {
  private constructor(private readonly kv: KV) {}

  static async open(
    nc: NatsConnection,
    opts: { leaseMs: number; replicas?: number },
  ): Promise<KvLeaseBackend> {
    // A renewal stuck in an outage must come back within the lease, or the leader learns too late.
    const js = jetstream(nc, { timeout: Math.max(500, Math.min(5_000, Math.floor(opts.leaseMs / 4))) });
    try {
      const kv = await new Kvm(js).create(LEADER_BUCKET, {
        history: 1,
        replicas: opts.replicas ?? 1,
        ttl: opts.leaseMs,
      });
      return new KvLeaseBackend(kv);
    } catch (err) {
      throw new StoreUnavailableError(`cannot open KV bucket ${LEADER_BUCKET}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  async read(): Promise<Lease | undefined> {
    const entry = await this.kv.get(KEY);
    if (!entry || entry.operation !== 'PUT') return undefined;
    return { record: parse(entry.value), revision: entry.revision };
  }

  create(record: LeaseRecord): Promise<number | undefined> {
    return unlessTaken(this.kv.create(KEY, encode(record)));
  }

  update(record: LeaseRecord, revision: number): Promise<number | undefined> {
    return unlessTaken(this.kv.update(KEY, encode(record), revision));
  }

  async release(revision: number): Promise<void> {
    await this.kv.delete(KEY, { previousSeq: revision }).catch(() => undefined);
  }

  holderGone(): boolean {
    return false;
  }
}
