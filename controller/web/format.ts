import { word } from '../view/words.js';

/** State name → CSS class suffix: HOST_ROLLING_BACK → rolling-back. */
export function tone(state: string): string {
  return word(state).replace(/ /g, '-');
}

export function duration(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const s = Math.round(ms / 1_000);
  if (s < 3_600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3_600)}h ${String(Math.floor((s % 3_600) / 60)).padStart(2, '0')}m`;
}

export function clock(ms: number): string {
  if (ms <= 0) return '—';
  const d = new Date(ms);
  const today = new Date().toDateString() === d.toDateString();
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  return today ? time : `${d.toLocaleDateString()} ${time}`;
}

/** The group as the page names it: batches of groups that run one after another have none. */
export function groupName(group: string): string {
  return group === '' ? 'all groups' : group;
}

const FINISHED = new Set(['ROLLOUT_SUCCEEDED', 'ROLLOUT_FAILED', 'ROLLOUT_ABORTED', 'ROLLOUT_ROLLED_BACK']);

/** Ended for good: no control applies any more, and no event will come. */
export function isFinished(state: string): boolean {
  return FINISHED.has(state);
}
