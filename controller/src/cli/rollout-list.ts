import type { msg } from '@fleetroll/shared';
import { word } from '../../view/words.js';

type Status = msg.RolloutStatus__Output;

/** One rollout in a line's worth of fields: what `rollout list --json` prints for scripts. */
export interface RolloutSummary {
  id: string;
  state: string;
  image: string;
  hostsTotal: number;
  hostsDone: number;
  hostsFailed: number;
  createdAtMs: number;
  finishedAtMs: number;
}

export function summarize(s: Status): RolloutSummary {
  const sum = (key: 'hostsTotal' | 'hostsDone' | 'hostsFailed') => s.groups.reduce((n, g) => n + g[key], 0);
  return {
    id: s.id,
    state: s.state,
    image: s.image,
    hostsTotal: sum('hostsTotal'),
    hostsDone: sum('hostsDone'),
    hostsFailed: sum('hostsFailed'),
    createdAtMs: s.createdAtMs,
    finishedAtMs: s.finishedAtMs,
  };
}

const utc = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

/** `fleetroll rollout list`: newest first, as the controller answers, one rollout per line. */
export function formatRolloutList(rollouts: readonly RolloutSummary[]): string {
  if (rollouts.length === 0) return 'no rollouts yet\n';
  const rows = rollouts.map((r) => [
    r.id,
    word(r.state),
    r.image,
    `${r.hostsDone}/${r.hostsTotal} done` + (r.hostsFailed > 0 ? `, ${r.hostsFailed} failed` : ''),
    utc(r.createdAtMs),
    r.finishedAtMs > 0 ? `${((r.finishedAtMs - r.createdAtMs) / 1000).toFixed(1)}s` : '-',
  ]);
  const table = [['ID', 'STATE', 'IMAGE', 'HOSTS', 'STARTED (UTC)', 'TOOK'], ...rows];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return table
    .map(
      (row) =>
        `${row
          .map((cell, i) => cell.padEnd(widths[i]!))
          .join('  ')
          .trimEnd()}\n`,
    )
    .join('');
}
