import { setTimeout as sleep } from 'node:timers/promises';

/** What a PollBeat reads the time from and sleeps on; tests give it a clock of their own. */
export interface BeatClock {
  now(): number;
  /** Rejects once `signal` aborts, if it does first. */
  sleep(ms: number, signal?: AbortSignal): Promise<unknown>;
}

const realClock: BeatClock = { now: Date.now, sleep: (ms, signal) => sleep(ms, undefined, { signal }) };

/**
 * Paces a wait's polls on a fixed beat from its start (start + k × pollMs) rather than pollMs after
 * each poll has ended. Each check's own time (a round trip to HAProxy's socket, a Docker inspect)
 * and each timer's lateness would otherwise add up over a wait, and the wait would notice what it
 * waits for later with every poll. A beat that a slow check overran is skipped, not caught up.
 */
export class PollBeat {
  private next: number;

  constructor(
    private readonly pollMs: number,
    start?: number,
    private readonly clock: BeatClock = realClock,
  ) {
    this.next = start ?? clock.now();
  }

  /**
   * Sleeps until the next beat, or until `until` (a time of the clock) if that comes first. Rejects
   * once `signal` aborts.
   */
  async wait(until = Number.POSITIVE_INFINITY, signal?: AbortSignal): Promise<void> {
    const now = this.clock.now();
    do this.next += this.pollMs;
    while (this.next <= now);
    await this.clock.sleep(Math.max(1, Math.min(this.next, until) - now), signal);
  }
}
