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
