import type { StepEvent, msg } from '@fleetroll/shared';
import type { RolloutListener } from '../rollout/ledger.js';
import { withFrozenHosts } from '../rollout/status.js';

type Status = msg.RolloutStatus__Output;

/**
 * Rollouts this controller knows from the store but does not act on (it stands by, or they
 * ended before it started), and everyone watching a rollout, whoever acts on it: a watcher keeps
 * its stream when the rollout it watches moves from one controller to another.
 */
export class RolloutBook {
  private readonly kept = new Map<string, Status>();
  private readonly watchers = new Map<string, Set<RolloutListener>>();

  constructor(private readonly onListenerError: (err: unknown) => void) {}

  get(id: string): Status | undefined {
    const status = this.kept.get(id);
    return status && withFrozenHosts(status);
  }

  all(): Status[] {
    return [...this.kept.values()].map((s) => withFrozenHosts(s));
  }

  keep(status: Status): void {
    this.kept.set(status.id, withFrozenHosts(status));
  }

  forget(id: string): void {
    this.kept.delete(id);
  }

  /** Keeps what the store says now, forgets what it no longer has, and tells the watchers of each rollout that changed. */
  refresh(statuses: readonly Status[]): void {
    const stored = new Set(statuses.map((s) => s.id));
    for (const id of this.kept.keys()) if (!stored.has(id)) this.kept.delete(id);
    for (const status of statuses) {
      if (this.kept.get(status.id)?.updatedAtMs === status.updatedAtMs) continue;
      this.keep(status);
      this.tell(status);
    }
  }

  watch(id: string, listener: RolloutListener): () => void {
    const listeners = this.watchers.get(id) ?? new Set<RolloutListener>();
    listeners.add(listener);
    this.watchers.set(id, listeners);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.watchers.get(id) === listeners) this.watchers.delete(id);
    };
  }

  tell(status: Status, steps: readonly StepEvent[] = []): void {
    for (const listener of this.watchers.get(status.id) ?? []) {
      try {
        listener(withFrozenHosts(status), steps);
      } catch (err) {
        // A broken watcher (say, a closed stream) must not stop the others, nor the rollout.
        this.onListenerError(err);
      }
    }
  }
}
