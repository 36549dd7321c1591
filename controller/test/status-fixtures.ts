import type { StepEvent, StepName, msg } from '@fleetroll/shared';
import { pendingHost } from '../src/rollout/status.js';

/** A host of 3 slots in a fixed status; `extra` sets what a test is about. */
export function host(
  hostId: string,
  state: string,
  extra: Partial<msg.HostStatus__Output> = {},
): msg.HostStatus__Output {
  return {
    ...pendingHost(hostId, 'all', 0),
    state: state as msg.HostStatus__Output['state'],
    slotsTotal: 3,
    ...extra,
  };
}

/** A running group in batch 2 of 3; `extra` sets what a test is about. */
export function group(name: string, extra: Partial<msg.GroupStatus__Output> = {}): msg.GroupStatus__Output {
  return {
    group: name,
    state: 'GROUP_RUNNING',
    currentBatch: 1,
    batchesTotal: 3,
    hostsTotal: 0,
    hostsDone: 0,
    hostsFailed: 0,
    hostsInFlight: 0,
    pauseReason: '',
    ...extra,
  };
}

/** Rollout r-1 of app:v2, two hosts in two batches, nothing started. */
export function status(over: Partial<msg.RolloutStatus__Output>): msg.RolloutStatus__Output {
  return {
    id: 'r-1',
    image: 'app:v2',
    state: 'ROLLOUT_RUNNING',
    transport: 'nats',
    serial: ['50%'],
    groups: [],
    // One plan over every group: its batches belong to no group (ALL_GROUPS), as the planner writes them.
    batches: [
      { group: '', index: 0, hostIds: ['h1'], startedAtMs: 0, finishedAtMs: 0, heldAtMs: 0 },
      { group: '', index: 1, hostIds: ['h2'], startedAtMs: 0, finishedAtMs: 0, heldAtMs: 0 },
    ],
    hosts: [host('h1', 'HOST_PENDING'), host('h2', 'HOST_PENDING')],
    message: '',
    createdAtMs: 1_000,
    updatedAtMs: 1_000,
    finishedAtMs: 0,
    request: null,
    haltReason: '',
    haltMessage: '',
    abortedByOperator: false,
    imageIds: [],
    imageIdsHost: '',
    ...over,
  };
}

/** An agent step of host h1 in rollout r1; `fields` sets what a test is about. */
export function stepEvent(step: StepName, fields: Partial<StepEvent> = {}): StepEvent {
  return {
    rolloutId: 'r1',
    hostId: 'h1',
    slot: '',
    step,
    message: '',
    atUnixMs: 0,
    durationMs: 0,
    errorCode: '',
    drainTimedOut: false,
    weight: 0,
    ...fields,
  };
}
