// A host's time outside its slots' weight-0 windows: what its run costs beyond the
// bound besides the windows themselves, from the timestamps its agent put on its steps.
import type { StepEvent } from '@fleetroll/shared';

export type GapPart = 'beforeFirst' | 'lead' | 'trail' | 'between' | 'afterLast';

interface SlotTimes {
  started: number;
  zero: number;
  restored: number;
  done: number;
}

/** host → its replaced slots in the order they started, and its own HOST_STARTED / HOST_DONE. */
function hostTimes(steps: readonly StepEvent[]) {
  const hosts = new Map<
    string,
    { slots: Map<string, Partial<SlotTimes>>; startedAt?: number; doneAt?: number }
  >();
  for (const e of steps) {
    let host = hosts.get(e.hostId);
    if (!host) hosts.set(e.hostId, (host = { slots: new Map() }));
    const at = Number(e.atUnixMs);
    if (e.slot === '') {
      if (e.step === 'HOST_STARTED') host.startedAt = at;
      if (e.step === 'HOST_DONE') host.doneAt = at;
      continue;
    }
    let slot = host.slots.get(e.slot);
    if (!slot) host.slots.set(e.slot, (slot = {}));
    if (e.step === 'SLOT_STARTED') slot.started = at;
    if (e.step === 'WEIGHT_ZERO') slot.zero = at;
    if (e.step === 'WEIGHT_RESTORED') slot.restored = at;
    if (e.step === 'SLOT_DONE') slot.done = at;
  }
  return hosts;
}

const complete = (s: Partial<SlotTimes>): s is SlotTimes =>
  s.started !== undefined && s.zero !== undefined && s.restored !== undefined && s.done !== undefined;

/**
 * Over every host that ended HOST_DONE with slots replaced one after another: before its first
 * slot (the update's preflight), before each weight 0 and after each weight restore (inside a slot,
 * outside its window), between slots, and after the last.
 */
export function hostGaps(steps: readonly StepEvent[]): Record<GapPart, number[]> {
  const gaps: Record<GapPart, number[]> = {
    beforeFirst: [],
    lead: [],
    trail: [],
    between: [],
    afterLast: [],
  };
  for (const host of hostTimes(steps).values()) {
    const slots = [...host.slots.values()].filter(complete).sort((a, b) => a.started - b.started);
    const first = slots[0];
    const last = slots.at(-1);
    if (!first || !last || host.startedAt === undefined || host.doneAt === undefined) continue;
    gaps.beforeFirst.push(first.started - host.startedAt);
    gaps.afterLast.push(host.doneAt - last.done);
    slots.forEach((s, i) => {
      gaps.lead.push(s.zero - s.started);
      gaps.trail.push(s.done - s.restored);
      const before = slots[i - 1];
      if (before) gaps.between.push(s.started - before.done);
    });
  }
  return gaps;
}
