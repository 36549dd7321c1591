import { shortImageId, type msg } from '@fleetroll/shared';
import { word } from '../../view/words.js';
import { formatDuration } from '../rollout/timeout.js';

/** "batch 2/3", or "batch 2/3 of eu" when groups run with batches of their own. */
export function batchLabel(s: msg.RolloutStatus__Output, b: msg.BatchStatus__Output): string {
  const total = s.batches.filter((x) => x.group === b.group).length;
  return `batch ${b.index + 1}/${total}${b.group ? ` of ${b.group}` : ''}`;
}

/** "min drain 5 s, stop timeout 3 s": what the rollout asks of the agents instead of their own defaults. */
export function formatOverrides(o: msg.UpdateOptions__Output | null | undefined): string {
  if (!o) return '';
  const ms: [string, number][] = [
    ['drain timeout', o.drainTimeoutMs],
    ['min drain', o.minDrainMs],
    ['health timeout', o.healthTimeoutMs],
    ['min ready', o.minReadyMs],
    ['stop timeout', o.stopTimeoutS * 1000],
  ];
  const parts = ms.filter(([, v]) => v > 0).map(([name, v]) => `${name} ${formatDuration(v)}`);
  if (o.slotParallelism > 0)
    parts.push(`${o.slotParallelism} slot${o.slotParallelism > 1 ? 's' : ''} at once`);
  return parts.join(', ');
}

/**
 * `fleetroll rollout status`: the rollout, each group's progress, and every host not simply
 * pending, with what its agent said of slots that did not go plainly.
 */
export function formatStatus(s: msg.RolloutStatus__Output): string {
  const lines = [
    `rollout ${s.id}  ${word(s.state)}  ${s.image} via ${s.transport} (serial ${s.serial.join(',') || 'all'})`,
  ];
  if (s.message) lines.push(`  ${s.message}`);
  if (s.imageIds.length > 0) lines.push(`  ${buildLine(s)}`);
  const overrides = formatOverrides(s.request?.options);
  if (overrides) lines.push(`  slots: ${overrides}; the rest as each agent is configured`);
  const soakMs = s.request?.soakMs ?? 0;
  if (soakMs > 0)
    lines.push(`  each batch soaks ${formatDuration(soakMs)}, then its hosts are checked again`);
  const pauseAfter = s.request?.pauseAfter ?? [];
  if (pauseAfter.length > 0) lines.push(`  pauses after batch ${pauseAfter.join(', ')} until resumed`);
  for (const g of s.groups) {
    lines.push(
      `  group ${g.group}: ${word(g.state)}, batch ${Math.min(g.currentBatch + 1, g.batchesTotal)}/${g.batchesTotal}, ` +
        `${g.hostsDone} done, ${g.hostsInFlight} in flight, ${g.hostsFailed} failed of ${g.hostsTotal}` +
        (g.pauseReason ? ` (${g.pauseReason})` : ''),
    );
  }
  const width = Math.max(0, ...s.hosts.map((h) => h.hostId.length));
  for (const h of s.hosts) {
    if (h.state === 'HOST_PENDING' && h.notes.length === 0) continue;
    const where = h.state === 'HOST_UPDATING' && h.slot ? ` ${h.slot} ${h.step.toLowerCase()}` : '';
    const why = h.errorCode ? ` ${h.errorCode}: ${h.message}` : '';
    lines.push(
      `    ${h.hostId.padEnd(width)}  ${word(h.state)}  ${h.slotsDone}/${h.slotsTotal} slots${where}${why}`,
    );
    for (const note of h.notes) lines.push(`      note: ${note}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The build the rollout pinned: one tag, one build across the fleet, even if it is pushed again. */
export function buildLine(s: msg.RolloutStatus__Output): string {
  return `build ${shortImageId(s.imageIds)} (as ${s.imageIdsHost} had it): every host must run this one`;
}
