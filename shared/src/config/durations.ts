import { z } from 'zod';

/** Timings of one slot replacement, all in milliseconds except the Docker stop timeout. */
export const slotTimingsSchema = z.strictObject({
  drainTimeoutMs: z
    .number()
    .int()
    .min(0)
    .max(3_600_000)
    .default(30_000)
    .describe(
      'How long a slot at weight 0 may wait for its open sessions to end. When it passes, the slot ' +
        'is replaced anyway and the DRAINED event says how many sessions were still open.',
    ),
  minDrainMs: z
    .number()
    .int()
    .min(0)
    .max(3_600_000)
    .default(0)
    .describe(
      'Stay at weight 0 at least this long even when no session is open, for clients that keep a ' +
        'connection to a server they were already given (long polls, keep-alive without requests).',
    ),
  healthTimeoutMs: z
    .number()
    .int()
    .min(100)
    .max(3_600_000)
    .default(60_000)
    .describe(
      'How long the new container has to become healthy (Docker healthy, and HAProxy reports the ' +
        'server UP) before the slot is rolled back to the old container.',
    ),
  minReadyMs: z
    .number()
    .int()
    .min(0)
    .max(3_600_000)
    .default(2_000)
    .describe(
      'For images without a HEALTHCHECK: how long the new container must keep running to count as ' +
        'healthy on the Docker side.',
    ),
  stopTimeoutS: z
    .number()
    .int()
    .min(0)
    .max(600)
    .default(10)
    .describe('Seconds `docker stop` gives the old container after SIGTERM before it sends SIGKILL.'),
  slotParallelism: z
    .number()
    .int()
    .min(1)
    .max(64)
    .default(1)
    .describe(
      'Slots of this host replaced at once. With 1, at most one slot of the host is ever out of ' +
        'the load balancer.',
    ),
});

export type SlotTimings = z.infer<typeof slotTimingsSchema>;
