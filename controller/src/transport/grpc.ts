import type { ChannelOptions, ServiceError } from '@grpc/grpc-js';
import {
  ConfigError,
  RemoteError,
  asFleetrollError,
  createAgentGrpcClient,
  fromServiceError,
  type AgentServiceClient,
  type FleetrollError,
  type HostDescription,
  type PrePullResult,
  type StepEvent,
  type UpdateHostRequest,
  type msg,
} from '@fleetroll/shared';
import { HOST_END_STEPS, type AgentClient, type AgentDirectory } from './agent-client.js';
import { AgentUnreachableError } from './errors.js';

export interface GrpcTimeouts {
  /** Describe and Abort. */
  requestMs: number;
  /** A pull from a registry can take minutes on a slow link. */
  prePullMs: number;
}

export const DEFAULT_GRPC_TIMEOUTS: GrpcTimeouts = { requestMs: 5_000, prePullMs: 10 * 60_000 };

/**
 * An UpdateHost stream can be quiet for a whole drain, and a machine that loses
 * power sends no RST: HTTP/2 pings every 2 s, each given 2 s to come back, turn
 * a dead peer into a failed stream within about 4 s instead of hanging.
 */
export const AGENT_CHANNEL_OPTIONS: ChannelOptions = {
  'grpc.keepalive_time_ms': 2_000,
  'grpc.keepalive_timeout_ms': 2_000,
  'grpc.keepalive_permit_without_calls': 0,
};

export function connectAgent(address: string): AgentServiceClient {
  return createAgentGrpcClient(address, AGENT_CHANNEL_OPTIONS);
}

export interface GrpcDirectoryOptions {
  timeouts?: Partial<GrpcTimeouts>;
  /** Opens a channel to an address; tests may swap it. */
  connect?: (address: string) => AgentServiceClient;
}

/** Clients for hosts reached over gRPC, one channel per host, addressed by lookup (the inventory's grpc field). */
export class GrpcAgentDirectory implements AgentDirectory {
  readonly transport = 'grpc';
  private readonly clients = new Map<string, GrpcAgentClient>();
  private readonly timeouts: GrpcTimeouts;

  constructor(
    private readonly addressOf: (hostId: string) => string | undefined,
    private readonly opts: GrpcDirectoryOptions = {},
  ) {
    this.timeouts = { ...DEFAULT_GRPC_TIMEOUTS, ...opts.timeouts };
  }

  static fromInventory(
    hosts: readonly { id: string; grpc?: string | undefined }[],
    opts?: GrpcDirectoryOptions,
  ): GrpcAgentDirectory {
    const addresses = new Map(hosts.flatMap((h) => (h.grpc ? [[h.id, h.grpc] as const] : [])));
    return new GrpcAgentDirectory((hostId) => addresses.get(hostId), opts);
  }

  /** Throws ConfigError for a host without an address: there is nothing to connect to. */
  client(hostId: string): AgentClient {
    let client = this.clients.get(hostId);
    if (!client) {
      const address = this.addressOf(hostId);
      if (!address)
        throw new ConfigError(`host ${hostId} has no grpc address (set "grpc:" in the inventory)`);
      client = new GrpcAgentClient(hostId, (this.opts.connect ?? connectAgent)(address), this.timeouts);
      this.clients.set(hostId, client);
    }
    return client;
  }

  async close(): Promise<void> {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}

type Callback<T> = (err: ServiceError | null, res?: T) => void;

export class GrpcAgentClient implements AgentClient {
  constructor(
    readonly hostId: string,
    private readonly grpc: AgentServiceClient,
    private readonly timeouts: GrpcTimeouts = DEFAULT_GRPC_TIMEOUTS,
  ) {}

  describe(): Promise<HostDescription> {
    return this.unary('Describe', (cb) => this.grpc.Describe({}, this.deadline(this.timeouts.requestMs), cb));
  }

  prePull(image: string): Promise<PrePullResult> {
    return this.unary('PrePull', (cb) =>
      this.grpc.PrePull({ image }, this.deadline(this.timeouts.prePullMs), cb),
    );
  }

  async abort(rolloutId: string): Promise<boolean> {
    const res = await this.unary<msg.AbortResponse__Output>('Abort', (cb) =>
      this.grpc.Abort({ rolloutId }, this.deadline(this.timeouts.requestMs), cb),
    );
    return res.accepted;
  }

  /** No deadline: an update lasts as long as its drains; keepalive notices a dead agent. */
  update(request: UpdateHostRequest, onEvent: (event: StepEvent) => void): Promise<StepEvent> {
    return new Promise((resolve, reject) => {
      const call = this.grpc.UpdateHost(request);
      let terminal: StepEvent | undefined;
      let settled = false;
      const finish = (err: FleetrollError | null): void => {
        if (settled) return;
        settled = true;
        if (err) reject(err);
        else if (terminal) resolve(terminal);
        else
          reject(new AgentUnreachableError(`agent ${this.hostId} ended the update stream without a result`));
      };
      call.on('data', (event: StepEvent) => {
        try {
          onEvent(event);
        } catch (e) {
          call.cancel();
          return finish(asFleetrollError(e));
        }
        if (HOST_END_STEPS.has(event.step)) terminal = event;
      });
      call.on('error', (err: ServiceError) => finish(terminal ? null : this.failure(err)));
      call.on('end', () => finish(null));
    });
  }

  close(): void {
    this.grpc.close();
  }

  private deadline(ms: number): { deadline: number } {
    return { deadline: Date.now() + ms };
  }

  private unary<T>(method: string, invoke: (cb: Callback<T>) => void): Promise<T> {
    return new Promise((resolve, reject) =>
      invoke((err, res) => {
        if (err) reject(this.failure(err));
        else if (res) resolve(res);
        else reject(new AgentUnreachableError(`agent ${this.hostId} sent an empty ${method} reply`));
      }),
    );
  }

  /**
   * The agent's typed error when it sent one; otherwise the call broke below
   * fleetroll (connection reset, keepalive timeout, RST_STREAM): the agent is
   * unreachable, whatever status grpc-js picked for it.
   */
  private failure(err: ServiceError): FleetrollError {
    const error = fromServiceError(err);
    if (error instanceof RemoteError && error.code !== 'AGENT_UNREACHABLE') return error;
    const why = err.details || err.message;
    return new AgentUnreachableError(`agent ${this.hostId} unreachable over gRPC: ${why}`, { cause: err });
  }
}
