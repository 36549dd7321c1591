import { Server, type ServerWritableStream } from '@grpc/grpc-js';
import {
  bindServer,
  loadControllerProto,
  parseInput,
  toServiceError,
  unaryHandler,
  type ControllerServiceHandlers,
  type msg,
} from '@fleetroll/shared';

import { z } from 'zod';
import { isTerminal, type ControllerCore } from '../service/controller-core.js';
import { withIncrementalStatuses } from './status-answers.js';

const idSchema = z.strictObject({ rolloutId: z.string().min(1, 'is required') });
const controlSchema = z.strictObject({ rolloutId: z.string().min(1, 'is required'), group: z.string() });

function control(req: unknown, what: string): { id: string; group: string | undefined } {
  const { rolloutId, group } = parseInput(controlSchema, req, what);
  return { id: rolloutId, group: group || undefined };
}

/** Translation only: each call is validated here and handed to ControllerCore. */
function handlers(core: ControllerCore): ControllerServiceHandlers {
  return {
    StartRollout: unaryHandler((req: msg.StartRolloutRequest__Output) => core.start(req)),
    GetRollout: unaryHandler((req: unknown) => core.get(parseInput(idSchema, req, 'GetRollout').rolloutId)),
    ListRollouts: unaryHandler(() => ({ rollouts: core.list() })),
    ListAgents: unaryHandler(async () => ({ agents: await core.agents() })),
    Pause: unaryHandler((req: unknown) => {
      const { id, group } = control(req, 'Pause');
      return core.pause(id, group);
    }),
    Resume: unaryHandler((req: unknown) => {
      const { id, group } = control(req, 'Resume');
      return core.resume(id, group);
    }),
    Abort: unaryHandler((req: unknown) => core.abort(control(req, 'Abort').id)),
    Watch: (call: ServerWritableStream<unknown, msg.RolloutUpdate>) => {
      let off = () => {};
      try {
        const { rolloutId } = parseInput(idSchema, call.request, 'Watch');
        off = core.watch(rolloutId, (status, steps) => {
          if (call.cancelled || !call.writable) return;
          call.write({ status, steps: [...steps] });
          if (isTerminal(status)) {
            off();
            call.end();
          }
        });
      } catch (err) {
        call.emit('error', toServiceError(err));
        return;
      }
      call.on('cancelled', () => off());
    },
  };
}

export async function serveControllerGrpc(
  core: ControllerCore,
  listen: string,
): Promise<{ server: Server; port: number }> {
  const proto = loadControllerProto();
  const server = new Server();
  server.addService(withIncrementalStatuses(proto.fleetroll.v1.ControllerService.service), handlers(core));
  return { server, port: await bindServer(server, listen) };
}
