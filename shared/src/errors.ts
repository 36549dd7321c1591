/**
 * Every failure fleetroll reports has a class and a stable code, so that callers
 * branch on the kind (not on message text) and operators can search for the code.
 */
export abstract class FleetrollError extends Error {
  abstract readonly code: string;
  /** Safe to show an operator: names what failed and, where known, what to do. */
  override readonly message: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.message = message;
    this.name = new.target.name;
  }
}

/** Input that entered through a boundary (flag, file, RPC message) and was rejected. */
export class InvalidInputError extends FleetrollError {
  readonly code = 'INVALID_INPUT';
}

export class ConfigError extends FleetrollError {
  readonly code = 'CONFIG_INVALID';
}

export class UnknownSlotError extends FleetrollError {
  readonly code = 'UNKNOWN_SLOT';
}

/** A second update arrived while one is running on the host. */
export class AgentBusyError extends FleetrollError {
  readonly code = 'AGENT_BUSY';
}

export class HaproxySocketMissingError extends FleetrollError {
  readonly code = 'HAPROXY_SOCKET_MISSING';
}

export class HaproxyPermissionError extends FleetrollError {
  readonly code = 'HAPROXY_PERMISSION_DENIED';
}

export class HaproxyUnknownServerError extends FleetrollError {
  readonly code = 'HAPROXY_UNKNOWN_SERVER';
}

export class HaproxyTimeoutError extends FleetrollError {
  readonly code = 'HAPROXY_TIMEOUT';
}

export class HaproxyUnexpectedReplyError extends FleetrollError {
  readonly code = 'HAPROXY_UNEXPECTED_REPLY';
}

/** The agent could not save HAProxy's server state to the file a reload reads it from. */
export class HaproxyStateFileError extends FleetrollError {
  readonly code = 'HAPROXY_STATE_FILE';
}

export class DockerUnavailableError extends FleetrollError {
  readonly code = 'DOCKER_UNAVAILABLE';
}

export class ContainerNotFoundError extends FleetrollError {
  readonly code = 'CONTAINER_NOT_FOUND';
}

export class ImagePullError extends FleetrollError {
  readonly code = 'IMAGE_PULL_FAILED';
}

/** The image reference names another build on this host than the one the rollout rolls out. */
export class ImageMismatchError extends FleetrollError {
  readonly code = 'IMAGE_MISMATCH';
}

/** Docker refused a stop, rename, remove or inspect that should have worked. */
export class DockerOperationError extends FleetrollError {
  readonly code = 'DOCKER_OPERATION_FAILED';
}

export class ContainerStartError extends FleetrollError {
  readonly code = 'CONTAINER_START_FAILED';
}

/** The new container exited, turned unhealthy, or never became healthy in time. */
export class HealthCheckError extends FleetrollError {
  readonly code = 'HEALTH_CHECK_FAILED';
}

/**
 * A slot was not taken out because no other server of its backend takes traffic: HAProxy would
 * have nothing left to send requests to. Nothing was changed.
 */
export class NoServerLeftError extends FleetrollError {
  readonly code = 'NO_SERVER_LEFT';
}

/** A slot could not be put back as it was: needs an operator. */
export class RollbackError extends FleetrollError {
  readonly code = 'ROLLBACK_FAILED';
}

export class JournalError extends FleetrollError {
  readonly code = 'JOURNAL_FAILED';
}

/** Wraps anything that is not already a FleetrollError, so that every report has a code. */
export class InternalError extends FleetrollError {
  readonly code = 'INTERNAL';
}

export function asFleetrollError(err: unknown): FleetrollError {
  if (err instanceof FleetrollError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new InternalError(message, { cause: err });
}
