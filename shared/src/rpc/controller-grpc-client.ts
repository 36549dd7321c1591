import { credentials } from '@grpc/grpc-js';
import type {
  ControllerServiceClient,
  ControllerServiceDefinition,
  ControllerServiceHandlers,
} from '../generated/fleetroll/v1/ControllerService.js';
import { loadControllerProto } from '../proto.js';
import { RECONNECT_OPTIONS } from './channel-options.js';

export type { ControllerServiceClient, ControllerServiceDefinition, ControllerServiceHandlers };

export function createControllerGrpcClient(address: string): ControllerServiceClient {
  const proto = loadControllerProto();
  return new proto.fleetroll.v1.ControllerService(address, credentials.createInsecure(), RECONNECT_OPTIONS);
}
