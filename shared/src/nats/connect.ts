import { connect, type NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { FleetrollError } from '../errors.js';
import type { Logger } from '../logger.js';

export class NatsUnavailableError extends FleetrollError {
  readonly code = 'NATS_UNAVAILABLE';
}

export const natsConfigSchema = z.strictObject({
  servers: z
    .array(z.string().min(1))
    .min(1, 'name at least one NATS server')
    .describe(
      'NATS URLs, e.g. nats://10.0.0.2:4222. List every member of a cluster, so that any one of them gets you in.',
    ),
  user: z.string().optional().describe('User name, when nats.conf requires users and passwords.'),
  pass: z.string().optional().describe("That user's password."),
  token: z.string().optional().describe('Token, when nats.conf authenticates with a token instead.'),
  kvReplicas: z
    .number()
    .int()
    .min(1)
    .max(5)
    .default(1)
    .describe(
      'Copies JetStream keeps of each KV bucket this process creates (the agent registry, ...): 1 for ' +
        'a single server, 3 on a cluster so that losing a node loses nothing. A bucket that exists ' +
        'already keeps the count it was created with; give agents and controller the same value.',
    ),
});
export type NatsConfig = z.infer<typeof natsConfigSchema>;
/** What a caller may write: the defaults fill in the rest. */
export type NatsConfigInput = z.input<typeof natsConfigSchema>;

/**
 * One connection per process. It reconnects forever: a NATS node restarting in
 * the middle of a rollout must cost a pause, not the rollout.
 */
export async function connectNats(
  config: NatsConfigInput,
  name: string,
  log: Logger,
): Promise<NatsConnection> {
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: config.servers,
      name,
      user: config.user,
      pass: config.pass,
      token: config.token,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      pingInterval: 2_000,
      maxPingOut: 2,
      // Each request would build an Error up front for its stack, in case it fails: a controller
      // asking a thousand agents spent more on those than on the requests. Failures are wrapped in
      // our own errors, which say what was asked of whom.
      noAsyncTraces: true,
    });
  } catch (err) {
    throw new NatsUnavailableError(
      `cannot connect to NATS at ${config.servers.join(', ')}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect')
        log.warn({ nats: s.type, server: s.server }, `NATS ${s.type}`);
    }
  })();
  return nc;
}
