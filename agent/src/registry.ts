import { jetstream } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { AGENT_REGISTRY_BUCKET, codecs, type Logger, type msg } from '@fleetroll/shared';

export interface RegistrationInfo {
  hostId: string;
  groups: string[];
  grpcAddress: string;
  version: string;
  heartbeatMs: number;
  /** Read at every beat, so the controller sees which rollout the host is busy with. */
  activeRolloutId: () => string;
  /** Read at every beat: what keeps the agent from doing its best, for `fleetroll agents`. */
  warnings: () => string[];
}

/** The parts of a KV bucket a registration uses: the real one, or a fake in tests. */
export type RegistryBucket = Pick<KV, 'put' | 'delete'>;

/**
 * Opens the registry bucket, creating it when this is the first agent (one value
 * per key: the latest beat; `replicas` copies, 3 on a cluster so that losing a
 * node loses no registration). A put stuck in a NATS outage would hold back the
 * beats after it, so JetStream calls give up after about one beat.
 */
export async function openRegistryBucket(
  nc: NatsConnection,
  heartbeatMs: number,
  replicas = 1,
): Promise<RegistryBucket> {
  const js = jetstream(nc, { timeout: Math.min(5_000, Math.max(1_000, heartbeatMs)) });
  return new Kvm(js).create(AGENT_REGISTRY_BUCKET, { history: 1, replicas });
}

/**
 * Keeps this agent's registration fresh in the registry bucket. NATS going away
 * must not stop the agent: a beat that fails (bucket not reachable, connection
 * down) is logged once and retried at the next beat, forever, until stop().
 */
export class Registrar {
  private readonly startedAtMs = Date.now();
  private bucket: RegistryBucket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> = Promise.resolve();
  private failing = false;
  private stopped = false;

  constructor(
    private readonly open: () => Promise<RegistryBucket>,
    private readonly info: RegistrationInfo,
    private readonly log: Logger,
  ) {}

  /** Resolves after the first beat, registered or not: the agent serves either way. */
  async start(): Promise<void> {
    await this.beat();
  }

  /** Removes the registration, so the controller sees a clean goodbye instead of a silence. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.beating;
    try {
      await this.bucket?.delete(this.info.hostId);
    } catch (err) {
      this.log.warn({ err }, 'could not remove the registration; it will look dead to the controller');
    }
  }

  private beat(): Promise<void> {
    const started = Date.now();
    this.beating = this.put().finally(() => {
      if (this.stopped) return;
      const wait = Math.max(0, this.info.heartbeatMs - (Date.now() - started));
      this.timer = setTimeout(() => void this.beat(), wait);
    });
    return this.beating;
  }

  private async put(): Promise<void> {
    try {
      this.bucket ??= await this.open();
      await this.bucket.put(this.info.hostId, codecs.agentRegistration.encode(this.value()));
      if (this.failing) this.log.info('registered again');
      this.failing = false;
    } catch (err) {
      // Logged on the first failure only: a NATS outage would otherwise log every beat.
      if (!this.failing) this.log.warn({ err }, 'heartbeat failed; retrying every beat');
      this.failing = true;
      // A NATS server that came back with an empty store has no bucket: make it again.
      this.bucket = undefined;
    }
  }

  private value(): msg.AgentRegistration {
    const { hostId, groups, grpcAddress, version } = this.info;
    return {
      hostId,
      groups,
      grpcAddress,
      version,
      startedAtMs: this.startedAtMs,
      heartbeatAtMs: Date.now(),
      activeRolloutId: this.info.activeRolloutId(),
      warnings: this.info.warnings(),
    };
  }
}
