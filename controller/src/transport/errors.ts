import { FleetrollError } from '@fleetroll/shared';

/**
 * The agent could not be asked, or stopped answering: no responder, no reply in
 * time, a dropped stream, a host gone silent in the registry. The rollout treats
 * it like any failed host instead of waiting forever.
 */
export class AgentUnreachableError extends FleetrollError {
  readonly code = 'AGENT_UNREACHABLE';
}
