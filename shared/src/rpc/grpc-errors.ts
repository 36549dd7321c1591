import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { FleetrollError, InternalError, asFleetrollError } from '../errors.js';

const STATUS_BY_CODE: Record<string, status> = {
  INVALID_INPUT: status.INVALID_ARGUMENT,
  CONFIG_INVALID: status.INVALID_ARGUMENT,
  UNKNOWN_SLOT: status.NOT_FOUND,
  CONTAINER_NOT_FOUND: status.FAILED_PRECONDITION,
  HAPROXY_UNKNOWN_SERVER: status.FAILED_PRECONDITION,
  IMAGE_PULL_FAILED: status.FAILED_PRECONDITION,
  AGENT_BUSY: status.ABORTED,
  HAPROXY_SOCKET_MISSING: status.UNAVAILABLE,
  HAPROXY_PERMISSION_DENIED: status.UNAVAILABLE,
  HAPROXY_TIMEOUT: status.UNAVAILABLE,
  DOCKER_UNAVAILABLE: status.UNAVAILABLE,
  // A standby controller: the message names the one that leads.
  NOT_LEADER: status.FAILED_PRECONDITION,
};

const CODE_KEY = 'fleetroll-error-code';

/** The error code travels in metadata so the other side can rebuild the same kind. */
export function toServiceError(err: unknown): Partial<ServiceError> {
  const error = asFleetrollError(err);
  const metadata = new Metadata();
  metadata.set(CODE_KEY, error.code);
  return { code: STATUS_BY_CODE[error.code] ?? status.INTERNAL, details: error.message, metadata };
}

/** An error as received from the peer: its fleetroll code, or the gRPC status name. */
export class RemoteError extends FleetrollError {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function fromServiceError(err: unknown): FleetrollError {
  if (!isServiceError(err)) return asFleetrollError(err);
  const code = err.metadata?.get(CODE_KEY)[0];
  if (typeof code === 'string') return new RemoteError(code, err.details, { cause: err });
  if (err.code === status.UNAVAILABLE || err.code === status.DEADLINE_EXCEEDED) {
    return new RemoteError('AGENT_UNREACHABLE', `agent unreachable: ${err.details}`, { cause: err });
  }
  return new InternalError(err.details || err.message, { cause: err });
}

function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && 'code' in err && 'details' in err;
}
