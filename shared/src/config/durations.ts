import { z } from 'zod';

/** Timings of one slot replacement, all in milliseconds except the Docker stop timeout. */
export const slotTimingsSchema = z.strictObject({
  drainTimeoutMs: z.number().int().min(0).max(3_600_000).default(30_000),
  minDrainMs: z.number().int().min(0).max(3_600_000).default(0),
  healthTimeoutMs: z.number().int().min(100).max(3_600_000).default(60_000),
  minReadyMs: z.number().int().min(0).max(3_600_000).default(2_000),
  stopTimeoutS: z.number().int().min(0).max(600).default(10),
  slotParallelism: z.number().int().min(1).max(64).default(1),
});

export type SlotTimings = z.infer<typeof slotTimingsSchema>;
