import { embeddedField, type ControllerServiceDefinition, type msg } from '@fleetroll/shared';
import { StatusEncoders } from '../store/status-encoder.js';

type Status = msg.RolloutStatus__Output;

/** The methods that answer with one RolloutStatus. */
const STATUS_ANSWERS = ['StartRollout', 'GetRollout', 'Pause', 'Resume', 'Abort'] as const;

/** The field number of RolloutUpdate.status. */
const UPDATE_STATUS_FIELD = 1;

/**
 * The controller's gRPC service with its rollout statuses serialized by the encoder the store uses,
 * which re-encodes only the hosts that changed since the status before: a watcher of a thousand-host
 * rollout is sent a status at every save, and proto-loader would encode all thousand hosts each time.
 * The bytes are the same message; clients decode them as usual.
 */
export function withIncrementalStatuses(service: ControllerServiceDefinition): ControllerServiceDefinition {
  const encoders = new StatusEncoders();
  // Every handler of these methods answers with a status from ControllerCore: the __Output shape.
  const status = (value: unknown): Buffer => Buffer.from(encoders.encode(value as Status));
  const answers = Object.fromEntries(
    STATUS_ANSWERS.map((method) => [method, { ...service[method], responseSerialize: status }]),
  );
  const steps = service.Watch.responseSerialize;
  return {
    ...service,
    ...answers,
    Watch: {
      ...service.Watch,
      responseSerialize: (update: msg.RolloutUpdate) => {
        const head = steps({ steps: update.steps ?? [] });
        if (!update.status) return head;
        return Buffer.concat([head, embeddedField(UPDATE_STATUS_FIELD, status(update.status))]);
      },
    },
  };
}
