import { RollbackError, asFleetrollError, type SlotConfig, type SlotTimings } from '@fleetroll/shared';
import type { SlotJournalEntry } from './journal.js';
import { waitReady } from './ready.js';
import type { SlotDeps } from './slot-deps.js';
import { heldAtZero, weightResetNote } from './weight-hold.js';

/**
 * The two ways a slot that left its steady state gets back to one. Both the
 * live workflow (slot.ts) and crash recovery (recovery.ts) use them, so that a
 * restarted agent repairs a slot exactly as a running one would.
 */

/** Forward: the new container is verified; give it the old weight and drop the old container. */
export async function finishSlot(
  entry: SlotJournalEntry,
  slot: SlotConfig,
  deps: SlotDeps,
  onWeightRestored: () => void = () => {},
): Promise<void> {
  await deps.lb.setWeight(slot.backend, slot.server, entry.weight);
  // The weight-0 window ends here; removing the old container is housekeeping after it.
  onWeightRestored();
  await deps.runtime.remove(entry.oldId);
  await deps.journal.clear(slot.id);
}

/**
 * Backward: whatever stands under the slot's name that is not the old container
 * goes; the old container gets its name back, runs, and is verified; the weight
 * read before draining is restored even when the old container cannot be revived,
 * because a slot must never be left at weight 0. With `holdWeightZero` (the live workflow,
 * whose slot is known to be at weight 0) the weight is held at 0 until then: crash recovery
 * finds slots whose weight may never have gone to 0, and the only server of a backend
 * must not be taken out to be put back.
 */
export async function rollBackSlot(
  entry: SlotJournalEntry,
  slot: SlotConfig,
  deps: SlotDeps,
  timings: Pick<SlotTimings, 'healthTimeoutMs' | 'minReadyMs'>,
  holdWeightZero = false,
): Promise<void> {
  await deps.journal.record({ ...entry, phase: 'rolling-back' });
  let reviveError: unknown;
  const revive = () => reviveOld(entry, slot, deps, timings);
  try {
    if (holdWeightZero) {
      const { weightResets } = await heldAtZero(deps, slot, revive);
      const note = weightResetNote(slot, weightResets, `while ${entry.oldName} came back`);
      if (note) deps.log.warn({ slot: slot.id, weightResets }, note);
    } else {
      await revive();
    }
  } catch (err) {
    reviveError = err;
  }
  await deps.lb.setWeight(slot.backend, slot.server, entry.weight);
  await deps.journal.clear(slot.id);
  if (reviveError !== undefined) {
    const cause = asFleetrollError(reviveError);
    throw new RollbackError(
      `could not bring back ${entry.oldName}: ${cause.message}; weight restored to ${entry.weight}, slot needs an operator`,
      { cause },
    );
  }
}

async function reviveOld(
  entry: SlotJournalEntry,
  slot: SlotConfig,
  deps: SlotDeps,
  timings: Pick<SlotTimings, 'healthTimeoutMs' | 'minReadyMs'>,
): Promise<void> {
  const { runtime } = deps;
  // The journal may predate the new container's id (crash between create and record), so look by name too.
  const squatter = await runtime.find(slot.container);
  if (squatter && squatter.id !== entry.oldId) await runtime.remove(squatter.id);
  if (entry.newId && entry.newId !== entry.oldId) await runtime.remove(entry.newId);
  const old = await runtime.find(entry.oldId);
  if (!old)
    throw new RollbackError(`old container ${entry.oldName} (${entry.oldId.slice(0, 12)}) no longer exists`);
  if (old.name !== slot.container) await runtime.rename(old.id, slot.container);
  if (!old.running) await runtime.start(old.id);
  await waitReady(deps, slot, old.id, timings);
}
