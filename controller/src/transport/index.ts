export { HOST_END_STEPS, type AgentClient, type AgentDirectory } from './agent-client.js';
export { AgentUnreachableError, DuplicateHostIdError } from './errors.js';
export {
  AgentRegistry,
  DEFAULT_DEAD_AFTER_MS,
  type AgentRegistryOptions,
  type DeadListener,
  type RegistryEntry,
  type RegistrySource,
  type RegistryWatch,
} from './registry.js';
export {
  DEFAULT_NATS_TIMEOUTS,
  NatsAgentClient,
  NatsAgentDirectory,
  type Liveness,
  type NatsDirectoryOptions,
  type NatsTimeouts,
} from './nats.js';
export {
  AGENT_CHANNEL_OPTIONS,
  DEFAULT_GRPC_TIMEOUTS,
  GrpcAgentClient,
  GrpcAgentDirectory,
  connectAgent,
  type GrpcDirectoryOptions,
  type GrpcTimeouts,
} from './grpc.js';
