import type { StepEvent, StepName } from '@fleetroll/shared';

export type StepFields = Partial<
  Pick<StepEvent, 'message' | 'durationMs' | 'errorCode' | 'drainTimedOut' | 'weight'>
>;

/** Receives every step of an update as it happens; transports forward these to the controller. */
export type EmitStep = (event: StepEvent) => void;

/** Stamps events with the ids every consumer needs, so the workflow code only names the step. */
export function stepEmitter(emit: EmitStep, rolloutId: string, hostId: string, slot = '') {
  return (step: StepName, fields: StepFields = {}): void => {
    emit({
      rolloutId,
      hostId,
      slot,
      step,
      message: fields.message ?? '',
      atUnixMs: Date.now(),
      durationMs: Math.round(fields.durationMs ?? 0),
      errorCode: fields.errorCode ?? '',
      drainTimedOut: fields.drainTimedOut ?? false,
      weight: fields.weight ?? 0,
    });
  };
}

export type SlotStepper = ReturnType<typeof stepEmitter>;

/**
 * The steps of a slot that was replaced successfully, in the order slot.ts emits
 * them: the one place tests, demos and dashboards read that order from.
 */
export const REPLACED_SLOT_STEPS = [
  'SLOT_STARTED',
  'WEIGHT_ZERO',
  'DRAINED',
  'OLD_STOPPED',
  'NEW_STARTED',
  'HEALTHY',
  'WEIGHT_RESTORED',
  'SLOT_DONE',
] as const satisfies readonly StepName[];
