import { join } from 'node:path';
import protobuf from 'protobufjs';
import { PROTO_DIR } from './proto.js';
import { InvalidInputError } from './errors.js';

/**
 * Protobuf encoding of the proto messages for transports other than gRPC (NATS),
 * producing and accepting the same object shapes as @grpc/proto-loader does, so
 * that code above the transport never knows which one carried a message.
 */
export interface Codec<In, Out> {
  encode(message: In): Uint8Array;
  /** Throws InvalidInputError on bytes that are not this message. */
  decode(bytes: Uint8Array): Out;
}

let root: protobuf.Root | undefined;

function loadRoot(): protobuf.Root {
  if (root) return root;
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => (target.startsWith('/') ? target : join(PROTO_DIR, target));
  // keepCase false gives camelCase fields, as proto-loader's keepCase: false does.
  r.loadSync(['fleetroll/v1/agent.proto', 'fleetroll/v1/controller.proto'], { keepCase: false });
  r.resolveAll();
  root = r;
  return r;
}

export function codecFor<In, Out>(typeName: string): Codec<In, Out> {
  const type = loadRoot().lookupType(typeName);
  return {
    encode(message: In): Uint8Array {
      return type.encode(type.fromObject(message as Record<string, unknown>)).finish();
    },
    decode(bytes: Uint8Array): Out {
      let decoded: protobuf.Message;
      try {
        decoded = type.decode(bytes);
      } catch (err) {
        throw new InvalidInputError(`not a valid ${typeName} message: ${(err as Error).message}`, {
          cause: err,
        });
      }
      return type.toObject(decoded, {
        longs: Number,
        enums: String,
        defaults: true,
        arrays: true,
        oneofs: true,
      }) as Out;
    },
  };
}

/**
 * An embedded message as one field on its own. Protobuf reads concatenated messages as one, so
 * appending this to a message's bytes sets that field: for callers that hold the embedded
 * message already encoded.
 */
export function embeddedField(fieldNumber: number, bytes: Uint8Array): Uint8Array {
  return protobuf.Writer.create()
    .uint32((fieldNumber << 3) | 2)
    .bytes(bytes)
    .finish();
}
