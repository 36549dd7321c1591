import { connect, type NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { FleetrollError } from '../errors.js';
import type { Logger } from '../logger.js';

export class NatsUnavailableError extends FleetrollError {
  readonly code = 'NATS_UNAVAILABLE';
}

export const natsConfigSchema = z.strictObject({
  servers: z.array(z.string().min(1)).min(1, 'name at least one NATS server'),
  user: z.string().optional(),
  pass: z.string().optional(),
  token: z.string().optional(),
});
export type NatsConfig = z.infer<typeof natsConfigSchema>;

/**
 * One connection per process. It reconnects forever: a NATS node restarting in
 * the middle of a rollout must cost a pause, not the rollout.
 */
export async function connectNats(config: NatsConfig, name: string, log: Logger): Promise<NatsConnection> {
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
