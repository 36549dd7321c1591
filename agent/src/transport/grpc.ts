import { Server, ServerCredentials, type ServerWritableStream, type sendUnaryData } from '@grpc/grpc-js';
import { loadAgentProto, toServiceError, type AgentServiceHandlers, type StepEvent } from '@fleetroll/shared';
import type { AgentHandlers } from './handlers.js';

/** gRPC only translates: handlers.ts validates and calls HostAgent; this maps results and errors onto the wire. */
export function agentServiceHandlers(handlers: AgentHandlers): AgentServiceHandlers {
  const unary =
    <Res>(fn: (req: unknown) => Promise<Res>) =>
    (call: { request: unknown }, callback: sendUnaryData<Res>): void => {
      fn(call.request).then(
        (res) => callback(null, res),
        (err: unknown) => callback(toServiceError(err)),
      );
    };

  return {
    Describe: unary(() => handlers.describe()),
    PrePull: unary((req) => handlers.prePull(req)),
    Abort: unary((req) => handlers.abort(req)),
    UpdateHost: (call: ServerWritableStream<unknown, StepEvent>) => {
      // A controller that goes away does not stop the update: the host must not be left mid-slot.
      const event = (e: StepEvent): void => {
        if (!call.cancelled && call.writable) call.write(e);
      };
      handlers.update(call.request, { accepted: () => undefined, event }).then(
        () => call.end(),
        (err: unknown) => call.emit('error', toServiceError(err)),
      );
    },
  };
}

export async function serveGrpc(
  handlers: AgentHandlers,
  listen: string,
): Promise<{ server: Server; port: number }> {
  const proto = loadAgentProto();
  const server = new Server();
  server.addService(proto.fleetroll.v1.AgentService.service, agentServiceHandlers(handlers));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(listen, ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { server, port };
}
