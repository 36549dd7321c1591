import type { StepEvent } from '@fleetroll/shared';

// Far more slots than replace at once in any fleet; only a lost NEW_STARTED leaves an entry behind.
const MAX_OPEN = 10_000;

/**
 * The agent times the stop (OLD_STOPPED) and the start (NEW_STARTED) of a replacement separately;
 * this keeps the first until the second arrives, per slot, so that their sum can be recorded.
 */
export class SlotTimer {
  private readonly stops = new Map<string, number>();

  stopped(event: StepEvent): void {
    if (this.stops.size >= MAX_OPEN) {
      const oldest = this.stops.keys().next();
      if (!oldest.done) this.stops.delete(oldest.value);
    }
    this.stops.set(key(event), event.durationMs);
  }

  /** The stop's duration of the same slot, once; undefined when no stop was seen (e.g. a restart). */
  started(event: StepEvent): number | undefined {
    const k = key(event);
    const ms = this.stops.get(k);
    this.stops.delete(k);
    return ms;
  }

  forget(event: StepEvent): void {
    this.stops.delete(key(event));
  }

  get open(): number {
    return this.stops.size;
  }
}

function key(e: StepEvent): string {
  return `${e.rolloutId}\u0000${e.hostId}\u0000${e.slot}`;
}
