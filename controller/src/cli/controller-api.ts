import type { CallOptions, ServiceError } from '@grpc/grpc-js';
import {
  createControllerGrpcClient,
  fromServiceError,
  RemoteError,
  type ControllerServiceClient,
  type msg,
} from '@fleetroll/shared';

export const DEFAULT_CONTROLLER = process.env['FLEETROLL_CONTROLLER'] ?? '127.0.0.1:7000';

type Status = msg.RolloutStatus__Output;

/** The controller's gRPC API as the CLI uses it: promises, typed errors, a deadline on every call. */
export class ControllerApi {
  private readonly client: ControllerServiceClient;

  constructor(readonly address: string) {
    this.client = createControllerGrpcClient(address);
  }

  start(req: msg.StartRolloutRequest): Promise<Status> {
    return this.unary((o, cb) => this.client.StartRollout(req, o, cb));
  }
  get(rolloutId: string): Promise<Status> {
    return this.unary((o, cb) => this.client.GetRollout({ rolloutId }, o, cb));
  }
  list(): Promise<msg.ListRolloutsResponse__Output> {
    return this.unary((o, cb) => this.client.ListRollouts({}, o, cb));
  }
  pause(rolloutId: string, group = ''): Promise<Status> {
    return this.unary((o, cb) => this.client.Pause({ rolloutId, group }, o, cb));
  }
  resume(rolloutId: string, group = ''): Promise<Status> {
    return this.unary((o, cb) => this.client.Resume({ rolloutId, group }, o, cb));
  }
  abort(rolloutId: string): Promise<Status> {
    return this.unary((o, cb) => this.client.Abort({ rolloutId, group: '' }, o, cb));
  }
  agents(): Promise<msg.ListAgentsResponse__Output> {
    return this.unary((o, cb) => this.client.ListAgents({}, o, cb));
  }

  /** Every update until the rollout ends, or until onUpdate returns false. */
  watch(rolloutId: string, onUpdate: (update: msg.RolloutUpdate__Output) => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      let stopped = false;
      const stream = this.client.Watch({ rolloutId });
      stream.on('data', (update: msg.RolloutUpdate__Output) => {
        if (stopped || onUpdate(update)) return;
        stopped = true;
        stream.cancel();
        resolve();
      });
      stream.on('error', (err: ServiceError) => (stopped ? undefined : reject(this.explain(err))));
      stream.on('end', () => resolve());
    });
  }

  close(): void {
    this.client.close();
  }

  private unary<T>(
    invoke: (options: CallOptions, cb: (err: ServiceError | null, res?: T) => void) => unknown,
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      invoke({ deadline: Date.now() + 15_000 }, (err, res) => {
        if (err) reject(this.explain(err));
        else if (res === undefined) reject(new RemoteError('INTERNAL', 'the controller sent an empty reply'));
        else resolve(res);
      });
    });
  }

  private explain(err: ServiceError) {
    const error = fromServiceError(err);
    if (error.code !== 'AGENT_UNREACHABLE') return error;
    return new RemoteError(
      'CONTROLLER_UNREACHABLE',
      `cannot reach the controller at ${this.address}: ${err.details}`,
      {
        cause: err,
      },
    );
  }
}
