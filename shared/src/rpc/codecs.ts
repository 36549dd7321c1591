import { codecFor } from '../codec.js';
import type * as A from './messages.js';

/** The messages that travel over NATS, by name. */
export const codecs = {
  describeResponse: codecFor<A.DescribeResponse, A.DescribeResponse__Output>('fleetroll.v1.DescribeResponse'),
  prePullRequest: codecFor<A.PrePullRequest, A.PrePullRequest__Output>('fleetroll.v1.PrePullRequest'),
  prePullResponse: codecFor<A.PrePullResponse, A.PrePullResponse__Output>('fleetroll.v1.PrePullResponse'),
  updateHostRequest: codecFor<A.UpdateHostRequest, A.UpdateHostRequest__Output>(
    'fleetroll.v1.UpdateHostRequest',
  ),
  stepEvent: codecFor<A.StepEvent, A.StepEvent__Output>('fleetroll.v1.StepEvent'),
  abortRequest: codecFor<A.AbortRequest, A.AbortRequest__Output>('fleetroll.v1.AbortRequest'),
  abortResponse: codecFor<A.AbortResponse, A.AbortResponse__Output>('fleetroll.v1.AbortResponse'),
  agentRegistration: codecFor<A.AgentRegistration, A.AgentRegistration__Output>(
    'fleetroll.v1.AgentRegistration',
  ),
  /** What the controller keeps in its RolloutStore (JetStream KV or files). */
  rolloutStatus: codecFor<A.RolloutStatus, A.RolloutStatus__Output>('fleetroll.v1.RolloutStatus'),
};
