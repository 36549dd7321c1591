import { NoServerLeftError, type SlotConfig, type SlotTimings } from '@fleetroll/shared';
import { PollBeat } from './poll-beat.js';
import { answeringProcess } from './haproxy-sight.js';
import { describeServers, mayTakeTraffic } from './last-server.js';
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
   * The HAProxy process the drain began with, when a restart replaced it meanwhile: the new
   * process took nothing over from it, and it took its connections with it.
   */
  restartedPid?: number;
  /**
   * Processes a reload just before the drain had left, still running (and, as far as the master
   * CLI tells, still with sessions on the server) when its sessions were gone from `show stat`:
   * the drain waited for them too.
   */
  olderPids: number[];
  /** The old processes were asked through HAProxy's master CLI about this server alone. */
  askedOld: boolean;
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
 * A reload leaves the old process finishing the requests it had, this server's among
 * them, where the new process's `show stat` cannot see them: the drain ends only once
 * such processes have exited too (as the kernel sees them), whether the reload came
 * during the drain or just before it (the old processes named on the command line of
 * the one answering, `-sf`). With HAProxy's master CLI, an old process is asked about
 * this server alone, and only its sessions on it count. (Its weights cannot be changed:
 * a stopping process answers "Proxy is disabled".)
 * An agent that cannot see HAProxy's processes at all cannot tell when they are done,
 * and after a reload it sees waits until drainTimeout.
 */
export async function drain(
  lb: LoadBalancer,
  slot: SlotConfig,
  timings: Pick<SlotTimings, 'drainTimeoutMs' | 'minDrainMs'>,
  pollMs: number,
): Promise<DrainResult> {
  const start = Date.now();
  const beat = new PollBeat(pollMs, start);
  const { pid, seen: processesSeen } = await answeringProcess(lb);
  let askedOld = false;
  /**
   * The old processes that may still have sessions on the server: by the master CLI's count where
   * there is one, else those still running (all of them, for an agent that cannot see them).
   */
  const busy = async (pids: readonly number[]): Promise<number[]> => {
    const sessions = await Promise.all(pids.map((p) => lb.oldProcessSessions(p, slot.backend, slot.server)));
    askedOld ||= sessions.some((n) => n !== undefined);
    return pids.filter((p, i) => {
      const n = sessions[i];
      return n === undefined ? !processesSeen || lb.processRunning(p) : n > 0;
    });
  };
  const older = await lb.previousProcesses(pid);
  let olderPids: number[] | undefined;
  let reloadedPid: number | undefined;
  let restartedPid: number | undefined;
  let weightResets = 0;
  for (;;) {
    const { own, others } = await lb.serverAndSiblings(slot.backend, slot.server);
    const { scur, weight } = own;
    // The old container still runs: put back at once, it spares the host an outage. Only once the
    // others are out for sure: DOWN, in maintenance or at weight 0, not merely failing a check.
    if (others.length > 0 && !others.some(mayTakeTraffic)) {
      throw new NoServerLeftError(
        `every other server of backend ${slot.backend} stopped taking traffic while ${slot.server} ` +
          `drained (${describeServers(others)})`,
      );
    }
    const elapsed = Date.now() - start;
    const result = (timedOut: boolean): DrainResult => ({
      durationMs: elapsed,
      timedOut,
      sessionsLeft: timedOut ? scur : 0,
      weightResets,
      reloadedPid,
      restartedPid,
      olderPids: olderPids ?? [],
      askedOld,
      processesUnseen: timedOut && reloadedPid !== undefined && !processesSeen && !askedOld,
    });
    if (await holdAtZero(lb, slot, weight)) {
      weightResets += 1;
    } else if (scur === 0 && elapsed >= timings.minDrainMs) {
      if (reloadedPid === undefined && restartedPid === undefined) {
        const now = await lb.processId();
        if (now !== pid) {
          if (await tookOverFrom(lb, now, pid)) reloadedPid = pid;
          else restartedPid = pid;
        }
      }
      const waiting = await busy([
        ...(olderPids ?? older),
        ...(reloadedPid === undefined ? [] : [reloadedPid]),
      ]);
      olderPids ??= waiting.filter((p) => older.includes(p));
      if (waiting.length === 0) return result(false);
    }
    if (elapsed >= timings.drainTimeoutMs) return result(true);
    if (weight === 0) await beat.wait(start + timings.drainTimeoutMs);
  }
}

/**
 * Whether the process answering now took over from `pid` (a reload: `-sf`, or the master's old
 * workers) rather than started without it (a restart). An agent that cannot see the new process
 * cannot tell, and takes it for a reload, the case where there may be requests to wait for.
 */
async function tookOverFrom(lb: LoadBalancer, now: number, pid: number): Promise<boolean> {
  return !lb.processRunning(now) || (await lb.previousProcesses(now)).includes(pid);
}
