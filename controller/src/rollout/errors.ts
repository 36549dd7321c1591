import { FleetrollError, RemoteError } from '@fleetroll/shared';

/** A host's agent did not finish its part (pre-pull or update) within the rollout's host timeout. */
export class HostTimeoutError extends FleetrollError {
  readonly code = 'HOST_TIMEOUT';
}

/** The agent stopped an update that the controller never asked it to stop (e.g. it was shut down). */
export class UnexpectedAbortError extends FleetrollError {
  readonly code = 'HOST_ABORTED';
}

/** The RolloutStore refused a change; the rollout stops acting, since it could no longer resume. */
export class RolloutStoreError extends FleetrollError {
  readonly code = 'STORE_FAILED';
}

/** Another controller took over the rollout: this one no longer saves nor sends anything for it. */
export class RolloutDetachedError extends FleetrollError {
  readonly code = 'ROLLOUT_DETACHED';
}

/** The same error with what was being done in front, keeping its code for the operator to search. */
export function withContext(error: FleetrollError, doing: string): FleetrollError {
  return new RemoteError(error.code, `${doing}: ${error.message}`, { cause: error });
}

/** A host that finished its update was no longer serving the new image when its batch's soak ended. */
export class SoakCheckError extends FleetrollError {
  readonly code = 'SOAK_CHECK_FAILED';
}
