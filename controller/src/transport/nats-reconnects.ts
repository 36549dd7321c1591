import type { NatsConnection } from '@nats-io/transport-node';

/**
 * Calls cb after every reconnect of nc until the returned function is called. The listener
 * itself goes at the next status after that: pings bring one every few seconds.
 */
export function onReconnect(nc: NatsConnection, cb: () => void): () => void {
  let stopped = false;
  void (async () => {
    for await (const s of nc.status()) {
      if (stopped) break;
      if (s.type === 'reconnect') cb();
    }
  })();
  return () => {
    stopped = true;
  };
}
