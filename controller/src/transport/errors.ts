import { FleetrollError } from '@fleetroll/shared';

/**
 * The agent could not be asked, or stopped answering: no responder, no reply in
 * time, a dropped stream, a host gone silent in the registry. The rollout treats
 * it like any failed host instead of waiting forever.
 */
export class AgentUnreachableError extends FleetrollError {
  readonly code = 'AGENT_UNREACHABLE';
}

/**
 * Two agents register under the host's id (an agent.yml copied to another machine unchanged):
 * over NATS both would take every command sent to the host, so nothing is sent to it.
 */
export class DuplicateHostIdError extends FleetrollError {
  readonly code = 'DUPLICATE_HOST_ID';
}
