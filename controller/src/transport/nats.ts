import { setTimeout as sleep } from 'node:timers/promises';
import {
  RequestError,
  TimeoutError,
  type Msg,
  type NatsConnection,
  type Payload,
} from '@nats-io/transport-node';
import {
  ERROR_CODE_HEADER,
  ERROR_MESSAGE_HEADER,
  FleetrollError,
  RemoteError,
  asFleetrollError,
  codecs,
  parseInput,
  updateHostRequestSchema,
  subjects,
  type AgentMethod,
  type Codec,
  type HostDescription,
  type Logger,
  type PrePullResult,
  type StepEvent,
  type UpdateHostRequest,
} from '@fleetroll/shared';
import { HOST_END_STEPS, type AgentClient, type AgentDirectory } from './agent-client.js';
import { AgentUnreachableError, DuplicateHostIdError } from './errors.js';
import { onReconnect } from './nats-reconnects.js';
import type { DeadListener } from './registry.js';

const ROLLOUT_ID_ONLY = updateHostRequestSchema.pick({ rolloutId: true });
/** An end already on its way arrives before the Describe reply that says the update is over. */
const LOST_END_GRACE_MS = 200;
/** After a reconnect the agent may not be back on NATS yet: asked this many times, a second apart. */
const LOST_END_ASKS = 10;

export interface NatsTimeouts {
  /** Describe and Abort: the agent answers from memory and a socket or two. */
  requestMs: number;
  /** A pull from a registry can take minutes on a slow link. */
  prePullMs: number;
  /** UpdateHost until the agent accepts it: its preflight inspects every slot. */
  acceptMs: number;
}

export const DEFAULT_NATS_TIMEOUTS: NatsTimeouts = {
  requestMs: 5_000,
  prePullMs: 10 * 60_000,
  acceptMs: 30_000,
};

/** What the clients need from the registry: word that a host died, whether it beats now, and whether it is two. */
export interface Liveness {
  onDead(hostId: string, cb: DeadListener): () => void;
  isAlive?(hostId: string): boolean;
  /** Why two agents seem to share the host id, while they do. */
  conflict?(hostId: string): string | undefined;
  /** Why a restart cannot yet be told from a second agent under the host id (see AgentClient.settling). */
  unsettled?(hostId: string): string | undefined;
}

export interface NatsDirectoryOptions {
  log: Logger;
  timeouts?: Partial<NatsTimeouts>;
}

/** Clients for hosts reached over NATS; the connection and the registry belong to the caller. */
export class NatsAgentDirectory implements AgentDirectory {
  readonly transport = 'nats';
  private readonly clients = new Map<string, NatsAgentClient>();
  private readonly timeouts: NatsTimeouts;

  constructor(
    private readonly nc: NatsConnection,
    private readonly liveness: Liveness,
    private readonly opts: NatsDirectoryOptions,
  ) {
    this.timeouts = { ...DEFAULT_NATS_TIMEOUTS, ...opts.timeouts };
  }

  client(hostId: string): AgentClient {
    let client = this.clients.get(hostId);
    if (!client) {
      client = new NatsAgentClient(hostId, this.nc, this.liveness, this.timeouts, this.opts.log);
      this.clients.set(hostId, client);
    }
    return client;
  }

  async close(): Promise<void> {
    this.clients.clear();
  }
}

/**
 * Request-reply for the unary calls; UpdateHost is a request acknowledged on
 * acceptance, then StepEvents on the rollout's events subject. Every call also
 * ends when the registry says the host died, so a vanished agent fails its call
 * within seconds instead of at a timeout measured in minutes (or never).
 */
export class NatsAgentClient implements AgentClient {
  constructor(
    readonly hostId: string,
    private readonly nc: NatsConnection,
    private readonly liveness: Liveness,
    private readonly timeouts: NatsTimeouts,
    private readonly log: Logger,
  ) {}

  describe(): Promise<HostDescription> {
    return this.call('Describe', undefined, this.timeouts.requestMs, codecs.describeResponse);
  }

  isAlive(): boolean {
    return this.liveness.isAlive?.(this.hostId) ?? true;
  }

  settling(): string | undefined {
    return this.liveness.unsettled?.(this.hostId);
  }

  prePull(image: string): Promise<PrePullResult> {
    const payload = codecs.prePullRequest.encode({ image });
    return this.call('PrePull', payload, this.timeouts.prePullMs, codecs.prePullResponse);
  }

  async abort(rolloutId: string): Promise<boolean> {
    const payload = codecs.abortRequest.encode({ rolloutId });
    return (await this.call('Abort', payload, this.timeouts.requestMs, codecs.abortResponse)).accepted;
  }

  async update(request: UpdateHostRequest, onEvent: (event: StepEvent) => void): Promise<StepEvent> {
    // The events subject is built from the id, so it must be checked here (in the
    // agent's words); the agent checks the rest.
    const { rolloutId } = parseInput(ROLLOUT_ID_ONLY, { rolloutId: request.rolloutId }, 'UpdateHost');
    this.refuseTwo('UpdateHost');
    const settling = this.settling();
    if (settling) throw new AgentUnreachableError(`agent ${this.hostId}: ${settling} (UpdateHost not sent)`);
    return new Promise<StepEvent>((resolve, reject) => {
      let settled = false;
      let accepted = false;
      const finish = (err: FleetrollError | null, terminal?: StepEvent): void => {
        if (settled) return;
        settled = true;
        sub.unsubscribe();
        stopWatching();
        stopReconnects();
        if (terminal) resolve(terminal);
        else reject(err ?? new AgentUnreachableError(`agent ${this.hostId}: update ended without a result`));
      };
      // Subscribed before the request goes out, so that no step can be missed.
      const sub = this.nc.subscribe(subjects.events(rolloutId, this.hostId), {
        callback: (err, msg) => {
          if (err) return finish(this.unreachable('UpdateHost', err));
          const event = this.decodeEvent(msg, rolloutId);
          if (!event) return;
          try {
            onEvent(event);
          } catch (e) {
            return finish(asFleetrollError(e));
          }
          if (HOST_END_STEPS.has(event.step)) finish(null, event);
        },
      });
      const stopWatching = this.liveness.onDead(this.hostId, (_host, reason) =>
        finish(this.deadError('the update', reason)),
      );
      const stopReconnects = onReconnect(this.nc, () => {
        if (!accepted) return;
        void this.endLost(rolloutId, () => settled).then((lost) => {
          if (!lost) return;
          const why = 'its end was lost while NATS reconnected (the agent no longer runs it)';
          finish(new AgentUnreachableError(`agent ${this.hostId}: ${why}`));
        });
      });
      this.nc
        .request(this.subject('UpdateHost'), codecs.updateHostRequest.encode(request), {
          timeout: this.timeouts.acceptMs,
        })
        .then(
          (reply) => {
            try {
              this.checkReply(reply, 'UpdateHost');
              accepted = true;
            } catch (e) {
              finish(asFleetrollError(e));
            }
          },
          (err: unknown) => finish(this.unreachable('UpdateHost', err, this.timeouts.acceptMs)),
        );
    });
  }

  /**
   * Events are core NATS: those sent while this connection was reconnecting are gone, the update's
   * end among them. An agent that no longer runs the update when its end has not come means the end
   * was lost, and the caller (told AGENT_UNREACHABLE) may ask again: UpdateHost is idempotent.
   */
  private async endLost(rolloutId: string, settled: () => boolean): Promise<boolean> {
    for (let ask = 0; ask < LOST_END_ASKS && !settled(); ask++) {
      try {
        if ((await this.describe()).activeRolloutId === rolloutId) return false;
        await sleep(LOST_END_GRACE_MS);
        return !settled();
      } catch {
        await sleep(1_000);
      }
    }
    return false;
  }

  private async call<T>(
    method: AgentMethod,
    payload: Payload | undefined,
    timeoutMs: number,
    codec: Codec<unknown, T>,
  ): Promise<T> {
    // Abort only stops an update at a slot boundary: both agents stopping is what is wanted then.
    if (method !== 'Abort') this.refuseTwo(method);
    let stopWatching = (): void => undefined;
    const dead = new Promise<never>((_, reject) => {
      stopWatching = this.liveness.onDead(this.hostId, (_host, reason) =>
        reject(this.deadError(method, reason)),
      );
    });
    const reply = this.nc
      .request(this.subject(method), payload, { timeout: timeoutMs })
      .catch((err: unknown) => Promise.reject(this.unreachable(method, err, timeoutMs)));
    try {
      return codec.decode(this.checkReply(await Promise.race([reply, dead]), method).data);
    } finally {
      stopWatching();
    }
  }

  /** Nothing goes to a host id two agents answer to: both would act on it. */
  private refuseTwo(method: AgentMethod): void {
    const conflict = this.liveness.conflict?.(this.hostId);
    if (conflict) throw new DuplicateHostIdError(`${conflict} (${method} not sent)`);
  }

  /** Two agents under one id look like one agent dying again and again: say which it is. */
  private deadError(during: string, reason: string): FleetrollError {
    const conflict = this.liveness.conflict?.(this.hostId);
    if (conflict) return new DuplicateHostIdError(`${conflict} (found during ${during})`);
    return new AgentUnreachableError(`agent ${this.hostId} vanished during ${during}: ${reason}`);
  }

  private subject(method: AgentMethod): string {
    return subjects.agent(this.hostId, method);
  }

  private checkReply(reply: Msg, method: AgentMethod): Msg {
    const code = reply.headers?.get(ERROR_CODE_HEADER);
    if (code) {
      const message = reply.headers?.get(ERROR_MESSAGE_HEADER) || `agent ${this.hostId} refused ${method}`;
      throw new RemoteError(code, message);
    }
    return reply;
  }

  private decodeEvent(msg: Msg, rolloutId: string): StepEvent | undefined {
    try {
      const event = codecs.stepEvent.decode(msg.data);
      if (event.hostId === this.hostId && event.rolloutId === rolloutId) return event;
      this.log.warn({ subject: msg.subject, hostId: event.hostId }, 'ignored a step event of another update');
    } catch (err) {
      this.log.warn({ subject: msg.subject, err }, 'ignored a step event that does not decode');
    }
    return undefined;
  }

  private unreachable(method: AgentMethod, err: unknown, timeoutMs?: number): FleetrollError {
    if (err instanceof FleetrollError) return err;
    if (err instanceof RequestError && err.isNoResponders()) {
      return new AgentUnreachableError(`no agent answers for host ${this.hostId} on NATS (${method})`, {
        cause: err,
      });
    }
    if (err instanceof TimeoutError) {
      return new AgentUnreachableError(
        `agent ${this.hostId} did not answer ${method} within ${timeoutMs} ms`,
        {
          cause: err,
        },
      );
    }
    const text = err instanceof Error ? err.message : String(err);
    return new AgentUnreachableError(`${method} to agent ${this.hostId} over NATS failed: ${text}`, {
      cause: err,
    });
  }
}
