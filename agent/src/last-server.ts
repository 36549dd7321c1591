import { NoServerLeftError, type SlotConfig } from '@fleetroll/shared';
import { PollBeat } from './poll-beat.js';
import type { LoadBalancer, ServerStat } from './ports.js';
import { isServing } from './ready.js';

const takesTraffic = (stat: ServerStat): boolean => stat.weight > 0 && isServing(stat);

/**
 * Resolves once another server of the slot's backend takes traffic, so that weight 0 on this
 * one leaves HAProxy something to send requests to. Waits up to waitMs for a sibling that is
 * down or out to come back (a slot of another update, a restart); then fails, having changed
 * nothing. A backend with no other server at all is how its operator runs it: that goes ahead.
 */
export async function waitForAnotherServer(
  lb: LoadBalancer,
  slot: SlotConfig,
  waitMs: number,
  pollMs: number,
): Promise<void> {
  const beat = new PollBeat(pollMs);
  const deadline = Date.now() + waitMs;
  for (;;) {
    const others = (await lb.backendStat(slot.backend)).filter((s) => s.server !== slot.server);
    if (others.length === 0 || others.some(takesTraffic)) return;
    if (Date.now() >= deadline) {
      const seen = others.map((s) => `${s.server} ${s.status} at weight ${s.weight}`).join(', ');
      throw new NoServerLeftError(
        `${slot.backend}/${slot.server} not taken out: no other server of backend ${slot.backend} ` +
          `takes traffic (${seen}) after waiting ${waitMs} ms`,
      );
    }
    await beat.wait();
  }
}
