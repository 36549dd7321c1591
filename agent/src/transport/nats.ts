import { headers, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import {
  ERROR_CODE_HEADER,
  ERROR_MESSAGE_HEADER,
  asFleetrollError,
  codecs,
  subjects,
  type AgentMethod,
  type Logger,
  type StepEvent,
} from '@fleetroll/shared';
import type { AgentHandlers } from './handlers.js';

/** NATS headers are single lines and travel with every reply; a runaway message must not bloat them. */
const MAX_ERROR_MESSAGE = 2_000;

export interface NatsAgentService {
  /** Stops answering requests; events of an update in flight still go out. */
  stop(): void;
}

/**
 * NATS only translates, like gRPC: the same handlers, the same protobuf messages.
 * A typed error travels as an empty reply whose headers carry the code and text.
 * UpdateHost is acknowledged once the host accepts it (an empty reply, no error
 * headers); its steps are then published on the rollout's events subject.
 */
export function serveNats(
  nc: NatsConnection,
  hostId: string,
  handlers: AgentHandlers,
  log: Logger,
): NatsAgentService {
  const methods: Record<AgentMethod, (msg: Msg) => Promise<void>> = {
    Describe: async (msg) => {
      msg.respond(codecs.describeResponse.encode(await handlers.describe()));
    },
    PrePull: async (msg) => {
      const result = await handlers.prePull(codecs.prePullRequest.decode(msg.data));
      msg.respond(codecs.prePullResponse.encode(result));
    },
    Abort: async (msg) => {
      const result = await handlers.abort(codecs.abortRequest.decode(msg.data));
      msg.respond(codecs.abortResponse.encode(result));
    },
    UpdateHost: async (msg) => {
      const publish = (e: StepEvent): void =>
        nc.publish(subjects.events(e.rolloutId, e.hostId), codecs.stepEvent.encode(e));
      await handlers.update(codecs.updateHostRequest.decode(msg.data), {
        accepted: () => msg.respond(),
        event: publish,
      });
    },
  };

  const subs: Subscription[] = Object.entries(methods).map(([method, handle]) =>
    nc.subscribe(subjects.agent(hostId, method as AgentMethod), {
      callback: (err, msg) => {
        if (err) {
          log.error({ err, method }, 'NATS subscription failed');
          return;
        }
        // Without a reply subject the caller could never learn whether an update was accepted.
        if (!msg.reply) {
          log.warn({ method, subject: msg.subject }, 'ignored a NATS message without a reply subject');
          return;
        }
        handle(msg).catch((e: unknown) => respondError(msg, e));
      },
    }),
  );

  return {
    stop() {
      for (const sub of subs) sub.unsubscribe();
    },
  };
}

function respondError(msg: Msg, err: unknown): void {
  const error = asFleetrollError(err);
  const h = headers();
  h.set(ERROR_CODE_HEADER, error.code);
  h.set(ERROR_MESSAGE_HEADER, error.message.replace(/[\r\n]+/g, ' ').slice(0, MAX_ERROR_MESSAGE));
  msg.respond(undefined, { headers: h });
}
