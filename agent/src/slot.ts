import {
  ImageMismatchError,
  asFleetrollError,
  shortImageId,
  type FleetrollError,
  type SlotConfig,
  type UpdateCommand,
} from '@fleetroll/shared';
import { drain } from './drain.js';
import { drainNotes } from './drain-notes.js';
import { waitForAnotherServer } from './last-server.js';
import type { SlotStepper } from './events.js';
import type { SlotJournalEntry } from './journal.js';
import { waitReady } from './ready.js';
import { absenceNote, PatientLoadBalancer } from './patient-lb.js';
import { finishSlot, rollBackSlot } from './repair.js';
import type { SlotDeps } from './slot-deps.js';
import { heldAtZero, weightResetNote } from './weight-hold.js';

export type SlotOutcome =
  | { slot: string; status: 'done'; weightZeroMs: number }
  | { slot: string; status: 'skipped' }
  | { slot: string; status: 'failed'; error: FleetrollError };

/** Suffix of the old container's name while it waits, stopped, for the new one to prove itself. */
export const ASIDE_SUFFIX = '-fleetroll-old';

/**
 * One slot, per DESIGN.md: read weight → weight 0 → drain → replace → verify →
 * restore weight. Never the backend's last server taking traffic: HAProxy would answer 503.
 * Any failure after the weight went to 0 rolls the slot back, so a slot always ends
 * serving at the weight it had.
 */
export async function replaceSlot(
  slot: SlotConfig,
  cmd: UpdateCommand,
  outer: SlotDeps,
  step: SlotStepper,
  /** Docker's id of the image as the update's pull found it: the build every slot gets, or fails. */
  build: string,
): Promise<SlotOutcome> {
  const patient = new PatientLoadBalancer(outer.lb);
  const deps = { ...outer, lb: patient };
  const { lb, runtime, journal } = deps;
  const log = deps.log.child({ slot: slot.id });
  /** The times HAProxy's socket was away since the last look, logged; '' when it never was. */
  const absences = (): string => {
    const away = absenceNote(patient.takeAbsences());
    if (away) log.warn(away);
    return away;
  };
  /** A step's note, with those absences. */
  const noted = (note: string): string => [note, absences()].filter(Boolean).join('; ');
  step('SLOT_STARTED', { message: `${slot.container} → ${cmd.image}` });

  const old = await runtime.inspect(slot.container);
  if (old.running && old.imageId === build) {
    step('SLOT_SKIPPED', { message: `${slot.container} already runs ${cmd.image}` });
    return { slot: slot.id, status: 'skipped' };
  }

  await waitForAnotherServer(lb, slot, cmd.timings.healthTimeoutMs, deps.pollMs);
  const weight = await lb.getWeight(slot.backend, slot.server);
  const entry: SlotJournalEntry = {
    slot: slot.id,
    rolloutId: cmd.rolloutId,
    image: cmd.image,
    phase: 'draining',
    weight,
    oldId: old.id,
    oldName: old.name,
    asideName: `${slot.container}${ASIDE_SUFFIX}`,
  };
  await journal.record(entry);
  const zeroAt = Date.now();
  let drainMs: number;

  try {
    await lb.setWeight(slot.backend, slot.server, 0);
    step('WEIGHT_ZERO', { weight });

    const drained = await drain(lb, slot, cmd.timings, deps.pollMs);
    drainMs = drained.durationMs;
    const notes = drainNotes(slot, drained);
    const { sessionsLeft, weightResets, reloadedPid, restartedPid, olderPids, processesUnseen } = drained;
    if (notes) {
      log.warn(
        { sessionsLeft, weightResets, reloadedPid, restartedPid, olderPids, processesUnseen },
        `drain: ${notes}`,
      );
    }
    step('DRAINED', {
      durationMs: drained.durationMs,
      drainTimedOut: drained.timedOut,
      message: noted(notes),
    });

    entry.phase = 'replacing';
    await journal.record(entry);
    let t = Date.now();
    const replaced = await heldAtZero(deps, slot, async () => {
      await runtime.stop(old.id, cmd.timings.stopTimeoutS);
      await runtime.rename(old.id, entry.asideName);
      step('OLD_STOPPED', { durationMs: Date.now() - t });
      t = Date.now();
      entry.newId = await runtime.createFrom(old.id, slot.container, cmd.image);
      await journal.record(entry);
      // The tag may have been pushed (or tagged) again since the pull: then this is another build.
      const made = await runtime.inspect(entry.newId);
      if (made.imageId !== build) throw movedTag(cmd.image, made.imageId, build);
      await runtime.start(entry.newId);
      return entry.newId;
    });
    const replacing = weightResetNote(
      slot,
      replaced.weightResets,
      'while the old container stopped and the new one started',
    );
    if (replacing) log.warn({ weightResets: replaced.weightResets }, replacing);
    step('NEW_STARTED', { durationMs: Date.now() - t, message: noted(replacing) });

    t = Date.now();
    const ready = await waitReady(deps, slot, replaced.value, cmd.timings, true);
    const held = weightResetNote(slot, ready.weightResets, 'while the new container started');
    if (held) log.warn({ weightResets: ready.weightResets }, held);
    step('HEALTHY', { durationMs: Date.now() - t, message: noted(held) });

    entry.phase = 'restoring';
    await journal.record(entry);
  } catch (err) {
    return failSlot(entry, slot, cmd, deps, step, asFleetrollError(err));
  }

  let weightZeroMs = 0;
  await finishSlot(entry, slot, deps, () => {
    weightZeroMs = Date.now() - zeroAt;
    step('WEIGHT_RESTORED', { weight, durationMs: weightZeroMs });
  });
  absences(); // during the weight's restore: logged only, no step carries a note then
  step('SLOT_DONE', { message: `${slot.container} runs ${cmd.image}` });
  log.info({ weightZeroMs, drainMs }, 'slot replaced');
  return { slot: slot.id, status: 'done', weightZeroMs };
}

function movedTag(image: string, found: string, build: string): ImageMismatchError {
  return new ImageMismatchError(
    `${image} became ${shortImageId([found])} during the update, which pulled ${shortImageId([build])}: ` +
      'the tag was pushed again; the slot keeps its old container',
  );
}

async function failSlot(
  entry: SlotJournalEntry,
  slot: SlotConfig,
  cmd: UpdateCommand,
  deps: SlotDeps,
  step: SlotStepper,
  cause: FleetrollError,
): Promise<SlotOutcome> {
  step('ROLLING_BACK', { errorCode: cause.code, message: cause.message });
  let error = cause;
  let message = `${cause.message}; rolled back, ${entry.oldName} serves again at weight ${entry.weight}`;
  try {
    await rollBackSlot(entry, slot, deps, cmd.timings, true);
  } catch (err) {
    error = asFleetrollError(err);
    message = `${cause.message}; ${error.message}`;
  }
  deps.log.error({ slot: slot.id, code: error.code, err: cause }, message);
  step('SLOT_FAILED', { errorCode: error.code, message });
  return { slot: slot.id, status: 'failed', error };
}
