import type { SlotConfig } from '@fleetroll/shared';
import type { LoadBalancer } from './ports.js';

/**
 * While a slot is out, its server stays at weight 0. HAProxy forgets runtime weights when it is
 * reloaded or restarted (without a server-state file), and anyone with the admin socket can set
 * one: a `weight` seen above 0 is set back to 0. True when it had to be.
 */
export async function holdAtZero(lb: LoadBalancer, slot: SlotConfig, weight: number): Promise<boolean> {
  if (weight === 0) return false;
  await lb.setWeight(slot.backend, slot.server, 0);
  return true;
}

/** What the operator reads when HAProxy had the slot's server back above weight 0 `times` times; '' for none. */
export function weightResetNote(slot: SlotConfig, times: number, during: string, andThen = ''): string {
  if (times === 0) return '';
  return (
    `HAProxy had ${slot.backend}/${slot.server} above weight 0 again ${times === 1 ? 'once' : `${times} times`} ` +
    `${during} (reloaded, or set by someone else?): set back to 0${andThen ? ` ${andThen}` : ''}`
  );
}
