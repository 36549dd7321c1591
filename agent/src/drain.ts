import { setTimeout as sleep } from 'node:timers/promises';
import type { SlotConfig, SlotTimings } from '@fleetroll/shared';
import type { LoadBalancer } from './ports.js';

export interface DrainResult {
  durationMs: number;
  timedOut: boolean;
  /** Sessions still open when draining ended: 0 unless it timed out. */
  sessionsLeft: number;
}

/**
 * Waits, at weight 0, until HAProxy reports no current sessions on the server.
 * A drain timeout is not a failure: long-lived connections would otherwise block
 * a release forever; the caller records it and goes on.
 */
export async function drain(
  lb: LoadBalancer,
  slot: SlotConfig,
  timings: Pick<SlotTimings, 'drainTimeoutMs' | 'minDrainMs'>,
  pollMs: number,
): Promise<DrainResult> {
  const start = Date.now();
  for (;;) {
    const { scur } = await lb.serverStat(slot.backend, slot.server);
    const elapsed = Date.now() - start;
    if (scur === 0 && elapsed >= timings.minDrainMs)
      return { durationMs: elapsed, timedOut: false, sessionsLeft: 0 };
    if (elapsed >= timings.drainTimeoutMs) return { durationMs: elapsed, timedOut: true, sessionsLeft: scur };
    await sleep(Math.max(1, Math.min(pollMs, timings.drainTimeoutMs - elapsed)));
  }
}
