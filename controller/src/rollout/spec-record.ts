import { InvalidInputError, formatSerialSpec, type msg } from '@fleetroll/shared';
import { parseRolloutSpec, type FailureActionName, type RolloutSpec } from './spec.js';

const FAILURE_ACTIONS: Readonly<Record<FailureActionName, msg.FailureAction__Output>> = {
  pause: 'PAUSE',
  abort: 'ABORT',
  rollback: 'ROLLBACK',
};

/**
 * The request that gives this spec again, the controller's defaults written in: kept in the
 * rollout's status, so that a restarted controller resumes it as it was started, whatever its own
 * defaults are now. Typed as the full message, so that a field added to the proto must be mapped here.
 */
export function specToRequest(spec: RolloutSpec): msg.StartRolloutRequest__Output {
  return {
    image: spec.image,
    serial: formatSerialSpec(spec.serial).split(','),
    groups: [...spec.groups],
    maxFail: `${spec.maxFailPercent}%`,
    failureAction: FAILURE_ACTIONS[spec.failureAction],
    maxParallel: spec.maxParallel,
    hostTimeoutMs: spec.hostTimeoutMs,
    soakMs: spec.soakMs,
    pauseAfter: [...spec.pauseAfter],
    transport: spec.transport ?? '',
    groupsInParallel: spec.groupsInParallel,
    groupsInSequence: spec.groupsInSequence,
    options: { ...spec.options },
  };
}

/** The spec a stored status was started with; throws InvalidInputError when it cannot say. */
export function specFromStatus(status: msg.RolloutStatus__Output): RolloutSpec {
  if (!status.request) {
    throw new InvalidInputError(
      `rollout ${status.id} in the store has no request (written by an older controller); it cannot be resumed`,
    );
  }
  return parseRolloutSpec(status.request, { id: status.id });
}
