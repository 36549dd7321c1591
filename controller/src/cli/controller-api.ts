import type { CallOptions, ServiceError } from '@grpc/grpc-js';
import {
  createControllerGrpcClient,
  fromServiceError,
  InvalidInputError,
  RemoteError,
  type ControllerServiceClient,
  type FleetrollError,
  type msg,
} from '@fleetroll/shared';

export const DEFAULT_CONTROLLER = process.env['FLEETROLL_CONTROLLER'] ?? '127.0.0.1:7000';

type Status = msg.RolloutStatus__Output;
type Callback<T> = (err: ServiceError | null, res?: T) => void;

interface Endpoint {
  address: string;
  client: ControllerServiceClient;
}

/** Another controller of the list may answer: this one is gone, or stands by while another leads. */
const tryNext = (err: FleetrollError) => err.code === 'CONTROLLER_UNREACHABLE' || err.code === 'NOT_LEADER';

/**
 * The controller's gRPC API as the CLI uses it: promises, typed errors, a deadline on every call.
 * `address` is one controller or a comma-separated list (the leader and its standbys): a call goes
 * to the one that answered last, and on to the next when that one is gone or only stands by.
 */
export class ControllerApi {
  private readonly endpoints: Endpoint[];
  private current = 0;

  constructor(readonly address: string) {
    const addresses = address.split(',').map((a) => a.trim());
    if (addresses.some((a) => a === ''))
      throw new InvalidInputError(
        `--controller: "${address}" is not host:port or a comma-separated list of them`,
      );
    this.endpoints = addresses.map((a) => ({ address: a, client: createControllerGrpcClient(a) }));
  }

  start(req: msg.StartRolloutRequest): Promise<Status> {
    return this.unary((c, o, cb) => c.StartRollout(req, o, cb));
  }
  get(rolloutId: string): Promise<Status> {
    return this.unary((c, o, cb) => c.GetRollout({ rolloutId }, o, cb));
  }
  list(): Promise<msg.ListRolloutsResponse__Output> {
    return this.unary((c, o, cb) => c.ListRollouts({}, o, cb));
  }
  pause(rolloutId: string, group = ''): Promise<Status> {
    return this.unary((c, o, cb) => c.Pause({ rolloutId, group }, o, cb));
  }
  resume(rolloutId: string, group = ''): Promise<Status> {
    return this.unary((c, o, cb) => c.Resume({ rolloutId, group }, o, cb));
  }
  abort(rolloutId: string): Promise<Status> {
    return this.unary((c, o, cb) => c.Abort({ rolloutId, group: '' }, o, cb));
  }
  agents(): Promise<msg.ListAgentsResponse__Output> {
    return this.unary((c, o, cb) => c.ListAgents({}, o, cb));
  }

  /**
   * Every update until the rollout ends, or until onUpdate returns false. A standby serves it too;
   * a stream that breaks leaves the next call to the next controller of the list.
   */
  watch(rolloutId: string, onUpdate: (update: msg.RolloutUpdate__Output) => boolean): Promise<void> {
    const endpoint = this.endpoints[this.current]!;
    return new Promise((resolve, reject) => {
      let stopped = false;
      const stream = endpoint.client.Watch({ rolloutId });
      stream.on('data', (update: msg.RolloutUpdate__Output) => {
        if (stopped || onUpdate(update)) return;
        stopped = true;
        stream.cancel();
        resolve();
      });
      stream.on('error', (err: ServiceError) => {
        if (stopped) return;
        const error = explain(endpoint, err);
        if (tryNext(error)) this.current = (this.current + 1) % this.endpoints.length;
        reject(error);
      });
      stream.on('end', () => resolve());
    });
  }

  close(): void {
    for (const { client } of this.endpoints) client.close();
  }

  /** Each controller of the list at most once, from the one that answered last. */
  private async unary<T>(
    invoke: (client: ControllerServiceClient, options: CallOptions, cb: Callback<T>) => unknown,
  ): Promise<T> {
    let failure: FleetrollError | undefined;
    for (let tried = 0; tried < this.endpoints.length; tried++) {
      const at = (this.current + tried) % this.endpoints.length;
      try {
        const res = await call(this.endpoints[at]!, invoke);
        this.current = at;
        return res;
      } catch (err) {
        failure = err as FleetrollError;
        if (!tryNext(failure)) throw failure;
      }
    }
    throw failure;
  }
}

function call<T>(
  endpoint: Endpoint,
  invoke: (client: ControllerServiceClient, options: CallOptions, cb: Callback<T>) => unknown,
): Promise<T> {
  return new Promise((resolve, reject) => {
    invoke(endpoint.client, { deadline: Date.now() + 15_000 }, (err, res) => {
      if (err) reject(explain(endpoint, err));
      else if (res === undefined) reject(new RemoteError('INTERNAL', 'the controller sent an empty reply'));
      else resolve(res);
    });
  });
}

function explain(endpoint: Endpoint, err: ServiceError): FleetrollError {
  const error = fromServiceError(err);
  if (error.code !== 'AGENT_UNREACHABLE') return error;
  return new RemoteError(
    'CONTROLLER_UNREACHABLE',
    `cannot reach the controller at ${endpoint.address}: ${err.details}`,
    { cause: err },
  );
}

/** One CLI command's use of the controller: the connections are closed however it ends. */
export async function withApi<T>(address: string, use: (api: ControllerApi) => Promise<T>): Promise<T> {
  const api = new ControllerApi(address);
  try {
    return await use(api);
  } finally {
    api.close();
  }
}
