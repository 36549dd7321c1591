import type { SlotConfig } from '@fleetroll/shared';
import type { DrainResult } from './drain.js';
import { weightResetNote } from './weight-hold.js';

/** The DRAINED event's message: what kept the drain from ending plainly, '' when nothing did. */
export function drainNotes(slot: SlotConfig, d: DrainResult): string {
  const old = d.reloadedPid === undefined ? '' : `the old HAProxy process (pid ${d.reloadedPid})`;
  const notes = [
    d.timedOut && d.sessionsLeft > 0 ? `${d.sessionsLeft} sessions still open after drainTimeout` : '',
    d.timedOut && d.sessionsLeft === 0 && old ? `${old} still ran after drainTimeout` : '',
    !d.timedOut && old ? `HAProxy was reloaded meanwhile: waited for ${old} to finish its requests` : '',
    weightResetNote(slot, d.weightResets, 'while it drained', 'and drained again'),
  ];
  return notes.filter((m) => m !== '').join('; ');
}
