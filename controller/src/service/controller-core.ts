import {
  InvalidInputError,
  type InventoryHost,
  type Logger,
  type StepEvent,
  type msg,
} from '@fleetroll/shared';
import { setTimeout as sleep } from 'node:timers/promises';
import { Rollout, RolloutDetachedError } from '../rollout/index.js';
import { RolloutStoreError } from '../rollout/errors.js';
import { parseRolloutSpec } from '../rollout/spec.js';
import { isTerminal } from '../rollout/status.js';
import { MemoryRolloutStore, type RolloutArchive } from '../rollout/store.js';
import type { AgentDirectory } from '../transport/agent-client.js';
import type { RolloutListener } from '../rollout/ledger.js';
import { StoreConflictError } from '../store/errors.js';
import { NotLeaderError, RolloutConflictError, UnknownRolloutError } from './errors.js';
import { RolloutBook } from './rollout-book.js';
import { newRolloutId } from './rollout-id.js';

export type Transport = 'nats' | 'grpc';
export type { RolloutListener } from '../rollout/ledger.js';

/** What the core needs from the daemon: where hosts, agents and transports come from. */
export interface ControllerDeps {
  log: Logger;
  defaultTransport: Transport;
  defaults: { hostTimeoutMs: number; maxParallel: number };
  /** The hosts a rollout may touch: the inventory, plus agents registered over NATS. */
  hosts(): Promise<InventoryHost[]>;
  /** Throws TransportUnavailableError when that transport is not configured. */
  directory(transport: Transport, hosts: readonly InventoryHost[]): AgentDirectory;
  agents(): Promise<msg.AgentInfo__Output[]>;
  /**
   * Where rollouts are kept. With one, the core stands by until lead() (the daemon's election
   * decides); without one, nothing outlives the process and the core leads from the start.
   */
  store?: RolloutArchive;
  /** Who leads, for a standby's refusals: "controller 10.0.0.5:7000 (pid 42 on ctl-1) leads". */
  leaderText?(): string;
  /** First wait before a rollout stopped by a failed save is resumed from the store; it doubles. */
  storeRetryMs?: number;
  /** How many ended rollouts the leader keeps, newest first; all when not given. */
  keepEnded?: number;
}

/** The longest wait between two attempts to resume a rollout from a store that keeps failing. */
const MAX_STORE_RETRY_MS = 30_000;

export { isTerminal };

/**
 * The controller's API without any wire: the gRPC service and the HTTP dashboard
 * both call this. One rollout runs at a time, so two releases never race for a slot.
 * Of several controllers sharing a store, only the leader acts on rollouts; a standby
 * answers reads from the store and refuses changes, naming the leader.
 */
export class ControllerCore {
  /** Rollouts this controller acts on. */
  private readonly rollouts = new Map<string, Rollout>();
  private readonly book: RolloutBook;
  private readonly observers = new Set<RolloutListener>();
  private readonly store: RolloutArchive;
  private leading: boolean;
  private standbyReason = 'this controller has not been elected yet';
  /** Bumped on every change of role, so that a takeover that lost its role meanwhile stops. */
  private epoch = 0;
  /** Saves of rollouts this controller let go that may still land in the store. */
  private letGo: Promise<void> = Promise.resolve();
  /** The next wait before resuming each rollout whose saves keep failing. */
  private readonly storeRetries = new Map<string, number>();
  /** Deletions of old rollouts, one round after another. */
  private pruning: Promise<void> = Promise.resolve();

  constructor(private readonly deps: ControllerDeps) {
    this.store = deps.store ?? new MemoryRolloutStore();
    this.leading = deps.store === undefined;
    this.book = new RolloutBook((err) => deps.log.error({ err }, 'rollout watcher threw'));
  }

  get isLeader(): boolean {
    return this.leading;
  }

  async start(request: msg.StartRolloutRequest__Output): Promise<msg.RolloutStatus__Output> {
    this.mayStart();
    const spec = parseRolloutSpec(request, {
      id: newRolloutId(),
      defaultTransport: this.deps.defaultTransport,
      defaults: this.deps.defaults,
    });
    const hosts = await this.deps.hosts();
    // Again: deposed, or another start, while the inventory was read.
    this.mayStart();
    const directory = this.deps.directory(spec.transport ?? this.deps.defaultTransport, hosts);
    const log = this.deps.log.child({ rolloutId: spec.id });
    const rollout = new Rollout(spec, hosts, directory, log, { store: this.store });
    this.adopt(rollout, directory, log);
    // The id goes back only once the store has the rollout: a controller restarted now resumes it.
    await rollout.begin();
    log.info({ image: spec.image, transport: spec.transport }, 'rollout started');
    return rollout.status();
  }

  /** To read and send: its hosts are frozen. */
  get(id: string): msg.RolloutStatus__Output {
    const status = this.rollouts.get(id)?.snapshot() ?? this.book.get(id);
    if (!status) throw new UnknownRolloutError(`no rollout ${id} on this controller`);
    return status;
  }

  /** Newest first; to read and send, as get(). */
  list(): msg.RolloutStatus__Output[] {
    const live = [...this.rollouts.values()].map((r) => r.snapshot());
    const kept = this.book.all().filter((s) => !this.rollouts.has(s.id));
    return [...live, ...kept].sort((a, b) => b.createdAtMs - a.createdAtMs);
  }

  pause(id: string, group?: string): msg.RolloutStatus__Output {
    return this.find(id, 'pause').pause(group);
  }

  resume(id: string, group?: string): msg.RolloutStatus__Output {
    return this.find(id, 'resume').resume(group);
  }

  abort(id: string): msg.RolloutStatus__Output {
    return this.find(id, 'abort').abort();
  }

  /**
   * Calls listener with the status now and after every change; returns the unsubscribe function.
   * On a standby the changes are those the leader saves, as often as the standby reads the store.
   */
  watch(id: string, listener: RolloutListener): () => void {
    const now = this.get(id);
    const off = this.book.watch(id, listener);
    listener(now, []);
    return off;
  }

  /**
   * Elected: every rollout the store holds becomes known here, and every unfinished one is resumed
   * (hosts that ended are not touched again, hosts in flight are asked for their real state).
   * Rejects when the store cannot be read; the caller then gives the lead up.
   */
  async lead(): Promise<void> {
    const epoch = ++this.epoch;
    // Its own last saves first: read before they land, the store would be overwritten by them.
    await this.letGo;
    const statuses = await this.store.list();
    if (epoch !== this.epoch) return;
    for (const status of statuses) if (!this.rollouts.has(status.id)) this.book.keep(status);
    const unfinished = statuses.filter((s) => !isTerminal(s) && !this.rollouts.has(s.id));
    for (const status of unfinished) await this.resumeStored(status, epoch);
    if (epoch !== this.epoch) return;
    this.leading = true;
    this.deps.log.info({ resumed: unfinished.map((s) => s.id) }, 'leading');
    this.prune();
  }

  /**
   * Not (or no longer) the leader: stops acting on every rollout at once, without a word to any
   * agent (what they do goes on, and the next leader finds it in flight); reads go on from the store.
   * A controller that stops in good order (`flush`) first saves the progress not saved yet; one
   * deposed must not, since another may lead already. Resolves once the last saves have ended.
   */
  standBy(why: string, flush = false): Promise<void> {
    this.epoch += 1;
    this.leading = false;
    this.standbyReason = why;
    const settling = [this.letGo];
    for (const [id, rollout] of this.rollouts) {
      settling.push(rollout.detach(why, flush));
      this.book.keep(rollout.status());
      this.rollouts.delete(id);
    }
    this.letGo = Promise.all(settling).then(() => undefined);
    return this.letGo;
  }

  /**
   * Deletes the ended rollouts beyond the newest keepEnded, from the store and from here. Only the
   * leader writes the store; a deletion that fails is tried again when the next rollout ends.
   */
  private prune(): void {
    const keep = this.deps.keepEnded;
    if (keep === undefined) return;
    this.pruning = this.pruning.then(async () => {
      if (!this.leading) return;
      const old = this.list()
        .filter((s) => isTerminal(s))
        .slice(keep)
        .map((s) => s.id);
      try {
        for (const id of old) {
          await this.store.remove(id);
          this.rollouts.delete(id);
          this.book.forget(id);
        }
      } catch (err) {
        this.deps.log.warn({ err }, 'deleting old ended rollouts failed; tried again when the next one ends');
        return;
      }
      if (old.length > 0) {
        this.deps.log.info(
          { deleted: old },
          `deleted ${old.length} ended rollouts beyond the newest ${keep}`,
        );
      }
    });
  }

  /** On a standby: what the leader saved since the last look, for reads and watchers. */
  async refresh(): Promise<void> {
    if (this.leading) return;
    const epoch = this.epoch;
    const stored = await this.store.list();
    // Elected while reading (lead() moves the epoch before it leads): what was read must not
    // overwrite the rollouts being taken over.
    if (epoch === this.epoch) this.book.refresh(stored);
  }

  /**
   * Every change of every rollout, including rollouts started later (watch() needs an id): what
   * metrics are made of. Returns the unsubscribe function.
   */
  observe(listener: RolloutListener): () => void {
    this.observers.add(listener);
    return () => void this.observers.delete(listener);
  }

  agents(): Promise<msg.AgentInfo__Output[]> {
    return this.deps.agents();
  }

  private tellObservers(status: msg.RolloutStatus__Output, steps: readonly StepEvent[]): void {
    for (const observer of this.observers) {
      try {
        observer(status, steps);
      } catch (err) {
        // One broken observer must neither stop the others nor the rollout.
        this.deps.log.error({ err }, 'rollout observer threw');
      }
    }
  }

  private mayStart(): void {
    this.mustLead('start a rollout');
    const running = this.list().find((s) => !isTerminal(s));
    if (running) {
      throw new RolloutConflictError(
        `rollout ${running.id} is still ${running.state.replace('ROLLOUT_', '').toLowerCase()}; ` +
          `abort it or let it finish first`,
      );
    }
  }

  private mustLead(what: string): void {
    if (this.leading) return;
    const leader = this.deps.leaderText?.() ?? this.standbyReason;
    throw new NotLeaderError(`cannot ${what} here: this controller stands by; ${leader}`);
  }

  private find(id: string, verb: string): Rollout {
    this.mustLead(`${verb} a rollout`);
    const rollout = this.rollouts.get(id);
    if (rollout) return rollout;
    const kept = this.book.get(id);
    if (!kept) throw new UnknownRolloutError(`no rollout ${id} on this controller`);
    if (!isTerminal(kept) && this.storeRetries.has(id)) {
      throw new RolloutStoreError(
        `rollout ${id} stopped because its store failed; it resumes once the store answers again, try to ${verb} it then`,
      );
    }
    const state = kept.state.replace('ROLLOUT_', '').toLowerCase();
    throw new InvalidInputError(
      `rollout ${id} is ${state} and not running here; there is nothing to ${verb}`,
    );
  }

  /** Runs a rollout this controller now acts on, and tells watchers and observers of each change. */
  private adopt(rollout: Rollout, directory: AgentDirectory, log: Logger): void {
    this.rollouts.set(rollout.id, rollout);
    this.book.forget(rollout.id);
    rollout.onChange((status, steps) => {
      this.book.tell(status, steps);
      this.tellObservers(status, steps);
    });
    rollout
      .run()
      .then((status) => {
        this.storeRetries.delete(rollout.id);
        log.info({ state: status.state }, `rollout ended: ${status.message || status.state}`);
        this.prune();
      })
      .catch((err: unknown) => {
        if (err instanceof RolloutDetachedError) log.info(err.message);
        // Logged by the rollout already, once.
        else if (err instanceof RolloutStoreError) void this.recover(rollout, err, log);
        else log.error({ err }, 'rollout crashed');
      })
      .finally(() => void directory.close());
  }

  /**
   * A rollout whose save failed has stopped acting: nothing may happen that the store does not
   * know. It is resumed from the store, as a restarted controller would resume it, once the store
   * answers again; meanwhile it is shown as it stood and blocks new rollouts. Not when another
   * controller wrote it (the election settles who leads), nor once this one no longer leads.
   */
  private async recover(rollout: Rollout, error: RolloutStoreError, log: Logger): Promise<void> {
    const { id } = rollout;
    if (this.rollouts.get(id) !== rollout) return;
    this.rollouts.delete(id);
    this.book.keep(rollout.status());
    if (error.cause instanceof StoreConflictError) return;
    const epoch = this.epoch;
    const wait = this.storeRetries.get(id) ?? this.deps.storeRetryMs ?? 1_000;
    this.storeRetries.set(id, Math.min(2 * wait, MAX_STORE_RETRY_MS));
    log.warn(
      { retryInMs: wait },
      `rollout ${id} stopped: its store failed; resuming it from the store when it answers`,
    );
    for (let next = wait; ; next = Math.min(2 * next, MAX_STORE_RETRY_MS)) {
      await sleep(next);
      if (epoch !== this.epoch) return;
      let stored: msg.RolloutStatus__Output | undefined;
      try {
        stored = (await this.store.list()).find((s) => s.id === id);
      } catch (err) {
        log.warn({ err, retryInMs: next }, 'the rollout store is still unavailable');
        continue;
      }
      if (epoch !== this.epoch || !stored) return;
      this.book.keep(stored);
      if (!isTerminal(stored)) await this.resumeStored(stored, epoch);
      return;
    }
  }

  /** A rollout a previous leader left unfinished; one that cannot be resumed stays visible, as it was. */
  private async resumeStored(status: msg.RolloutStatus__Output, epoch: number): Promise<void> {
    const log = this.deps.log.child({ rolloutId: status.id });
    try {
      const transport = status.transport === 'nats' ? 'nats' : 'grpc';
      const hosts = await this.deps.hosts();
      // Deposed while reading the inventory: the next leader resumes it.
      if (epoch !== this.epoch) return;
      const directory = this.deps.directory(transport, hosts);
      const rollout = Rollout.restore(status, directory, log, { store: this.store });
      this.adopt(rollout, directory, log);
      log.info({ state: status.state }, 'rollout resumed from the store');
    } catch (err) {
      log.error({ err }, 'cannot resume the rollout; it stays as the store has it');
    }
  }
}
