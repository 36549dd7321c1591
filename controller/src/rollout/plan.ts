import { planBatches } from '../plan/batches.js';
import { planByGroup } from '../plan/by-group.js';
import { partitionByGroup, selectHosts, type Grouped } from '../plan/groups.js';
import type { RolloutSpec } from './spec.js';

/** A sequence of batches run one after another; lanes run side by side. */
export interface Lane {
  /** The group the lane rolls, or ALL_GROUPS when one plan covers every group. */
  readonly name: string;
  readonly batches: readonly (readonly string[])[];
}

export interface PlannedHost {
  readonly id: string;
  readonly group: string;
  readonly lane: string;
  readonly batch: number;
}

export interface RolloutPlan {
  /** In inventory order. */
  readonly hosts: readonly PlannedHost[];
  /** Groups in the order partitionByGroup gives them. */
  readonly groups: readonly string[];
  readonly lanes: readonly Lane[];
}

/** The lane (and BatchStatus.group) of batches that mix groups: no group name is empty. */
export const ALL_GROUPS = '';

type Host = Grouped & { readonly id: string };

/**
 * By default one plan covers every selected host, exactly what `fleetroll plan` prints; with
 * groupsInParallel or groupsInSequence each group gets its own plan, its percentages taken of
 * the group alone (the lanes then run side by side, or one after another).
 */
export function planRollout(
  spec: Pick<RolloutSpec, 'serial' | 'groups' | 'groupsInParallel' | 'groupsInSequence'>,
  inventory: readonly Host[],
): RolloutPlan {
  const lanes: Lane[] =
    spec.groupsInParallel || spec.groupsInSequence
      ? planByGroup(inventory, spec.serial, spec.groups).map(({ group, batches }) => ({
          name: group,
          batches: batches.map((b) => b.map((h) => h.id)),
        }))
      : [
          {
            name: ALL_GROUPS,
            batches: planBatches(selectHosts(inventory, spec.groups), spec.serial).map((b) =>
              b.map((h) => h.id),
            ),
          },
        ];
  const placement = new Map<string, { lane: string; batch: number }>();
  for (const lane of lanes) {
    lane.batches.forEach((ids, batch) => ids.forEach((id) => placement.set(id, { lane: lane.name, batch })));
  }
  const partition = partitionByGroup(inventory, spec.groups);
  const groupOf = new Map(partition.flatMap(({ group, hosts }) => hosts.map((h) => [h.id, group] as const)));
  const hosts = selectHosts(inventory, spec.groups).flatMap((h): PlannedHost[] => {
    const place = placement.get(h.id);
    const group = groupOf.get(h.id);
    return place && group !== undefined ? [{ id: h.id, group, ...place }] : [];
  });
  return { hosts, groups: partition.map(({ group }) => group), lanes };
}
