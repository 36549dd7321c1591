import type { HostDescription, PrePullResult, StepEvent, UpdateHostRequest } from '@fleetroll/shared';

/**
 * The controller's view of one agent, whichever transport carries it. The rollout
 * logic is written against this and nothing else; grpc.ts and nats.ts implement it.
 */
export interface AgentClient {
  readonly hostId: string;
  describe(): Promise<HostDescription>;
  prePull(image: string): Promise<PrePullResult>;
  /**
   * Runs UpdateHost; every step goes to onEvent as it arrives. Resolves with the
   * terminal event (HOST_DONE, HOST_FAILED or HOST_ABORTED). Rejects with a typed
   * error when the agent refuses the update (e.g. AGENT_BUSY, UNKNOWN_SLOT) or when
   * it vanishes mid-update (AGENT_UNREACHABLE), so that a dead host fails instead
   * of hanging the rollout.
   */
  update(request: UpdateHostRequest, onEvent: (event: StepEvent) => void): Promise<StepEvent>;
  abort(rolloutId: string): Promise<boolean>;
  /**
   * What the transport knows of the agent being there without asking it: over NATS, a fresh
   * heartbeat in the registry. Absent where it learns nothing until it asks (gRPC).
   */
  isAlive?(): boolean;
  /**
   * Why the host may not be sent an update yet: another process registered under its id moments
   * ago while the old one was still heard, so a restart cannot yet be told from a second agent, and
   * both would take the update (over NATS). Undefined when it may.
   */
  settling?(): string | undefined;
}

/** Terminal steps of an UpdateHost stream. */
export const HOST_END_STEPS: ReadonlySet<string> = new Set<StepEvent['step']>([
  'HOST_DONE',
  'HOST_FAILED',
  'HOST_ABORTED',
]);

/** Hands out clients by host id, over one transport, and says who is alive. */
export interface AgentDirectory {
  readonly transport: 'nats' | 'grpc';
  client(hostId: string): AgentClient;
  close(): Promise<void>;
}
