import { asFleetrollError, type FleetrollError, type Logger, type StepEvent } from '@fleetroll/shared';
import { RolloutStoreError } from './errors.js';
import { reduce, type Change } from './reducer.js';
import type { RolloutStore } from './store.js';
import { copyStatus, derive, frozenHost, type HostStatus, type Status } from './status.js';

/**
 * Hears each saved status once, with the agent steps saved in it since the one before. The status
 * is shared by every listener: read it, or copy it to keep it; never change it.
 */
export type RolloutListener = (status: Status, steps: readonly StepEvent[]) => void;

/**
 * How long progress that nothing waits on (agent steps, pre-pulls) may sit unsaved. Saving the
 * whole status for each of a thousand hosts' steps would keep the controller busy encoding; one
 * save every this often carries them all, and watchers hear of them as often.
 */
export const PROGRESS_SAVE_MS = 50;

/** Changes that touch no host: every other kind without a hostId may touch any (the end skips the rest). */
const HEADER_CHANGES: ReadonlySet<Change['kind']> = new Set<Change['kind']>([
  'batch-started',
  'batch-finished',
  'paused',
  'resumed',
  'halting',
  'rolling-back',
]);

interface Waiter {
  resolve(): void;
  reject(error: FleetrollError): void;
}

/**
 * The one way a rollout's status changes. A change is applied in memory at once, so that the
 * rollout's own decisions (may this host start?) see it immediately, and saved by group commit:
 * one save at a time, each holding every change made since the last began. apply() resolves once
 * a save holding the change has ended, and only then may the caller act on it; record() is for
 * progress nothing acts on, saved with the next save (at the latest PROGRESS_SAVE_MS later).
 * Saves are whole statuses, in order, so a saved change carries every change before it.
 * Listeners hear of changes after they are saved, so a watcher never sees a state a restarted
 * controller would not know.
 */
export class StatusLedger {
  private broken: FleetrollError | undefined;
  private readonly listeners = new Set<RolloutListener>();
  /** Changed since the last save began. */
  private dirty = false;
  /** Changed since the counters were last derived. */
  private stale = false;
  private waiters: Waiter[] = [];
  private steps: StepEvent[] = [];
  /**
   * The last snapshot's hosts, frozen, in the order of the live status (never reordered): a host
   * no change touched since is handed out again instead of copied, so that a snapshot of a thousand
   * hosts costs the hosts that changed.
   */
  private shared: readonly HostStatus[] = [];
  /** Hosts changed since the last snapshot; null when any may have. */
  private touched: Set<string> | null = null;
  private saving: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private fail: (error: FleetrollError) => void = () => undefined;
  /** Rejects when a save fails, so that a rollout with nothing in flight (paused) learns of it too. */
  readonly failed = new Promise<never>((_, reject) => {
    this.fail = reject;
  });

  constructor(
    private readonly current: Status,
    private readonly store: RolloutStore,
    /** The rollout's clock, which its status times are in. */
    readonly now: () => number,
    private readonly log: Logger,
  ) {
    this.failed.catch(() => undefined);
  }

  /** Set once a save failed, or stop() was called: the rollout must not change, nor act, any more. */
  get failure(): FleetrollError | undefined {
    return this.broken;
  }

  /**
   * Refuses every change from now on, as a failed save does: another controller acts on the rollout
   * now, and a change this one saved would overwrite the other's. Changes not saved yet never are.
   */
  stop(reason: FleetrollError): void {
    if (this.broken) return;
    this.broken = reason;
    clearTimeout(this.timer);
    this.timer = undefined;
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.reject(reason);
    this.fail(reason);
  }

  /** The live status with its counters and derived states up to date, for decisions on groups; never handed out. */
  get view(): Readonly<Status> {
    if (this.stale) {
      derive(this.current);
      this.stale = false;
    }
    return this.current;
  }

  /**
   * The live status as the changes left it: hosts, batches, pause reasons and halts are current,
   * counters and derived states may be behind. For the per-host decisions taken many times a change:
   * deriving over a thousand hosts after each of a batch's hundred changes costs more than the rest.
   */
  get live(): Readonly<Status> {
    return this.current;
  }

  /** A copy the caller owns, to change as it likes. */
  copy(): Status {
    return copyStatus(this.view);
  }

  /**
   * What a save holds, listeners hear and readers are answered: a copy whose hosts are frozen, shared
   * with other snapshots, so that a thousand-host status costs only the hosts that changed since.
   */
  snapshot(): Status {
    const view = this.view;
    const { shared, touched } = this;
    const hosts = view.hosts.map((host, i) => {
      const last = shared[i];
      return last && touched && !touched.has(host.hostId) ? last : frozenHost(host);
    });
    this.shared = hosts;
    this.touched = new Set();
    // An array of its own: what a listener does to the array must not reach the next snapshot.
    return copyStatus(view, [...hosts]);
  }

  /** Resolves once the change is saved; rejects, and the rollout must not act, when it cannot be. */
  apply(change: Change, step?: StepEvent): Promise<void> {
    // Once a save failed, nothing more may happen that the store would not know about.
    if (this.broken) return Promise.reject(this.broken);
    if (!this.change(change, step)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  /** Progress nothing acts on: saved with the next save. A failed save reaches the rollout through `failed`. */
  record(change: Change, step?: StepEvent): void {
    if (this.broken) return;
    if (this.change(change, step)) this.saveSoon();
  }

  /** Resolves once everything changed so far is saved, or could not be (the failure is reported as usual). */
  flush(): Promise<void> {
    if (this.broken || !this.dirty) return this.settled();
    return new Promise<void>((resolve) => {
      this.waiters.push({ resolve, reject: () => resolve() });
      this.schedule();
    });
  }

  /** Resolves once the save under way, if any, has ended, saved or not. */
  settled(): Promise<void> {
    return this.saving ?? Promise.resolve();
  }

  subscribe(listener: RolloutListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  private change(change: Change, step: StepEvent | undefined): boolean {
    if (!reduce(this.current, change, this.now())) return false;
    if ('hostId' in change) this.touched?.add(change.hostId);
    else if (!HEADER_CHANGES.has(change.kind)) this.touched = null;
    this.dirty = true;
    this.stale = true;
    if (step) this.steps.push(step);
    return true;
  }

  /** Starts a save unless one is under way: that one starts the next when it ends. */
  private schedule(): void {
    if (this.saving || !this.dirty || this.broken) return;
    this.saving = this.saveAll().finally(() => {
      this.saving = undefined;
      // Waiters go next at once; progress alone waits for its timer.
      if (this.waiters.length > 0) this.schedule();
      else if (this.dirty) this.saveSoon();
    });
  }

  private saveSoon(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.schedule();
    }, PROGRESS_SAVE_MS);
  }

  private async saveAll(): Promise<void> {
    // Changes made in the same turn of the event loop (replies that arrived together) join this save.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.broken) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const waiters = this.waiters;
    const steps = this.steps;
    this.waiters = [];
    this.steps = [];
    this.dirty = false;
    const snapshot = this.snapshot();
    try {
      await this.store.save(snapshot);
    } catch (err) {
      const cause = asFleetrollError(err);
      const error = new RolloutStoreError(`cannot save rollout ${snapshot.id}: ${cause.message}`, { cause });
      this.log.error({ err, code: cause.code }, error.message);
      for (const waiter of waiters) waiter.reject(this.broken ?? error);
      this.stop(error);
      return;
    }
    // Stopped while saving: the callers must not act on it, another controller acts now.
    const stopped = this.broken;
    if (stopped) {
      for (const waiter of waiters) waiter.reject(stopped);
      return;
    }
    for (const waiter of waiters) waiter.resolve();
    this.notify(snapshot, steps);
  }

  private notify(snapshot: Status, steps: readonly StepEvent[]): void {
    for (const listener of this.listeners) {
      try {
        listener(snapshot, steps);
      } catch (err) {
        // A broken watcher (say, a closed stream) must not stop the rollout.
        this.log.error({ err }, 'rollout listener threw');
      }
    }
  }
}
