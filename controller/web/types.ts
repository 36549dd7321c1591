import type { StepEvent, msg } from '@fleetroll/shared';

export type Status = msg.RolloutStatus__Output;
export type HostStatus = msg.HostStatus__Output;
export type GroupStatus = msg.GroupStatus__Output;
export type BatchStatus = msg.BatchStatus__Output;
export type AgentInfo = msg.AgentInfo__Output;
export type Step = StepEvent;
export type StepName = StepEvent['step'];

/** One server-sent event of /api/rollouts/:id/events: a RolloutUpdate as JSON. */
export interface Update {
  status: Status;
  /** The agents' steps since the update before, oldest first. */
  steps: Step[];
}
