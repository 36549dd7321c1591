import type { StepEvent, msg } from '@fleetroll/shared';
import { slotNote } from '../../view/slot-note.js';
import {
  FINAL_HOST_STATES,
  batchOf,
  hostOf,
  isTerminal,
  type HostStatus,
  type RolloutState,
  type Status,
} from './status.js';

type SlotImage = msg.SlotImage__Output;
type SoakBaseline = msg.SoakBaseline__Output;

export type TerminalState = Extract<
  RolloutState,
  'ROLLOUT_SUCCEEDED' | 'ROLLOUT_FAILED' | 'ROLLOUT_ABORTED' | 'ROLLOUT_ROLLED_BACK'
>;

/** How an agent call left a host; HOST_PENDING puts it back in line (stopped by a pause). */
export type HostOutcomeState = Extract<
  HostStatus['state'],
  'HOST_PENDING' | 'HOST_SUCCEEDED' | 'HOST_FAILED' | 'HOST_SKIPPED' | 'HOST_ROLLED_BACK'
>;

/** Every way a rollout's status can change. Each one is saved before the rollout acts on it. */
export type Change =
  | { readonly kind: 'created' }
  /**
   * A controller took the rollout over from the store (after a restart, or a standby's takeover):
   * saved as it stands, which claims it there, so that a store with compare-and-set refuses the
   * controller it was taken from at its next save.
   */
  | { readonly kind: 'restored' }
  | { readonly kind: 'batch-started' | 'batch-finished'; readonly lane: string; readonly index: number }
  | { readonly kind: 'host-pulling'; readonly hostId: string }
  | {
      readonly kind: 'host-ready';
      readonly hostId: string;
      readonly slotsTotal: number;
      /** What each slot runs before the update: the rollback target. */
      readonly previous: readonly SlotImage[];
      /** The build the image names on the host (none from an agent that does not say): the first pins it. */
      readonly imageIds: readonly string[];
      readonly message: string;
    }
  | {
      readonly kind: 'host-running';
      readonly hostId: string;
      readonly state: 'HOST_UPDATING' | 'HOST_ROLLING_BACK';
      readonly slotsTotal: number;
      readonly message: string;
    }
  | { readonly kind: 'host-step'; readonly hostId: string; readonly event: StepEvent }
  /** The host's counters as its batch's soak began, for whoever checks it at the end. */
  | { readonly kind: 'soak-began'; readonly hostId: string; readonly baseline: readonly SoakBaseline[] }
  | {
      readonly kind: 'host-ended';
      readonly hostId: string;
      readonly state: HostOutcomeState;
      readonly errorCode: string;
      readonly message: string;
    }
  | {
      readonly kind: 'paused';
      readonly groups: readonly string[];
      readonly reason: string;
      /** The batch after which the spec's pauseAfter paused the rollout: it does so once. */
      readonly after?: { readonly lane: string; readonly index: number };
    }
  | { readonly kind: 'resumed'; readonly groups: readonly string[] }
  | {
      /** A restarted controller learned from the agent that it is no longer working on the host. */
      readonly kind: 'host-reconciled';
      readonly hostId: string;
      /** PENDING runs it again; ROLLING_BACK leaves it to the rollback. */
      readonly state: 'HOST_PENDING' | 'HOST_ROLLING_BACK';
      /** Slots found on the new image that ran another before: replaced while nobody watched. */
      readonly slotsReplaced: number;
      readonly message: string;
    }
  | {
      readonly kind: 'halting';
      readonly message: string;
      /** The first halt, which decides how the rollout ends. */
      readonly halt: { readonly reason: string; readonly message: string };
      readonly byOperator: boolean;
    }
  | { readonly kind: 'rolling-back'; readonly message: string }
  | {
      readonly kind: 'finished';
      readonly state: TerminalState;
      readonly message: string;
      /** Why hosts that never ran are skipped. */
      readonly skipped: string;
    };

const SLOT_COUNTED = new Set<StepEvent['step']>(['SLOT_DONE', 'SLOT_SKIPPED']);
/** A host's notes kept in the status: a few per slot at most, unless something keeps going wrong. */
const MAX_NOTES = 20;

function applyStep(host: HostStatus, event: StepEvent): void {
  // A late event from a call the rollout already gave up on (timed out) must not revive the host.
  if (host.state !== 'HOST_UPDATING' && host.state !== 'HOST_ROLLING_BACK') return;
  host.slot = event.slot;
  host.step = event.step;
  if (SLOT_COUNTED.has(event.step)) host.slotsDone += 1;
  // A rollback's own SLOT_DONEs undo replacements; they are not replacements to undo.
  if (event.step === 'SLOT_DONE' && host.state === 'HOST_UPDATING') host.slotsReplaced += 1;
  if (event.message !== '') host.message = event.message;
  const note = slotNote(event);
  if (note) host.notes = [...host.notes, `${event.slot} ${note}`].slice(-MAX_NOTES);
}

function endHost(host: HostStatus, change: Extract<Change, { kind: 'host-ended' }>, now: number): void {
  host.state = change.state;
  host.slot = '';
  host.errorCode = change.errorCode;
  host.message = change.message;
  host.finishedAtMs = FINAL_HOST_STATES.has(change.state) ? now : 0;
}

function applyChange(status: Status, change: Change, now: number): void {
  switch (change.kind) {
    case 'created':
    case 'restored':
      return;
    case 'batch-started':
    case 'batch-finished': {
      const batch = batchOf(status, change.lane, change.index);
      // ||=: a resumed rollout starts its current batch again, which began before the restart.
      if (batch && change.kind === 'batch-started') batch.startedAtMs ||= now;
      if (batch && change.kind === 'batch-finished') batch.finishedAtMs = now;
      return;
    }
    case 'host-pulling': {
      const host = hostOf(status, change.hostId);
      host.state = 'HOST_PULLING';
      host.message = `pulling ${status.image}`;
      host.startedAtMs ||= now;
      return;
    }
    case 'host-ready': {
      const host = hostOf(status, change.hostId);
      host.state = 'HOST_PENDING';
      host.slotsTotal = change.slotsTotal;
      host.previousImages = change.previous.map((p) => ({ ...p }));
      host.message = change.message;
      if (status.imageIds.length === 0 && change.imageIds.length > 0) {
        status.imageIds = [...change.imageIds];
        status.imageIdsHost = change.hostId;
      }
      return;
    }
    case 'host-reconciled': {
      const host = hostOf(status, change.hostId);
      host.state = change.state;
      host.slot = '';
      host.slotsReplaced = Math.max(host.slotsReplaced, change.slotsReplaced);
      host.message = change.message;
      return;
    }
    case 'host-running': {
      const host = hostOf(status, change.hostId);
      host.state = change.state;
      host.slot = '';
      host.step = 'STEP_UNSPECIFIED';
      // Counted afresh each attempt: the agent reports slots already on the image as SLOT_SKIPPED.
      host.slotsDone = 0;
      host.slotsTotal = change.slotsTotal;
      host.errorCode = '';
      host.message = change.message;
      host.startedAtMs ||= now;
      host.finishedAtMs = 0;
      return;
    }
    case 'host-step':
      return applyStep(hostOf(status, change.hostId), change.event);
    case 'soak-began':
      hostOf(status, change.hostId).soakBaseline = change.baseline.map((b) => ({ ...b }));
      return;
    case 'host-ended':
      return endHost(hostOf(status, change.hostId), change, now);
    case 'paused':
      for (const group of status.groups) {
        // The first reason stays: "batch 2 failed" says more than a later operator pause.
        if (change.groups.includes(group.group) && group.pauseReason === '')
          group.pauseReason = change.reason;
      }
      status.message = change.reason;
      if (change.after) {
        const batch = batchOf(status, change.after.lane, change.after.index);
        if (batch) batch.heldAtMs = now;
      }
      return;
    case 'resumed':
      for (const group of status.groups) if (change.groups.includes(group.group)) group.pauseReason = '';
      if (status.groups.every((g) => g.pauseReason === '')) status.message = '';
      return;
    case 'halting':
      status.haltReason = change.halt.reason;
      status.haltMessage = change.halt.message;
      status.abortedByOperator ||= change.byOperator;
      status.message = change.message;
      return;
    case 'rolling-back':
      status.state = 'ROLLOUT_ROLLING_BACK';
      status.message = change.message;
      return;
    case 'finished':
      for (const host of status.hosts) {
        if (FINAL_HOST_STATES.has(host.state)) continue;
        endHost(
          host,
          {
            kind: 'host-ended',
            hostId: host.hostId,
            state: 'HOST_SKIPPED',
            errorCode: '',
            message: change.skipped,
          },
          now,
        );
      }
      for (const group of status.groups) group.pauseReason = '';
      status.state = change.state;
      status.message = change.message;
      status.finishedAtMs = now;
      return;
  }
}

/**
 * Applies one change in place; the counters and states that follow from it are left to derive(),
 * which the caller runs once for many changes. A finished rollout stays as it ended (late events of
 * abandoned calls still arrive): false when the change was ignored.
 */
export function reduce(status: Status, change: Change, now: number): boolean {
  if (isTerminal(status)) return false;
  applyChange(status, change, now);
  status.updatedAtMs = now;
  return true;
}
