import { NoServerLeftError, type SlotConfig } from '@fleetroll/shared';
import { PollBeat } from './poll-beat.js';
import type { LoadBalancer, ServerStat } from './ports.js';
import { isServing } from './ready.js';

/** A server HAProxy sends new requests to. */
const takesTraffic = (stat: ServerStat): boolean => stat.weight > 0 && isServing(stat);

/** One HAProxy may still send requests to: also while it is failing checks but not DOWN yet ("UP 1/3"). */
export const mayTakeTraffic = (stat: ServerStat): boolean =>
  stat.weight > 0 && (isServing(stat) || stat.status.startsWith('UP'));

/** "app_1 DOWN at weight 100, app_3 UP at weight 0": what the others are, for an error. */
export function describeServers(servers: readonly ServerStat[]): string {
  return servers.map((s) => `${s.server} ${s.status} at weight ${s.weight}`).join(', ');
}

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
      throw new NoServerLeftError(
        `${slot.backend}/${slot.server} not taken out: no other server of backend ${slot.backend} ` +
          `takes traffic (${describeServers(others)}) after waiting ${waitMs} ms`,
      );
    }
    await beat.wait();
  }
}
