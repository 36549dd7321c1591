import { asFleetrollError, type FleetrollError, type Logger, type StepEvent } from '@fleetroll/shared';
import { RolloutStoreError } from './errors.js';
import { reduce, type Change } from './reducer.js';
import type { RolloutStore } from './store.js';
import { copyStatus, type Status } from './status.js';

export type RolloutListener = (status: Status, step?: StepEvent) => void;

/**
 * The one way a rollout's status changes. A change is applied in memory at once, so that the
 * rollout's own decisions (may this host start?) see it immediately, and saved in order; the
 * promise resolves once it is saved, and only then may the caller act on it. Listeners hear of a
 * change after it is saved, so a watcher never sees a state a restarted controller would not know.
 */
export class StatusLedger {
  private saving: Promise<void> = Promise.resolve();
  private broken: FleetrollError | undefined;
  private readonly listeners = new Set<RolloutListener>();
  private fail: (error: FleetrollError) => void = () => undefined;
  /** Rejects when a save fails, so that a rollout with nothing in flight (paused) learns of it too. */
  readonly failed = new Promise<never>((_, reject) => {
    this.fail = reject;
  });

  constructor(
    private readonly current: Status,
    private readonly store: RolloutStore,
    private readonly now: () => number,
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
   * now, and a change this one saved would overwrite the other's.
   */
  stop(reason: FleetrollError): void {
    if (this.broken) return;
    this.broken = reason;
    this.fail(reason);
  }

  /** The live status, for the rollout's own decisions; never handed out. */
  get view(): Readonly<Status> {
    return this.current;
  }

  snapshot(): Status {
    return copyStatus(this.current);
  }

  apply(change: Change, step?: StepEvent): Promise<void> {
    // Once a save failed, nothing more may happen that the store would not know about.
    if (this.broken) return Promise.reject(this.broken);
    if (!reduce(this.current, change, this.now())) return Promise.resolve();
    const snapshot = this.snapshot();
    const saved = this.saving
      .then(() => this.save(snapshot))
      .then(() => {
        // Stopped while saving: the caller must not act on it, another controller acts now.
        if (this.broken) throw this.broken;
        this.notify(snapshot, step);
      });
    this.saving = saved.catch(() => undefined);
    return saved;
  }

  /** Resolves once every save asked for so far has ended, saved or not. */
  settled(): Promise<void> {
    return this.saving;
  }

  subscribe(listener: RolloutListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  private async save(snapshot: Status): Promise<void> {
    if (this.broken) throw this.broken;
    try {
      await this.store.save(snapshot);
    } catch (err) {
      const cause = asFleetrollError(err);
      this.broken = new RolloutStoreError(`cannot save rollout ${snapshot.id}: ${cause.message}`, { cause });
      this.log.error({ err, code: cause.code }, this.broken.message);
      this.fail(this.broken);
      throw this.broken;
    }
  }

  private notify(snapshot: Status, step: StepEvent | undefined): void {
    for (const listener of this.listeners) {
      try {
        listener(copyStatus(snapshot), step);
      } catch (err) {
        // A broken watcher (say, a closed stream) must not stop the rollout.
        this.log.error({ err }, 'rollout listener threw');
      }
    }
  }
}
