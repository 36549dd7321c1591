import { z } from 'zod';
import { imageIdsSchema, imageRefSchema, nameSchema } from '../names.js';
import type { SlotTimings } from '../config/durations.js';
import type { StepEvent__Output } from '../generated/fleetroll/v1/StepEvent.js';
import type { Step__Output } from '../generated/fleetroll/v1/Step.js';
import type { UpdateHostRequest__Output } from '../generated/fleetroll/v1/UpdateHostRequest.js';
import type { DescribeResponse__Output } from '../generated/fleetroll/v1/DescribeResponse.js';
import type { SlotStatus__Output } from '../generated/fleetroll/v1/SlotStatus.js';
import type { PrePullResponse__Output } from '../generated/fleetroll/v1/PrePullResponse.js';

export type StepEvent = StepEvent__Output;
export type StepName = Step__Output;
export type HostDescription = DescribeResponse__Output;
export type SlotStatus = SlotStatus__Output;
export type PrePullResult = PrePullResponse__Output;

/** Proto3 has no "unset" for scalars: 0 means "use the agent's default". */
const overrideMs = z
  .number()
  .int('must be a whole number of milliseconds')
  .min(0, 'must not be negative')
  .max(3_600_000, 'must be at most 1 h (3,600,000 ms)');

export const rolloutIdSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/,
    'must be 1-128 characters of letters, digits, ".", "_", ":" or "-"',
  );

export const updateHostRequestSchema = z.strictObject({
  rolloutId: rolloutIdSchema,
  image: imageRefSchema,
  slots: z.array(nameSchema).refine((s) => new Set(s).size === s.length, 'lists a slot twice'),
  imageIds: imageIdsSchema,
  options: z
    .strictObject({
      drainTimeoutMs: overrideMs,
      minDrainMs: overrideMs,
      healthTimeoutMs: overrideMs,
      minReadyMs: overrideMs,
      stopTimeoutS: z
        .number()
        .int('must be a whole number of seconds')
        .min(0, 'must not be negative')
        .max(600, 'must be at most 600 s'),
      slotParallelism: z
        .number()
        .int('must be a whole number')
        .min(0, 'must not be negative')
        .max(64, 'must be at most 64'),
    })
    .nullable(),
});

/** An agent's PrePull answer, as the controller takes it in: the build it names goes to every host. */
export const prePullResultSchema = z.object({
  pulled: z.boolean(),
  durationMs: z.number().int().min(0),
  imageIds: imageIdsSchema,
});

/** An UpdateHost request's slot options that override nothing: 0 leaves each to the agent's own value. */
export const NO_SLOT_OVERRIDES: Readonly<NonNullable<z.infer<typeof updateHostRequestSchema>['options']>> = {
  drainTimeoutMs: 0,
  minDrainMs: 0,
  healthTimeoutMs: 0,
  minReadyMs: 0,
  stopTimeoutS: 0,
  slotParallelism: 0,
};

export interface UpdateCommand {
  rolloutId: string;
  image: string;
  /** Empty means every slot of the host. */
  slots: string[];
  /** The build `image` must name here (see sameBuild); empty: any. */
  imageIds: string[];
  timings: SlotTimings;
}

/** Applies the request's non-zero overrides on top of the agent's configured defaults. */
export function toUpdateCommand(
  req: z.output<typeof updateHostRequestSchema>,
  defaults: SlotTimings,
): UpdateCommand {
  const timings = { ...defaults };
  for (const [key, value] of Object.entries(req.options ?? {}) as [keyof SlotTimings, number][]) {
    if (value > 0) timings[key] = value;
  }
  return { rolloutId: req.rolloutId, image: req.image, slots: req.slots, imageIds: req.imageIds, timings };
}

export type UpdateHostRequestMessage = UpdateHostRequest__Output;
export type { UpdateHostRequest } from '../generated/fleetroll/v1/UpdateHostRequest.js';
