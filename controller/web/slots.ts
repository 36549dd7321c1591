import type { HostStatus, Step, StepName } from './types.js';

/** Where a slot is in its replacement, named for what it waits on after the step last seen. */
export type SlotPhase =
  | 'pending'
  | 'starting'
  | 'draining'
  | 'replacing'
  | 'checking'
  | 'restoring'
  | 'done'
  | 'rolling-back'
  | 'failed';

const PHASE_AFTER: Partial<Record<StepName, SlotPhase>> = {
  SLOT_STARTED: 'starting',
  WEIGHT_ZERO: 'draining',
  DRAINED: 'replacing',
  OLD_STOPPED: 'replacing',
  NEW_STARTED: 'checking',
  HEALTHY: 'restoring',
  WEIGHT_RESTORED: 'done',
  SLOT_DONE: 'done',
  SLOT_SKIPPED: 'done',
  ROLLING_BACK: 'rolling-back',
  SLOT_FAILED: 'failed',
};

export const PHASE_LABEL: Readonly<Record<SlotPhase, string>> = {
  pending: 'not started',
  starting: 'starting',
  draining: 'weight 0, draining',
  replacing: 'replacing the container',
  checking: 'health check',
  restoring: 'restoring the weight',
  done: 'on the new image',
  'rolling-back': 'rolling back',
  failed: 'failed, rolled back',
};

export interface SlotView {
  /** Empty for a slot whose name no event has told yet (the page opened after it ran). */
  name: string;
  phase: SlotPhase;
  /** How long its server sat at weight 0, once the weight is back. */
  windowMs?: number;
}

interface SlotSeen {
  phase: SlotPhase;
  windowMs?: number;
}

/**
 * The slots of each host as the agents' step events tell them. A page opened mid-rollout missed
 * the earlier events; for those slots the host's counters (slots done of total) stand in.
 */
export class SlotBook {
  private readonly hosts = new Map<string, Map<string, SlotSeen>>();

  record(step: Step): void {
    const phase = PHASE_AFTER[step.step];
    if (phase === undefined || step.slot === '') return;
    let slots = this.hosts.get(step.hostId);
    if (!slots) {
      slots = new Map();
      this.hosts.set(step.hostId, slots);
    }
    const seen = slots.get(step.slot) ?? { phase };
    seen.phase = phase;
    if (step.step === 'WEIGHT_RESTORED') seen.windowMs = step.durationMs;
    slots.set(step.slot, seen);
  }

  clear(): void {
    this.hosts.clear();
  }

  slots(host: HostStatus): SlotView[] {
    const known = [...(this.hosts.get(host.hostId) ?? new Map<string, SlotSeen>())].map(
      ([name, seen]): SlotView => ({ name, ...seen }),
    );
    const total = Math.max(host.slotsTotal, known.length);
    const knownDone = known.filter((s) => s.phase === 'done').length;
    const finished = host.state === 'HOST_SUCCEEDED';
    let doneLeft = finished ? total : Math.max(0, host.slotsDone - knownDone);
    const unknown = Array.from({ length: total - known.length }, (): SlotView => {
      const phase: SlotPhase = doneLeft > 0 ? 'done' : 'pending';
      doneLeft -= 1;
      return { name: '', phase };
    });
    // Slots run in order, so the ones no event named came first when they are done.
    const done = unknown.filter((s) => s.phase === 'done');
    const pending = unknown.filter((s) => s.phase !== 'done');
    return [...done, ...known, ...pending];
  }
}
