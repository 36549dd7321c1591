import type { SerialItem, SerialSpec } from '@fleetroll/shared';

/** Hosts one item asks for, where 0 means "every host still waiting". */
function itemSize(item: SerialItem, total: number): number {
  if (item.kind === 'count') return item.n;
  // Exact integer floor: Ansible's float arithmetic makes 29% of 100 hosts 28, which no operator expects.
  const scaled = item.p * total;
  return Math.max(1, (scaled - (scaled % 100)) / 100);
}

/**
 * Batch sizes for `total` hosts, Ansible's rule: items in order, the last one repeating; a percentage
 * is of `total` (not of the hosts left), so `35%` of 10 gives 3,3,3,1.
 */
export function batchSizes(total: number, spec: SerialSpec): number[] {
  const last = spec[spec.length - 1] ?? spec[0];
  const sizes: number[] = [];
  for (let i = 0, left = total; left > 0; i++) {
    const size = itemSize(spec[i] ?? last, total);
    const taken = size === 0 ? left : Math.min(size, left);
    sizes.push(taken);
    left -= taken;
  }
  return sizes;
}

/** Splits `hosts` into batches, keeping their order; no hosts gives no batches. */
export function planBatches<H>(hosts: readonly H[], spec: SerialSpec): H[][] {
  const batches: H[][] = [];
  let start = 0;
  for (const size of batchSizes(hosts.length, spec)) {
    batches.push(hosts.slice(start, start + size));
    start += size;
  }
  return batches;
}
