import type { SerialSpec } from '@fleetroll/shared';

/**
 * A line-by-line transcription of Ansible's PlaybookExecutor._get_serialized_batches and pct_to_int,
 * written apart from the planner on purpose: the property tests compare the two. Only the percentage
 * uses exact integer division (BigInt) where Ansible uses floats.
 */
export function referenceBatches<T>(hosts: readonly T[], spec: SerialSpec): T[][] {
  const allHosts = [...hosts];
  const allHostsLen = allHosts.length;
  const serializedBatches: T[][] = [];
  let curItem = 0;
  while (allHosts.length > 0) {
    const item = spec[curItem];
    if (item === undefined) throw new Error('curItem out of range');
    const serial =
      item.kind === 'count' ? item.n : Number((BigInt(item.p) * BigInt(allHostsLen)) / 100n) || 1;
    if (serial <= 0) {
      serializedBatches.push(allHosts.splice(0));
      break;
    }
    const playHosts: T[] = [];
    for (let x = 0; x < serial; x++) {
      const host = allHosts.shift();
      if (host !== undefined) playHosts.push(host);
    }
    serializedBatches.push(playHosts);
    curItem += 1;
    if (curItem > spec.length - 1) curItem = spec.length - 1;
  }
  return serializedBatches;
}
