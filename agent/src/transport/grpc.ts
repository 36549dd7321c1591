import { Server, type ServerWritableStream } from '@grpc/grpc-js';
import {
  bindServer,
  loadAgentProto,
  toServiceError,
  unaryHandler,
  type AgentServiceHandlers,
  type StepEvent,
} from '@fleetroll/shared';
import type { AgentHandlers } from './handlers.js';

/** gRPC only translates: handlers.ts validates and calls HostAgent; this maps results and errors onto the wire. */
export function agentServiceHandlers(handlers: AgentHandlers): AgentServiceHandlers {
  return {
    Describe: unaryHandler(() => handlers.describe()),
    PrePull: unaryHandler((req: unknown) => handlers.prePull(req)),
    Abort: unaryHandler((req: unknown) => handlers.abort(req)),
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
  return { server, port: await bindServer(server, listen) };
}
