import type { SerialSpec } from '@fleetroll/shared';
import { planBatches } from './batches.js';
import { partitionByGroup, type Grouped } from './groups.js';

export interface GroupPlan<H> {
  readonly group: string;
  readonly batches: H[][];
}

/**
 * Batches for groups that run independently: each group is its own rollout, so a percentage is of
 * that group's hosts (35% of a 4-host group is 1 host even when the fleet has 100).
 */
export function planByGroup<H extends Grouped>(
  hosts: readonly H[],
  spec: SerialSpec,
  groups: readonly string[],
): GroupPlan<H>[] {
  return partitionByGroup(hosts, groups).map(({ group, hosts: members }) => ({
    group,
    batches: planBatches(members, spec),
  }));
}
