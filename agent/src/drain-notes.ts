import type { SlotConfig } from '@fleetroll/shared';
import type { DrainResult } from './drain.js';
import { weightResetNote } from './weight-hold.js';

/** The DRAINED event's message: what kept the drain from ending plainly, '' when nothing did. */
export function drainNotes(slot: SlotConfig, d: DrainResult): string {
  const notes = [
    d.timedOut && d.sessionsLeft > 0 ? `${d.sessionsLeft} sessions still open after drainTimeout` : '',
    reloadNote(d),
    weightResetNote(slot, d.weightResets, 'while it drained', 'and drained again'),
  ];
  return notes.filter((m) => m !== '').join('; ');
}

function reloadNote(d: DrainResult): string {
  if (d.reloadedPid === undefined) return '';
  const old = `the old HAProxy process (pid ${d.reloadedPid})`;
  if (d.processesUnseen) {
    return (
      'HAProxy was reloaded meanwhile, and this agent cannot see its processes (another pid namespace?), ' +
      `so it cannot tell when ${old} has finished its requests: drained until drainTimeout`
    );
  }
  if (!d.timedOut) return `HAProxy was reloaded meanwhile: waited for ${old} to finish its requests`;
  return d.sessionsLeft === 0 ? `${old} still ran after drainTimeout` : '';
}
