import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType as AgentProto } from './generated/agent.js';
import type { ProtoGrpcType as ControllerProto } from './generated/controller.js';

/** Must match the flags in scripts/gen-proto.mjs, or the generated types lie. */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

export const PROTO_DIR = fileURLToPath(new URL('../../../proto/', import.meta.url));

function load(file: string): unknown {
  const definition = protoLoader.loadSync(file, { ...PROTO_LOADER_OPTIONS, includeDirs: [PROTO_DIR] });
  return grpc.loadPackageDefinition(definition);
}

export function loadAgentProto(): AgentProto {
  return load('fleetroll/v1/agent.proto') as AgentProto;
}

export function loadControllerProto(): ControllerProto {
  return load('fleetroll/v1/controller.proto') as ControllerProto;
}
