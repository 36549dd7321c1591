import { credentials, type ChannelOptions } from '@grpc/grpc-js';
import type { AgentServiceClient, AgentServiceHandlers } from '../generated/fleetroll/v1/AgentService.js';
import { loadAgentProto } from '../proto.js';
import { RECONNECT_OPTIONS } from './channel-options.js';

export type { AgentServiceClient, AgentServiceHandlers };

/** A typed AgentService client; plaintext, as agents listen on a private network or loopback. */
export function createAgentGrpcClient(address: string, options: ChannelOptions = {}): AgentServiceClient {
  const proto = loadAgentProto();
  return new proto.fleetroll.v1.AgentService(address, credentials.createInsecure(), {
    ...RECONNECT_OPTIONS,
    ...options,
  });
}
