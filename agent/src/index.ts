export { startAgent, type RunningAgent } from './daemon.js';
export { HostAgent, type HostOutcome } from './host.js';
export { REPLACED_SLOT_STEPS } from './events.js';
export { HaproxyClient } from './haproxy/index.js';
export { DockerRuntime } from './docker/index.js';
export type { ContainerRuntime, LoadBalancer, ServerStat, ContainerSnapshot } from './ports.js';
