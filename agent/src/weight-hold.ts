import type { SlotConfig } from '@fleetroll/shared';
import { PollBeat } from './poll-beat.js';
import type { LoadBalancer } from './ports.js';
import type { SlotDeps } from './slot-deps.js';

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

/**
 * Runs `work` (the stop of the old container and the start of the new one, or the revival of the
 * old one in a rollback) while holding the slot's server at weight 0 every holdPollMs: nothing else
 * looks at HAProxy then, and a reload meanwhile would give the server its configured weight, so
 * that HAProxy sends new requests to a container being stopped, or to none. The hold has ended
 * (no weight is set any more) by the time this settles, so that the caller may restore the weight.
 */
export async function heldAtZero<T>(
  deps: Pick<SlotDeps, 'lb' | 'pollMs' | 'holdPollMs'>,
  slot: SlotConfig,
  work: () => Promise<T>,
): Promise<{ value: T; weightResets: number }> {
  const ended = new AbortController();
  let weightResets = 0;
  const running = work().finally(() => ended.abort());
  const hold = async (): Promise<void> => {
    const beat = new PollBeat(deps.holdPollMs ?? deps.pollMs);
    for (;;) {
      // Cut short once the work has ended.
      await beat.wait(Number.POSITIVE_INFINITY, ended.signal).catch(() => undefined);
      if (ended.signal.aborted) return;
      try {
        const { weight } = await deps.lb.serverStat(slot.backend, slot.server);
        if (!ended.signal.aborted && (await holdAtZero(deps.lb, slot, weight))) weightResets += 1;
      } catch {
        // The socket is away while HAProxy reloads: the next beat looks again, and the health wait
        // after the work reads the weight in any case.
      }
    }
  };
  const [result] = await Promise.allSettled([running, hold()]);
  if (result.status === 'rejected') throw result.reason;
  return { value: result.value, weightResets };
}
