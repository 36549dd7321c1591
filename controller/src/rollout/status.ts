import { InternalError, formatSerialSpec, type msg } from '@fleetroll/shared';
import { ALL_GROUPS, type RolloutPlan } from './plan.js';
import type { RolloutSpec } from './spec.js';
import { specToRequest } from './spec-record.js';

export type Status = msg.RolloutStatus__Output;
export type HostStatus = msg.HostStatus__Output;
export type GroupStatus = msg.GroupStatus__Output;
export type BatchStatus = msg.BatchStatus__Output;
export type HostState = msg.HostState__Output;
export type RolloutState = msg.RolloutState__Output;

export const TERMINAL_STATES: ReadonlySet<RolloutState> = new Set<RolloutState>([
  'ROLLOUT_SUCCEEDED',
  'ROLLOUT_FAILED',
  'ROLLOUT_ABORTED',
  'ROLLOUT_ROLLED_BACK',
]);

/** States a host does not leave again in this rollout, except to be rolled back. */
export const FINAL_HOST_STATES: ReadonlySet<HostState> = new Set<HostState>([
  'HOST_SUCCEEDED',
  'HOST_FAILED',
  'HOST_SKIPPED',
  'HOST_ROLLED_BACK',
]);

/** The agent is working on the host: pausing waits for these to end. */
const IN_FLIGHT_STATES: ReadonlySet<HostState> = new Set<HostState>([
  'HOST_PULLING',
  'HOST_UPDATING',
  'HOST_ROLLING_BACK',
]);

/**
 * A deep copy. Every field of the message is a primitive or an array of flat records, so spreading
 * does it, many times faster than structuredClone; that matters since it runs on every agent step.
 */
export function copyStatus(status: Status, hosts: HostStatus[] = status.hosts.map(copyHost)): Status {
  return {
    ...status,
    serial: [...status.serial],
    imageIds: [...status.imageIds],
    groups: status.groups.map((g) => ({ ...g })),
    batches: status.batches.map((b) => ({ ...b, hostIds: [...b.hostIds] })),
    hosts,
    request: status.request && copyRequest(status.request),
  };
}

export function copyHost(host: HostStatus): HostStatus {
  return {
    ...host,
    previousImages: host.previousImages.map((p) => ({ ...p })),
    soakBaseline: host.soakBaseline.map((b) => ({ ...b })),
    notes: [...host.notes],
  };
}

/**
 * A copy nobody can change: safe to hand to every watcher and to the next snapshot too, and an
 * encoder that saw it once knows its bytes without comparing it again.
 */
export function frozenHost(host: HostStatus): HostStatus {
  const copy = copyHost(host);
  for (const list of [copy.previousImages, copy.soakBaseline]) {
    for (const item of list) Object.freeze(item);
    Object.freeze(list);
  }
  Object.freeze(copy.notes);
  return Object.freeze(copy);
}

/**
 * A status to hand out read-only: its own header, and hosts frozen (those already frozen are shared).
 * Nobody can change it through another copy, and an encoder knows its hosts by identity.
 */
export function withFrozenHosts(status: Status): Status {
  return copyStatus(
    status,
    status.hosts.map((h) => (Object.isFrozen(h) ? h : frozenHost(h))),
  );
}

function copyRequest(request: msg.StartRolloutRequest__Output): msg.StartRolloutRequest__Output {
  return {
    ...request,
    serial: [...request.serial],
    groups: [...request.groups],
    options: request.options && { ...request.options },
  };
}

export function isTerminal(status: Status): boolean {
  return TERMINAL_STATES.has(status.state);
}

/**
 * Hosts by id, per hosts array: a rollout looks its hosts up on every change and every decision,
 * and a linear search over a thousand hosts made that quadratic. Hosts are changed in place and the
 * array is never grown or reordered, so an index built once stays right; a copy gets its own.
 */
const hostIndexes = new WeakMap<readonly HostStatus[], Map<string, HostStatus>>();

/** The batch `index` of a lane (a group, or ALL_GROUPS), if the plan has one. */
export function batchOf(status: Status, lane: string, index: number): BatchStatus | undefined {
  return status.batches.find((b) => b.group === lane && b.index === index);
}

export function hostOf(status: Status, hostId: string): HostStatus {
  let index = hostIndexes.get(status.hosts);
  if (!index) {
    index = new Map(status.hosts.map((h) => [h.hostId, h]));
    hostIndexes.set(status.hosts, index);
  }
  const host = index.get(hostId);
  if (!host) throw new InternalError(`rollout ${status.id} has no host ${hostId}`);
  return host;
}

export function groupOf(status: Status, group: string): GroupStatus | undefined {
  return status.groups.find((g) => g.group === group);
}

/** A host nothing has happened to yet: not described, not pulled, no slot begun. */
export function pendingHost(hostId: string, group: string, batch: number): HostStatus {
  return {
    hostId,
    group,
    state: 'HOST_PENDING',
    batch,
    slot: '',
    step: 'STEP_UNSPECIFIED',
    slotsDone: 0,
    slotsTotal: 0,
    errorCode: '',
    message: '',
    startedAtMs: 0,
    finishedAtMs: 0,
    previousImages: [],
    slotsReplaced: 0,
    soakBaseline: [],
    notes: [],
  };
}

export function initialStatus(spec: RolloutSpec, plan: RolloutPlan, transport: string, now: number): Status {
  const status: Status = {
    id: spec.id,
    image: spec.image,
    state: 'ROLLOUT_RUNNING',
    transport,
    serial: formatSerialSpec(spec.serial).split(','),
    groups: plan.groups.map((group) => ({
      group,
      state: 'GROUP_WAITING',
      currentBatch: 0,
      batchesTotal: 0,
      hostsTotal: 0,
      hostsDone: 0,
      hostsFailed: 0,
      hostsInFlight: 0,
      pauseReason: '',
    })),
    batches: plan.lanes.flatMap((lane) =>
      lane.batches.map((hostIds, index) => ({
        group: lane.name,
        index,
        hostIds: [...hostIds],
        startedAtMs: 0,
        finishedAtMs: 0,
        heldAtMs: 0,
      })),
    ),
    hosts: plan.hosts.map((h) => pendingHost(h.id, h.group, h.batch)),
    message: '',
    createdAtMs: now,
    updatedAtMs: now,
    finishedAtMs: 0,
    request: specToRequest(spec),
    haltReason: '',
    haltMessage: '',
    abortedByOperator: false,
    imageIds: [],
    imageIdsHost: '',
  };
  derive(status);
  return status;
}

/**
 * The lane each group's batches belong to: its own when groups run in parallel, else the shared one.
 * Read back from the batches because the proto has no field for it and a resumed rollout has no plan.
 */
function lanesOf(status: Status): Map<string, string> {
  const lanes = new Set(status.batches.map((b) => b.group));
  return new Map(status.groups.map((g) => [g.group, lanes.has(g.group) ? g.group : ALL_GROUPS]));
}

function deriveGroup(status: Status, group: GroupStatus, hosts: readonly HostStatus[], lane: string): void {
  const batches = status.batches.filter((b) => b.group === lane);
  group.batchesTotal = batches.length;
  group.hostsTotal = hosts.length;
  group.hostsDone = hosts.filter((h) => h.state === 'HOST_SUCCEEDED').length;
  group.hostsFailed = hosts.filter((h) => h.state === 'HOST_FAILED').length;
  group.hostsInFlight = hosts.filter((h) => IN_FLIGHT_STATES.has(h.state)).length;
  const current = batches.find((b) => b.finishedAtMs === 0) ?? batches[batches.length - 1];
  group.currentBatch = current?.index ?? 0;
  if (hosts.every((h) => FINAL_HOST_STATES.has(h.state))) {
    group.state = group.hostsFailed > 0 ? 'GROUP_FAILED' : 'GROUP_DONE';
  } else if (group.pauseReason !== '') {
    group.state = group.hostsInFlight > 0 ? 'GROUP_PAUSING' : 'GROUP_PAUSED';
  } else {
    const touched = hosts.some((h) => h.state !== 'HOST_PENDING' || h.startedAtMs > 0);
    group.state = touched ? 'GROUP_RUNNING' : 'GROUP_WAITING';
  }
}

function isFinished(group: GroupStatus): boolean {
  return group.state === 'GROUP_DONE' || group.state === 'GROUP_FAILED';
}

/** Recomputes everything that follows from the hosts and the pause reasons: counters and states. */
export function derive(status: Status): void {
  const lanes = lanesOf(status);
  // One pass over the hosts: this runs on every agent step.
  const members = new Map<string, HostStatus[]>(status.groups.map((g) => [g.group, []]));
  for (const host of status.hosts) members.get(host.group)?.push(host);
  for (const group of status.groups) {
    deriveGroup(status, group, members.get(group.group) ?? [], lanes.get(group.group) ?? ALL_GROUPS);
  }
  if (isTerminal(status) || status.state === 'ROLLOUT_ROLLING_BACK') return;
  const open = status.groups.filter((g) => !isFinished(g));
  if (open.length > 0 && open.every((g) => g.pauseReason !== '')) {
    status.state = open.some((g) => g.state === 'GROUP_PAUSING') ? 'ROLLOUT_PAUSING' : 'ROLLOUT_PAUSED';
  } else {
    status.state = 'ROLLOUT_RUNNING';
  }
}

export function isGroupFinished(status: Status, group: string): boolean {
  const g = groupOf(status, group);
  return g !== undefined && isFinished(g);
}

/** Groups with hosts still to run: the ones a pause can apply to. */
export function openGroups(status: Status): string[] {
  return status.groups.filter((g) => !isFinished(g)).map((g) => g.group);
}
