import { Server, ServerCredentials, type ServerWritableStream, type sendUnaryData } from '@grpc/grpc-js';
import {
  imageRefSchema,
  loadAgentProto,
  parseInput,
  rolloutIdSchema,
  toServiceError,
  toUpdateCommand,
  updateHostRequestSchema,
  type AgentServiceHandlers,
  type Logger,
  type SlotTimings,
  type StepEvent,
} from '@fleetroll/shared';
import { z } from 'zod';
import type { HostAgent } from '../host.js';

/**
 * gRPC only translates: each handler validates the message, calls HostAgent and
 * maps the result (or the typed error) back onto the wire.
 */
export function agentServiceHandlers(
  host: HostAgent,
  defaults: SlotTimings,
  log: Logger,
): AgentServiceHandlers {
  const unary =
    <Req, Res>(fn: (req: Req) => Promise<Res>) =>
    (call: { request: Req }, callback: sendUnaryData<Res>): void => {
      fn(call.request).then(
        (res) => callback(null, res),
        (err: unknown) => callback(toServiceError(err)),
      );
    };

  return {
    Describe: unary(() => host.describe()),
    PrePull: unary((req: { image: string }) =>
      host.prePull(parseInput(z.strictObject({ image: imageRefSchema }), req, 'PrePull')['image']),
    ),
    Abort: unary(async (req: { rolloutId: string }) => {
      const { rolloutId } = parseInput(z.strictObject({ rolloutId: rolloutIdSchema }), req, 'Abort');
      return { accepted: host.abort(rolloutId) };
    }),
    UpdateHost: (call: ServerWritableStream<unknown, StepEvent>) => {
      let cmd;
      try {
        cmd = toUpdateCommand(parseInput(updateHostRequestSchema, call.request, 'UpdateHost'), defaults);
      } catch (err) {
        call.emit('error', toServiceError(err));
        return;
      }
      // A controller that goes away does not stop the update: the host must not be left mid-slot.
      const emit = (event: StepEvent): void => {
        if (!call.cancelled && call.writable) call.write(event);
      };
      host.update(cmd, emit).then(
        () => call.end(),
        (err: unknown) => {
          log.warn({ rolloutId: cmd.rolloutId, err }, 'update refused');
          call.emit('error', toServiceError(err));
        },
      );
    },
  };
}

export async function serveGrpc(
  host: HostAgent,
  defaults: SlotTimings,
  listen: string,
  log: Logger,
): Promise<{ server: Server; port: number }> {
  const proto = loadAgentProto();
  const server = new Server();
  server.addService(proto.fleetroll.v1.AgentService.service, agentServiceHandlers(host, defaults, log));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(listen, ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { server, port };
}
