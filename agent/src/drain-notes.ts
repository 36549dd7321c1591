import type { SlotConfig } from '@fleetroll/shared';
import type { DrainResult } from './drain.js';
import { weightResetNote } from './weight-hold.js';

/** The DRAINED event's message: what kept the drain from ending plainly, '' when nothing did. */
export function drainNotes(slot: SlotConfig, d: DrainResult): string {
  const what = requests(slot, d);
  const notes = [
    d.timedOut && d.sessionsLeft > 0 ? `${d.sessionsLeft} sessions still open after drainTimeout` : '',
    olderNote(d, what),
    reloadNote(d, what),
    d.restartedPid === undefined
      ? ''
      : `HAProxy was restarted meanwhile: the old process (pid ${d.restartedPid}) took the connections it carried with it`,
    weightResetNote(slot, d.weightResets, 'while it drained', 'and drained again'),
  ];
  return notes.filter((m) => m !== '').join('; ');
}

function processes(pids: readonly number[]): string {
  return pids.length === 1
    ? `the old HAProxy process (pid ${pids[0]})`
    : `the old HAProxy processes (pids ${pids.join(', ')})`;
}

/** What the drain waited for an old process to finish: with the master CLI, only this server's requests. */
function requests(slot: SlotConfig, d: DrainResult): string {
  return d.askedOld ? `its requests to ${slot.backend}/${slot.server}` : 'its requests';
}

function olderNote(d: DrainResult, what: string): string {
  if (d.olderPids.length === 0) return '';
  const old = processes(d.olderPids);
  if (!d.timedOut) return `HAProxy had been reloaded just before: waited for ${old} to finish ${what}`;
  return d.sessionsLeft === 0 && d.reloadedPid === undefined ? `${old} still ran after drainTimeout` : '';
}

function reloadNote(d: DrainResult, what: string): string {
  if (d.reloadedPid === undefined) return '';
  const old = processes([d.reloadedPid]);
  if (d.processesUnseen) {
    return (
      'HAProxy was reloaded meanwhile, and this agent cannot see its processes (another pid namespace?), ' +
      `so it cannot tell when ${old} has finished its requests: drained until drainTimeout`
    );
  }
  if (!d.timedOut) return `HAProxy was reloaded meanwhile: waited for ${old} to finish ${what}`;
  return d.sessionsLeft === 0 ? `${old} still ran after drainTimeout` : '';
}
