import type { msg } from '@fleetroll/shared';
import { copyStatus } from './status.js';

/**
 * Where a rollout's status is kept. Every change is saved, and the save awaited, before the
 * rollout acts on it, so that a controller restarted from the store never finds a host touched
 * that the store does not know about.
 */
export interface RolloutStore {
  save(status: msg.RolloutStatus__Output): Promise<void>;
}

/** A RolloutStore that gives the rollouts back: what a restarted controller, or a standby, reads. */
export interface RolloutArchive extends RolloutStore {
  /** The latest saved status of every rollout kept, in no particular order. */
  list(): Promise<msg.RolloutStatus__Output[]>;
  /** Deletes a rollout; one that is not there is no error. */
  remove(id: string): Promise<void>;
  close(): Promise<void>;
}

/** The default: keeps the latest status of each rollout for the life of the process. */
export class MemoryRolloutStore implements RolloutArchive {
  private readonly latest = new Map<string, msg.RolloutStatus__Output>();

  save(status: msg.RolloutStatus__Output): Promise<void> {
    this.latest.set(status.id, copyStatus(status));
    return Promise.resolve();
  }

  get(id: string): msg.RolloutStatus__Output | undefined {
    const status = this.latest.get(id);
    return status && copyStatus(status);
  }

  list(): Promise<msg.RolloutStatus__Output[]> {
    return Promise.resolve([...this.latest.values()].map((s) => copyStatus(s)));
  }

  remove(id: string): Promise<void> {
    this.latest.delete(id);
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
