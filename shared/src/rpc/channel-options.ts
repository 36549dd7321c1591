import type { ChannelOptions } from '@grpc/grpc-js';

/**
 * grpc-js waits 1 s after a refused connection, then 1.6 times longer after each
 * further one, up to 2 min, and fails every call at once in between. A peer that
 * comes back (an agent after a reboot, a controller after a restart) then goes
 * unseen by a client that kept asking: measured, an agent down for 80 s answered
 * Describe again through the controller's old channel only 45 s after it was up.
 * Connecting again within a second costs one refused connection a second per
 * absent peer, and only while something asks it.
 */
export const RECONNECT_OPTIONS: ChannelOptions = {
  'grpc.initial_reconnect_backoff_ms': 200,
  'grpc.max_reconnect_backoff_ms': 1_000,
};
