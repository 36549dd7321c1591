import type { Server } from '@grpc/grpc-js';
import { ServerCredentials, type sendUnaryData } from '@grpc/grpc-js';
import { toServiceError } from './grpc-errors.js';

/** Adapts a promise-returning function to grpc-js's callback style, errors mapped to statuses. */
export function unaryHandler<Req, Res>(fn: (request: Req) => Promise<Res> | Res) {
  return (call: { request: Req }, callback: sendUnaryData<Res>): void => {
    Promise.resolve()
      .then(() => fn(call.request))
      .then(
        (res) => callback(null, res),
        (err: unknown) => callback(toServiceError(err)),
      );
  };
}

/** Binds a server on host:port (port 0 picks a free one) and says which port it got. */
export async function bindServer(server: Server, listen: string): Promise<number> {
  return new Promise<number>((resolve, reject) =>
    server.bindAsync(listen, ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve(port),
    ),
  );
}
