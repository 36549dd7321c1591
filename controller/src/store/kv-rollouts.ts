import { setTimeout as sleep } from 'node:timers/promises';
import {
  JetStreamApiCodes,
  JetStreamApiError,
  jetstreamManager,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { codecs, type Logger, type msg } from '@fleetroll/shared';
import type { RolloutArchive } from '../rollout/store.js';
import { StoreConflictError, StoreUnavailableError } from './errors.js';
import { StatusEncoders } from './status-encoder.js';

type Status = msg.RolloutStatus__Output;

/** JetStream KV bucket of the rollouts: key = rollout id, value = the protobuf RolloutStatus. */
export const ROLLOUT_BUCKET = 'fleetroll-rollouts';
/** The stream behind the bucket, and the subject prefix of its keys (JetStream KV's naming). */
const ROLLOUT_STREAM = `KV_${ROLLOUT_BUCKET}`;
const KEY_SUBJECT = `$KV.${ROLLOUT_BUCKET}.`;

export interface KvStoreOptions {
  log: Logger;
  /** Copies of the bucket when this process creates it: 3 on a cluster. */
  replicas?: number;
  /**
   * How long a save keeps trying through a NATS outage (a cluster electing a new stream leader
   * takes seconds) before the rollout gives up on it. The rollout waits meanwhile.
   */
  retryForMs?: number;
}

const RETRY_PAUSE_MS = 250;

/** Rollout ids may hold ":", which KV keys may not; "=" is in no rollout id, so the mapping is reversible. */
export function rolloutKey(id: string): string {
  return id.replaceAll(':', '=');
}

export function isWrongRevision(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
      err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/**
 * Every save is a compare-and-set on the revision this controller last wrote or read: when another
 * controller has written the rollout since (it took over while this one was cut off), the save
 * fails with STORE_CONFLICT and this controller stops acting on it, whatever its leader lock says.
 */
export class KvRolloutStore implements RolloutArchive {
  private readonly revisions = new Map<string, number>();
  private readonly encoders = new StatusEncoders();
  private readonly retryForMs: number;

  constructor(
    private readonly kv: KV,
    private readonly jsm: JetStreamManager,
    private readonly log: Logger,
    retryForMs = 15_000,
  ) {
    this.retryForMs = retryForMs;
  }

  static async open(nc: NatsConnection, opts: KvStoreOptions): Promise<KvRolloutStore> {
    try {
      const kv = await new Kvm(nc).create(ROLLOUT_BUCKET, { history: 1, replicas: opts.replicas ?? 1 });
      return new KvRolloutStore(kv, await jetstreamManager(nc), opts.log, opts.retryForMs);
    } catch (err) {
      throw new StoreUnavailableError(`cannot open KV bucket ${ROLLOUT_BUCKET}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  async save(status: Status): Promise<void> {
    const key = rolloutKey(status.id);
    const value = this.encoders.encode(status);
    const deadline = Date.now() + this.retryForMs;
    // Fixed for every attempt: a save that outlived a takeover must not build on what came after it.
    const revision = this.revisions.get(status.id);
    for (let attempt = 1; ; attempt++) {
      try {
        const next =
          revision === undefined
            ? await this.kv.create(key, value)
            : await this.kv.update(key, value, revision);
        this.revisions.set(status.id, next);
        return;
      } catch (err) {
        if (isWrongRevision(err)) {
          // A write whose acknowledgement was lost did happen: the value there is this very one.
          if (attempt > 1 && (await this.adoptIfOurs(status.id, key, value))) return;
          throw new StoreConflictError(
            `rollout ${status.id} was written by another controller since revision ${revision ?? 0}`,
            { cause: err },
          );
        }
        if (Date.now() >= deadline) {
          throw new StoreUnavailableError(
            `cannot save rollout ${status.id} in ${ROLLOUT_BUCKET}: ${(err as Error).message}`,
            {
              cause: err,
            },
          );
        }
        if (attempt === 1)
          this.log.warn({ err, rolloutId: status.id }, 'saving the rollout failed; retrying');
        await sleep(RETRY_PAUSE_MS);
      }
    }
  }

  /** Also remembers each revision read, so that the next save builds on what was read. */
  async list(): Promise<Status[]> {
    try {
      const statuses: Status[] = [];
      for (const key of await this.keys()) {
        const entry = await this.kv.get(key);
        if (!entry || entry.operation !== 'PUT') continue;
        const status = codecs.rolloutStatus.decode(entry.value);
        this.revisions.set(status.id, entry.revision);
        statuses.push(status);
      }
      return statuses;
    } catch (err) {
      throw new StoreUnavailableError(`cannot read ${ROLLOUT_BUCKET}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  async remove(id: string): Promise<void> {
    try {
      // Purged, not deleted: no earlier value of the key is kept behind the marker.
      await this.kv.purge(rolloutKey(id));
    } catch (err) {
      throw new StoreUnavailableError(
        `cannot delete rollout ${id} from ${ROLLOUT_BUCKET}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    this.revisions.delete(id);
  }

  /**
   * The keys as the stream's subjects, in one request (paged by the client for many). Not
   * `kv.keys()`: its consumer, started while a leader saves every few tens of ms, now and then
   * did not end until about 30 s after the saves stopped. Deleted and purged keys are listed
   * too; list() skips their markers.
   */
  private async keys(): Promise<string[]> {
    const info = await this.jsm.streams.info(ROLLOUT_STREAM, { subjects_filter: `${KEY_SUBJECT}>` });
    return Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(KEY_SUBJECT.length));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private async adoptIfOurs(id: string, key: string, value: Uint8Array): Promise<boolean> {
    const entry = await this.kv.get(key).catch(() => null);
    if (!entry || !sameBytes(entry.value, value)) return false;
    this.revisions.set(id, entry.revision);
    return true;
  }
}
