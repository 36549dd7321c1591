// Where a rollout's time went, from the controller's batch times and the agents'
// step events: the critical path of each batch (the host that finished last) cut
// into dispatch, the host's own run, and the controller's tail, beside a floor.
import type { StepEvent, StepName, msg } from '@fleetroll/shared';

type Status = msg.RolloutStatus__Output;

export interface BatchTiming {
  index: number;
  hosts: number;
  /** Batch started → batch finished, as the controller recorded them. */
  wallMs: number;
  /** The batch's lower bound: its slowest host's unavoidable time. */
  floorMs: number;
  /** Batch started → the last HOST_STARTED of the batch: every agent has the update. */
  dispatchMs: number;
  /** The host whose HOST_DONE came last: the batch's critical path. */
  lastHost: string;
  /** Batch started → HOST_STARTED of lastHost. */
  lastDispatchMs: number;
  /** HOST_STARTED → HOST_DONE of lastHost. */
  lastRunMs: number;
  /** HOST_DONE of lastHost → batch finished: the controller noticing and recording the end. */
  tailMs: number;
}

export interface RolloutTiming {
  /** False for a rollout given up on: then it ends at its last finished batch. */
  complete: boolean;
  /** StartRollout sent → rollout finished. */
  wallMs: number;
  floorMs: number;
  /** StartRollout sent → first batch started. */
  leadInMs: number;
  /** Σ of batch finished → next batch started. */
  betweenMs: number;
  /** Last batch finished → rollout finished. */
  leadOutMs: number;
  batches: BatchTiming[];
  /** For every host: its batch started → its HOST_STARTED. */
  hostDispatchMs: number[];
}

export interface SlotSample {
  hostId: string;
  slot: string;
  /** WEIGHT_RESTORED.durationMs: weight 0 until restored. */
  windowMs: number;
  drainMs: number;
  stopMs: number;
  startMs: number;
  healthyMs: number;
}

type ByStep = Map<StepName, StepEvent>;

/** host → slot ('' for host-level steps) → step → event. */
function index(steps: readonly StepEvent[]): Map<string, Map<string, ByStep>> {
  const hosts = new Map<string, Map<string, ByStep>>();
  for (const e of steps) {
    let slots = hosts.get(e.hostId);
    if (!slots) hosts.set(e.hostId, (slots = new Map()));
    let byStep = slots.get(e.slot);
    if (!byStep) slots.set(e.slot, (byStep = new Map()));
    byStep.set(e.step, e);
  }
  return hosts;
}

function must(byStep: ByStep | undefined, step: StepName, where: string): StepEvent {
  const e = byStep?.get(step);
  if (!e) throw new Error(`no ${step} event from ${where}: the timeline cannot be measured`);
  return e;
}

/** Every replaced slot, with the durations its agent reported. */
export function slotSamples(steps: readonly StepEvent[]): SlotSample[] {
  const samples: SlotSample[] = [];
  for (const [hostId, slots] of index(steps)) {
    for (const [slot, byStep] of slots) {
      if (slot === '' || !byStep.has('SLOT_DONE')) continue;
      const ms = (step: StepName): number => must(byStep, step, `${hostId}/${slot}`).durationMs;
      samples.push({
        hostId,
        slot,
        windowMs: ms('WEIGHT_RESTORED'),
        drainMs: ms('DRAINED'),
        stopMs: ms('OLD_STOPPED'),
        startMs: ms('NEW_STARTED'),
        healthyMs: ms('HEALTHY'),
      });
    }
  }
  return samples;
}

/**
 * A host's unavoidable time as measured: its slots' weight-0 windows (one after
 * another) plus its pre-pull (IMAGE_READY), which the workflow must both wait out.
 */
export function measuredHostFloors(steps: readonly StepEvent[]): Map<string, number> {
  const floors = new Map<string, number>();
  for (const s of slotSamples(steps)) floors.set(s.hostId, (floors.get(s.hostId) ?? 0) + s.windowMs);
  for (const [hostId, slots] of index(steps)) {
    const pull = must(slots.get(''), 'IMAGE_READY', hostId).durationMs;
    floors.set(hostId, (floors.get(hostId) ?? 0) + pull);
  }
  return floors;
}

type Batch = Status['batches'][number];

/** A batch cannot be faster than its slowest host. */
function batchFloorMs(batch: Batch, hostFloorMs: (hostId: string) => number): number {
  return Math.max(...batch.hostIds.map(hostFloorMs));
}

/** Σ over the batches the rollout finished of their slowest host's time: the rollout's critical path. */
export function criticalPathMs(status: Status, hostFloorMs: (hostId: string) => number): number {
  return status.batches
    .filter((b) => b.finishedAtMs > 0)
    .reduce((sum, b) => sum + batchFloorMs(b, hostFloorMs), 0);
}

/**
 * The timeline of a rollout. One that has not ended (given up on) is measured up to
 * its last finished batch: the batches still running are left out, and so is the end.
 */
export function rolloutTiming(
  status: Status,
  steps: readonly StepEvent[],
  requestedAtMs: number,
  hostFloorMs: (hostId: string) => number,
): RolloutTiming {
  const hosts = index(steps);
  const hostDispatchMs: number[] = [];
  const finished = status.batches.filter((b) => b.finishedAtMs > 0);
  const batches = finished.map((b): BatchTiming => {
    const runs = b.hostIds.map((hostId) => {
      const own = hosts.get(hostId)?.get('');
      return {
        hostId,
        startedAt: must(own, 'HOST_STARTED', hostId).atUnixMs,
        doneAt: must(own, 'HOST_DONE', hostId).atUnixMs,
      };
    });
    const dispatch = runs.map((r) => r.startedAt - b.startedAtMs);
    hostDispatchMs.push(...dispatch);
    const last = runs.reduce((a, r) => (r.doneAt > a.doneAt ? r : a));
    return {
      index: b.index,
      hosts: runs.length,
      wallMs: b.finishedAtMs - b.startedAtMs,
      floorMs: batchFloorMs(b, hostFloorMs),
      dispatchMs: Math.max(...dispatch),
      lastHost: last.hostId,
      lastDispatchMs: last.startedAt - b.startedAtMs,
      lastRunMs: last.doneAt - last.startedAt,
      tailMs: b.finishedAtMs - last.doneAt,
    };
  });
  const first = finished[0];
  const final = finished.at(-1);
  if (!first || !final) throw new Error(`rollout ${status.id} finished no batch: there is no timeline`);
  const endMs = status.finishedAtMs > 0 ? status.finishedAtMs : final.finishedAtMs;
  const betweenMs = finished
    .slice(1)
    .reduce((sum, b, i) => sum + b.startedAtMs - (finished[i]?.finishedAtMs ?? b.startedAtMs), 0);
  return {
    complete: status.finishedAtMs > 0,
    wallMs: endMs - requestedAtMs,
    floorMs: batches.reduce((sum, b) => sum + b.floorMs, 0),
    leadInMs: first.startedAtMs - requestedAtMs,
    betweenMs,
    leadOutMs: endMs - final.finishedAtMs,
    batches,
    hostDispatchMs,
  };
}
