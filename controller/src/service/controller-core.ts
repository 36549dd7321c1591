import type { InventoryHost, Logger, StepEvent, msg } from '@fleetroll/shared';
import { Rollout } from '../rollout/index.js';
import { parseRolloutSpec } from '../rollout/spec.js';
import type { AgentDirectory } from '../transport/agent-client.js';
import { RolloutConflictError, UnknownRolloutError } from './errors.js';
import { newRolloutId } from './rollout-id.js';

export type Transport = 'nats' | 'grpc';
export type RolloutListener = (status: msg.RolloutStatus__Output, step?: StepEvent) => void;

/** What the core needs from the daemon: where hosts, agents and transports come from. */
export interface ControllerDeps {
  log: Logger;
  defaultTransport: Transport;
  defaults: { hostTimeoutMs: number; maxParallel: number };
  /** The hosts a rollout may touch: the inventory, plus agents registered over NATS. */
  hosts(): Promise<InventoryHost[]>;
  /** Throws TransportUnavailableError when that transport is not configured. */
  directory(transport: Transport, hosts: readonly InventoryHost[]): AgentDirectory;
  agents(): Promise<msg.AgentInfo__Output[]>;
}

const TERMINAL = new Set(['ROLLOUT_SUCCEEDED', 'ROLLOUT_FAILED', 'ROLLOUT_ABORTED', 'ROLLOUT_ROLLED_BACK']);

export function isTerminal(status: msg.RolloutStatus__Output): boolean {
  return TERMINAL.has(status.state);
}

/**
 * The controller's API without any wire: the gRPC service and the HTTP dashboard
 * both call this. One rollout runs at a time, so two releases never race for a slot.
 */
export class ControllerCore {
  private readonly rollouts = new Map<string, Rollout>();

  constructor(private readonly deps: ControllerDeps) {}

  async start(request: msg.StartRolloutRequest__Output): Promise<msg.RolloutStatus__Output> {
    const running = [...this.rollouts.values()].find((r) => !isTerminal(r.status()));
    if (running) {
      throw new RolloutConflictError(
        `rollout ${running.id} is still ${running.status().state.replace('ROLLOUT_', '').toLowerCase()}; ` +
          `abort it or let it finish first`,
      );
    }
    const spec = parseRolloutSpec(request, {
      id: newRolloutId(),
      defaultTransport: this.deps.defaultTransport,
      defaults: this.deps.defaults,
    });
    const hosts = await this.deps.hosts();
    const directory = this.deps.directory(spec.transport ?? this.deps.defaultTransport, hosts);
    const log = this.deps.log.child({ rolloutId: spec.id });
    const rollout = new Rollout(spec, hosts, directory, log);
    this.rollouts.set(rollout.id, rollout);
    log.info({ image: spec.image, transport: spec.transport }, 'rollout started');
    rollout
      .run()
      .then((status) => log.info({ state: status.state }, `rollout ended: ${status.message || status.state}`))
      .catch((err: unknown) => log.error({ err }, 'rollout crashed'))
      .finally(() => void directory.close());
    return rollout.status();
  }

  get(id: string): msg.RolloutStatus__Output {
    return this.find(id).status();
  }

  /** Newest first. */
  list(): msg.RolloutStatus__Output[] {
    return [...this.rollouts.values()].map((r) => r.status()).sort((a, b) => b.createdAtMs - a.createdAtMs);
  }

  pause(id: string, group?: string): msg.RolloutStatus__Output {
    return this.find(id).pause(group);
  }

  resume(id: string, group?: string): msg.RolloutStatus__Output {
    return this.find(id).resume(group);
  }

  abort(id: string): msg.RolloutStatus__Output {
    return this.find(id).abort();
  }

  /** Calls listener with the status now and after every change; returns the unsubscribe function. */
  watch(id: string, listener: RolloutListener): () => void {
    const rollout = this.find(id);
    const off = rollout.onChange(listener);
    listener(rollout.status());
    return off;
  }

  agents(): Promise<msg.AgentInfo__Output[]> {
    return this.deps.agents();
  }

  private find(id: string): Rollout {
    const rollout = this.rollouts.get(id);
    if (!rollout) throw new UnknownRolloutError(`no rollout ${id} on this controller`);
    return rollout;
  }
}
