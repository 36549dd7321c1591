import { setTimeout as sleep } from 'node:timers/promises';
import type { SlotConfig, SlotTimings } from '@fleetroll/shared';
import type { LoadBalancer } from './ports.js';
import { holdAtZero } from './weight-hold.js';

export interface DrainResult {
  durationMs: number;
  timedOut: boolean;
  /** Sessions still open when draining ended: 0 unless it timed out. */
  sessionsLeft: number;
  /** How often HAProxy had the server's weight above 0 again, and was set back to 0. */
  weightResets: number;
  /** The HAProxy process the drain began with, when a reload replaced it meanwhile. */
  reloadedPid?: number;
  /**
   * HAProxy was reloaded and this agent cannot see its processes (it runs in another pid
   * namespace), so it could not tell when the old one had finished: it drained until drainTimeout.
   */
  processesUnseen: boolean;
}

/**
 * Waits, at weight 0, until HAProxy reports no current sessions on the server.
 * A drain timeout is not a failure: long-lived connections would otherwise block
 * a release forever; the caller records it and goes on.
 *
 * A server found above weight 0 again (holdAtZero) is set back to 0 and drained again,
 * so that the container is never stopped with new requests flowing to it.
 *
 * A reload also leaves the old process finishing the requests it had, this server's
 * among them, where the new process's `show stat` cannot see them: the drain ends only
 * once the process it began with has exited too (as the kernel sees it). An agent that
 * cannot see HAProxy's processes at all cannot tell that, and waits until drainTimeout.
 */
export async function drain(
  lb: LoadBalancer,
  slot: SlotConfig,
  timings: Pick<SlotTimings, 'drainTimeoutMs' | 'minDrainMs'>,
  pollMs: number,
): Promise<DrainResult> {
  const start = Date.now();
  const pid = await lb.processId();
  // False when the process that has just answered looks gone: this agent runs in another pid namespace.
  const processesSeen = lb.processRunning(pid);
  let reloadedPid: number | undefined;
  let weightResets = 0;
  for (;;) {
    const { scur, weight } = await lb.serverStat(slot.backend, slot.server);
    const elapsed = Date.now() - start;
    if (await holdAtZero(lb, slot, weight)) {
      weightResets += 1;
    } else if (scur === 0 && elapsed >= timings.minDrainMs) {
      if (reloadedPid === undefined && (await lb.processId()) !== pid) reloadedPid = pid;
      if (reloadedPid === undefined || (processesSeen && !lb.processRunning(reloadedPid)))
        return {
          durationMs: elapsed,
          timedOut: false,
          sessionsLeft: 0,
          weightResets,
          reloadedPid,
          processesUnseen: false,
        };
    }
    if (elapsed >= timings.drainTimeoutMs) {
      const processesUnseen = reloadedPid !== undefined && !processesSeen;
      return {
        durationMs: elapsed,
        timedOut: true,
        sessionsLeft: scur,
        weightResets,
        reloadedPid,
        processesUnseen,
      };
    }
    if (weight === 0) await sleep(Math.max(1, Math.min(pollMs, timings.drainTimeoutMs - elapsed)));
  }
}
