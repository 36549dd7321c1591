export { startAgent, type RunningAgent } from './daemon.js';
export { AGENT_VERSION, HostAgent, type HostOutcome } from './host.js';
export { REPLACED_SLOT_STEPS } from './events.js';
export { HaproxyClient } from './haproxy/index.js';
export { DockerRuntime } from './docker/index.js';
export type { ContainerRuntime, LoadBalancer, ServerStat, ContainerSnapshot, HealthState } from './ports.js';
// The fleet simulation (test/bench/fleet-sim.ts) assembles agents from these parts,
// with simulated ports in place of HAProxy and Docker.
export { POLL_MS, type SlotDeps, type SlotJournal } from './slot-deps.js';
export type { SlotJournalEntry } from './journal.js';
export { agentHandlers, type AgentHandlers } from './transport/handlers.js';
export { serveNats, type NatsAgentService } from './transport/nats.js';
export { Registrar, openRegistryBucket, type RegistryBucket, type RegistrationInfo } from './registry.js';
