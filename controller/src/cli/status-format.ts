import type { msg } from '@fleetroll/shared';

/** "rolled back" for ROLLOUT_ROLLED_BACK, HOST_ROLLED_BACK and the like. */
export const word = (state: string) =>
  state
    .replace(/^(ROLLOUT|HOST|GROUP)_/, '')
    .toLowerCase()
    .replaceAll('_', ' ');

/** `fleetroll rollout status`: the rollout, each group's progress, and every host not simply pending. */
export function formatStatus(s: msg.RolloutStatus__Output): string {
  const lines = [
    `rollout ${s.id}  ${word(s.state)}  ${s.image} via ${s.transport} (serial ${s.serial.join(',') || 'all'})`,
  ];
  if (s.message) lines.push(`  ${s.message}`);
  for (const g of s.groups) {
    lines.push(
      `  group ${g.group}: ${word(g.state)}, batch ${Math.min(g.currentBatch + 1, g.batchesTotal)}/${g.batchesTotal}, ` +
        `${g.hostsDone} done, ${g.hostsInFlight} in flight, ${g.hostsFailed} failed of ${g.hostsTotal}` +
        (g.pauseReason ? ` (${g.pauseReason})` : ''),
    );
  }
  const width = Math.max(0, ...s.hosts.map((h) => h.hostId.length));
  for (const h of s.hosts) {
    if (h.state === 'HOST_PENDING') continue;
    const where = h.state === 'HOST_UPDATING' && h.slot ? ` ${h.slot} ${h.step.toLowerCase()}` : '';
    const why = h.errorCode ? ` ${h.errorCode}: ${h.message}` : '';
    lines.push(
      `    ${h.hostId.padEnd(width)}  ${word(h.state)}  ${h.slotsDone}/${h.slotsTotal} slots${where}${why}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
