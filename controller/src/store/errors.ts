import { FleetrollError } from '@fleetroll/shared';

/** Another controller wrote the rollout since this one last did: this one must stop acting on it. */
export class StoreConflictError extends FleetrollError {
  readonly code = 'STORE_CONFLICT';
}

/** The store could not be read or written (NATS without JetStream, a full disk, a bad file). */
export class StoreUnavailableError extends FleetrollError {
  readonly code = 'STORE_UNAVAILABLE';
}
