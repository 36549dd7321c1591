/**
 * NATS subject names of DESIGN.md. Host and rollout ids may contain "." (a subject
 * separator); "~" can appear in neither, so it stands in for "." reversibly.
 */
export function subjectToken(id: string): string {
  return id.replaceAll('.', '~');
}

export type AgentMethod = 'Describe' | 'PrePull' | 'UpdateHost' | 'Abort';

export const subjects = {
  agent: (hostId: string, method: AgentMethod) => `fleetroll.v1.agent.${subjectToken(hostId)}.${method}`,
  events: (rolloutId: string, hostId: string) =>
    `fleetroll.v1.events.${subjectToken(rolloutId)}.${subjectToken(hostId)}`,
  rolloutEvents: (rolloutId: string) => `fleetroll.v1.events.${subjectToken(rolloutId)}.>`,
};

/** KV bucket where agents register and heartbeat; key = host id. */
export const AGENT_REGISTRY_BUCKET = 'fleetroll-agents';

/** Header names carrying a typed error in a NATS reply, mirroring gRPC status + metadata. */
export const ERROR_CODE_HEADER = 'Fleetroll-Error-Code';
export const ERROR_MESSAGE_HEADER = 'Fleetroll-Error';
