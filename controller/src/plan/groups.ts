import { InvalidInputError } from '@fleetroll/shared';

/** What planning needs of a host; inventory hosts and discovered agents both fit. */
export interface Grouped {
  readonly groups: readonly string[];
}

/** Bucket for hosts in no group; the parentheses keep it from clashing with a real group name. */
export const UNGROUPED = '(ungrouped)';

/** Groups in order of first appearance, the order an operator reads them in the inventory. */
export function groupNames(hosts: readonly Grouped[]): string[] {
  return [...new Set(hosts.flatMap((h) => h.groups))];
}

/**
 * Hosts in any of `groups`, in inventory order; every host when `groups` is empty. A group no host
 * belongs to is almost always a typo, so it is an error rather than an empty selection.
 */
export function selectHosts<H extends Grouped>(hosts: readonly H[], groups: readonly string[]): H[] {
  if (groups.length === 0) return [...hosts];
  const known = groupNames(hosts);
  const unknown = [...new Set(groups)].filter((g) => !known.includes(g));
  if (unknown.length > 0) {
    const names = unknown.map((g) => JSON.stringify(g)).join(', ');
    const has = known.length > 0 ? `the inventory has ${known.join(', ')}` : 'the inventory has no groups';
    throw new InvalidInputError(`unknown group${unknown.length > 1 ? 's' : ''} ${names} (${has})`);
  }
  const wanted = new Set(groups);
  return hosts.filter((h) => h.groups.some((g) => wanted.has(g)));
}

export interface HostGroup<H> {
  readonly group: string;
  readonly hosts: H[];
}

/**
 * Splits the selected hosts into groups that can run independently. A host in several groups joins
 * the first of its own groups that is in the rollout, so that it is rolled exactly once. Groups come
 * in the order asked for (else inventory order, then UNGROUPED); groups left without hosts are dropped.
 */
export function partitionByGroup<H extends Grouped>(
  hosts: readonly H[],
  groups: readonly string[],
): HostGroup<H>[] {
  const selected = selectHosts(hosts, groups);
  const inRollout = new Set(groups.length > 0 ? groups : groupNames(hosts));
  const order = groups.length > 0 ? [...new Set(groups)] : [...inRollout, UNGROUPED];
  const members = new Map<string, H[]>(order.map((g) => [g, []]));
  for (const host of selected) {
    const home = host.groups.find((g) => inRollout.has(g)) ?? UNGROUPED;
    members.get(home)?.push(host);
  }
  return order.flatMap((group) => {
    const list = members.get(group) ?? [];
    return list.length > 0 ? [{ group, hosts: list }] : [];
  });
}
