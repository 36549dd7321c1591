import { FleetrollError } from '@fleetroll/shared';

export class UnknownRolloutError extends FleetrollError {
  readonly code = 'UNKNOWN_ROLLOUT';
}

/** Two rollouts on one fleet would race each other for the same slots. */
export class RolloutConflictError extends FleetrollError {
  readonly code = 'ROLLOUT_CONFLICT';
}

export class TransportUnavailableError extends FleetrollError {
  readonly code = 'TRANSPORT_UNAVAILABLE';
}

/** This controller stands by: another one leads, and only the leader acts on rollouts. */
export class NotLeaderError extends FleetrollError {
  readonly code = 'NOT_LEADER';
}
