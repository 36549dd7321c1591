import { FleetrollError } from '@fleetroll/shared';

export class RouteNotFoundError extends FleetrollError {
  readonly code = 'NOT_FOUND';
}

export class MethodNotAllowedError extends FleetrollError {
  readonly code = 'METHOD_NOT_ALLOWED';
  constructor(
    message: string,
    readonly allow: readonly string[],
  ) {
    super(message);
  }
}

export class PayloadTooLargeError extends FleetrollError {
  readonly code = 'PAYLOAD_TOO_LARGE';
}

/** A POST that is not JSON: also what keeps other web sites' plain form posts out. */
export class UnsupportedMediaTypeError extends FleetrollError {
  readonly code = 'UNSUPPORTED_MEDIA_TYPE';
}

/** The Host header names a host the dashboard does not answer to (see http.allowedHosts). */
export class ForbiddenHostError extends FleetrollError {
  readonly code = 'FORBIDDEN_HOST';
}

const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  INVALID_INPUT: 400,
  TRANSPORT_UNAVAILABLE: 400,
  FORBIDDEN_HOST: 403,
  NOT_FOUND: 404,
  UNKNOWN_ROLLOUT: 404,
  METHOD_NOT_ALLOWED: 405,
  ROLLOUT_CONFLICT: 409,
  STORE_CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  // A standby controller: the message names the leader, which can take the request.
  NOT_LEADER: 503,
  STORE_FAILED: 503,
  STORE_UNAVAILABLE: 503,
  NATS_UNAVAILABLE: 503,
};

export function httpStatusOf(error: FleetrollError): number {
  return STATUS_BY_CODE[error.code] ?? 500;
}
