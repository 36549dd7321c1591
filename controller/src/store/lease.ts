import { z } from 'zod';

/** Who holds the leader lock; kept as JSON in the lock (a KV value or a file). */
export const leaseRecordSchema = z.object({
  /** Host name and API address: a controller restarted on the same address is the same owner. */
  owner: z.string().min(1),
  /** Where its ControllerService listens, for the standby to name in its refusals. */
  address: z.string(),
  /** One per process: tells a previous run of the same owner from this one. */
  incarnation: z.string().min(1),
  /** The machine and process it runs as. */
  host: z.string(),
  pid: z.number().int(),
  renewedAtMs: z.number(),
});
export type LeaseRecord = z.infer<typeof leaseRecordSchema>;
export type LeaseIdentity = Omit<LeaseRecord, 'renewedAtMs'>;

export interface Lease {
  /** Undefined when the lock holds something unreadable: it is treated as held by a stranger. */
  readonly record: LeaseRecord | undefined;
  readonly revision: number;
}

/**
 * A lock with revisions, where every write is a compare-and-set: create only when there is none,
 * update only when the revision is still the one read. create and update resolve undefined when
 * another controller won; they reject only when the lock could not be reached at all.
 */
export interface LeaseBackend {
  read(): Promise<Lease | undefined>;
  create(record: LeaseRecord): Promise<number | undefined>;
  update(record: LeaseRecord, revision: number): Promise<number | undefined>;
  /** Gives the lock up, if it is still at this revision. */
  release(revision: number): Promise<void>;
  /** Proof, beyond the lease, that the holder is gone (the file lock: its pid is dead). */
  holderGone(record: LeaseRecord): boolean;
}

export type Transition =
  | { readonly kind: 'elected'; readonly how: string }
  | { readonly kind: 'deposed'; readonly why: string }
  | { readonly kind: 'unchanged' };

type State =
  | { readonly role: 'leader'; readonly revision: number; readonly renewedAtMs: number }
  | { readonly role: 'standby'; readonly seen?: { readonly revision: number; readonly sinceMs: number } };

const UNCHANGED: Transition = { kind: 'unchanged' };

/**
 * The leader lock's state machine, one step at a time (the Election runs the steps). A standby
 * takes the lock when there is none, when its holder is a previous run of this same controller,
 * when the backend proves the holder gone, or when the lock has not been renewed for a whole lease
 * as this process saw it (no clock is compared across machines). A leader renews it by
 * compare-and-set, and gives up leading once it could not renew for half a lease, well before a
 * standby would take over.
 */
export class LeaderLock {
  private state: State = { role: 'standby' };
  private holder: LeaseRecord | undefined;
  /** Why the last step could not reach the lock; cleared by the next one that could. */
  unreachable: Error | undefined;
  /** Steps and releases run one at a time: a release must see the revision a renewal just wrote. */
  private turn: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly backend: LeaseBackend,
    private readonly self: LeaseIdentity,
    readonly leaseMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get leading(): boolean {
    return this.state.role === 'leader';
  }

  /** The holder as last seen by a standby (undefined when none was, or it was unreadable). */
  get leader(): LeaseRecord | undefined {
    return this.leading ? this.record() : this.holder;
  }

  step(): Promise<Transition> {
    return this.exclusive(() =>
      this.state.role === 'leader' ? this.renew(this.state) : this.contend(this.state.seen),
    );
  }

  /** Lets a standby take over at once instead of after a lease. */
  release(): Promise<void> {
    return this.exclusive(async () => {
      if (this.state.role !== 'leader') return;
      const { revision } = this.state;
      this.state = { role: 'standby' };
      await this.backend.release(revision);
    });
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.turn.then(work);
    this.turn = next.catch(() => undefined);
    return next;
  }

  private record(): LeaseRecord {
    return { ...this.self, renewedAtMs: this.now() };
  }

  private async renew(state: Extract<State, { role: 'leader' }>): Promise<Transition> {
    let revision: number | undefined;
    try {
      revision = await this.backend.update(this.record(), state.revision);
      this.unreachable = undefined;
    } catch (err) {
      this.unreachable = err as Error;
      const silentMs = this.now() - state.renewedAtMs;
      if (silentMs < this.leaseMs / 2) return UNCHANGED;
      this.state = { role: 'standby' };
      return {
        kind: 'deposed',
        why: `could not renew the leader lock for ${Math.round(silentMs)} ms: ${(err as Error).message}`,
      };
    }
    if (revision === undefined) {
      this.state = { role: 'standby' };
      return { kind: 'deposed', why: 'another controller took the leader lock' };
    }
    this.state = { role: 'leader', revision, renewedAtMs: this.now() };
    return UNCHANGED;
  }

  private async contend(seen: { revision: number; sinceMs: number } | undefined): Promise<Transition> {
    try {
      const lease = await this.backend.read();
      this.unreachable = undefined;
      if (!lease) return this.won(await this.backend.create(this.record()), 'the lock was free');
      this.holder = lease.record;
      const now = this.now();
      const since = seen?.revision === lease.revision ? seen.sinceMs : now;
      this.state = { role: 'standby', seen: { revision: lease.revision, sinceMs: since } };
      const why = this.takeover(lease.record, now - since);
      if (why === undefined) return UNCHANGED;
      return this.won(await this.backend.update(this.record(), lease.revision), why);
    } catch (err) {
      // Unreachable lock: a standby stays one; the next step tries again.
      this.unreachable = err as Error;
      return UNCHANGED;
    }
  }

  /** Why the lock may be taken from its holder; undefined when it may not. */
  private takeover(holder: LeaseRecord | undefined, staleMs: number): string | undefined {
    if (holder?.incarnation === this.self.incarnation) return 'this process held it already';
    // The same host and address: this process holds that address now, so the other run is gone.
    if (holder?.owner === this.self.owner) return `it was held by a previous run (pid ${holder.pid})`;
    if (holder && this.backend.holderGone(holder)) return `its holder (pid ${holder.pid}) is gone`;
    if (staleMs >= this.leaseMs) return `it was not renewed for ${staleMs} ms`;
    return undefined;
  }

  private won(revision: number | undefined, how: string): Transition {
    if (revision === undefined) return UNCHANGED;
    this.state = { role: 'leader', revision, renewedAtMs: this.now() };
    return { kind: 'elected', how };
  }
}
