import { setTimeout as sleep } from 'node:timers/promises';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { AGENT_REGISTRY_BUCKET, codecs, type Logger, type msg } from '@fleetroll/shared';

/** One change of the registry bucket, as the watch delivers it. */
export interface RegistryEntry {
  key: string;
  operation: 'PUT' | 'DEL' | 'PURGE';
  value: Uint8Array;
  /** When the server stored it. */
  createdMs: number;
  /** False while the watch replays what was stored before it started. */
  isUpdate: boolean;
}

export interface RegistryWatch {
  entries: AsyncIterable<RegistryEntry>;
  stop(): void;
}

/** Starts a watch of the bucket; called again whenever a watch ends (e.g. NATS lost). */
export type RegistrySource = () => Promise<RegistryWatch>;

export interface AgentRegistryOptions {
  log: Logger;
  /** A host whose last heartbeat is older than this is dead. */
  deadAfterMs?: number;
  sweepMs?: number;
  /** Pause before watching again after a watch ended or failed. */
  rewatchMs?: number;
  now?: () => number;
  /** Replicas of the bucket when this process creates it (see natsConfigSchema.kvReplicas). */
  kvReplicas?: number;
}

/** Why a host is considered dead; ends up in the AGENT_UNREACHABLE message. */
export type DeadListener = (hostId: string, reason: string) => void;

interface Host {
  registration: msg.AgentRegistration__Output;
  lastSeenMs: number;
  /** As of the last sweep or change: an alive → dead transition fires listeners once. */
  alive: boolean;
  /** The agents this one replaced under the host id: start time → when last heard. */
  replaced: Map<number, number>;
  /** Two agents kept registering under this host id, as the operator reads it, and when last seen so. */
  conflict?: { reason: string; seenMs: number };
}

interface Waiter {
  hostId: string;
  armedAtMs: number;
  cb: DeadListener;
}

export const DEFAULT_DEAD_AFTER_MS = 3_000;

/**
 * Who is alive, from the heartbeats agents keep in the registry KV bucket.
 * Liveness comes from the age of the last heartbeat as this process saw it:
 * nats-server 2.9 sends nothing when a value expires, and a SIGKILLed agent
 * cannot say goodbye. A deleted key (graceful stop) is a death at once.
 */
export class AgentRegistry {
  private readonly hosts = new Map<string, Host>();
  private readonly waiters = new Set<Waiter>();
  private readonly anyDead = new Set<DeadListener>();
  private readonly deadAfterMs: number;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly closing = new AbortController();
  private sweeper: NodeJS.Timeout | undefined;
  private watch: RegistryWatch | undefined;
  private watching: Promise<void> = Promise.resolve();
  private rewatchedAtMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly source: RegistrySource,
    private readonly opts: AgentRegistryOptions,
  ) {
    this.deadAfterMs = opts.deadAfterMs ?? DEFAULT_DEAD_AFTER_MS;
    this.now = opts.now ?? Date.now;
    this.log = opts.log;
  }

  /** Watches the registry bucket on nc, creating the bucket when no agent has yet. */
  static async start(nc: NatsConnection, opts: AgentRegistryOptions): Promise<AgentRegistry> {
    const registry = new AgentRegistry(kvSource(nc, opts.kvReplicas ?? 1), opts);
    await registry.start();
    // A watch does not notice that the server it reconnected to lost the bucket
    // (restarted with an empty store): it just goes quiet, and every host would
    // look dead. Watching afresh after each reconnect costs one replay.
    void (async () => {
      // Ends with the connection, or at the first status after close().
      for await (const s of nc.status()) {
        if (registry.closing.signal.aborted) break;
        if (s.type === 'reconnect') registry.rewatch();
      }
    })();
    return registry;
  }

  /** Rejects when the first watch cannot be set up (no JetStream, say); later failures are retried. */
  async start(): Promise<void> {
    const first = await this.source();
    const sweepMs = this.opts.sweepMs ?? Math.max(50, Math.min(500, this.deadAfterMs / 6));
    this.sweeper = setInterval(() => this.sweep(), sweepMs);
    this.watching = this.watchLoop(first);
  }

  async close(): Promise<void> {
    this.closing.abort();
    clearInterval(this.sweeper);
    this.watch?.stop();
    await this.watching;
  }

  /** Ends the current watch; the watch loop starts a new one, which replays every key. */
  rewatch(): void {
    this.watch?.stop();
  }

  isAlive(hostId: string): boolean {
    const host = this.hosts.get(hostId);
    return host !== undefined && this.now() - host.lastSeenMs <= this.deadAfterMs;
  }

  registration(hostId: string): msg.AgentRegistration__Output | undefined {
    return this.hosts.get(hostId)?.registration;
  }

  list(): msg.AgentInfo__Output[] {
    return [...this.hosts.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([hostId, { registration: r, lastSeenMs }]) => ({
        hostId,
        groups: r.groups,
        grpcAddress: r.grpcAddress,
        version: r.version,
        lastSeenMs,
        alive: this.isAlive(hostId),
        activeRolloutId: r.activeRolloutId,
        sources: ['nats'],
        warnings: [this.conflict(hostId) ?? [], r.warnings].flat(),
      }));
  }

  /**
   * Calls cb once when the host is dead: it goes silent, deregisters, or is not
   * heard from within deadAfterMs of this call. Returns the cancel function.
   */
  onDead(hostId: string, cb: DeadListener): () => void {
    const waiter = { hostId, armedAtMs: this.now(), cb };
    this.waiters.add(waiter);
    return () => this.waiters.delete(waiter);
  }

  /** Calls cb whenever a live host goes silent or deregisters. */
  onAnyDead(cb: DeadListener): () => void {
    this.anyDead.add(cb);
    return () => this.anyDead.delete(cb);
  }

  /** Applies one change of the bucket; the watch calls it, and so do tests. */
  apply(entry: RegistryEntry): void {
    if (entry.operation !== 'PUT') {
      const wasAlive = this.hosts.get(entry.key)?.alive ?? false;
      this.hosts.delete(entry.key);
      this.died(entry.key, 'the agent deregistered (stopped)', wasAlive);
      return;
    }
    let registration: msg.AgentRegistration__Output;
    try {
      registration = codecs.agentRegistration.decode(entry.value);
    } catch (err) {
      this.log.warn({ key: entry.key, err }, 'ignored a registry value that is not an AgentRegistration');
      return;
    }
    if (registration.hostId !== entry.key) {
      this.log.warn(
        { key: entry.key, hostId: registration.hostId },
        'ignored a registration under another key',
      );
      return;
    }
    const now = this.now();
    const previous = this.hosts.get(entry.key);
    // A watch's replay may bring back the value of an agent already replaced (a server that came
    // back without the newest): stale, not a sign that the old process runs.
    if (!entry.isUpdate && previous?.replaced.has(registration.startedAtMs)) return;
    const replaced = this.stillHeard(previous?.replaced ?? new Map<number, number>(), now);
    let conflict = previous?.conflict;
    if (previous && previous.registration.startedAtMs !== registration.startedAtMs) {
      replaced.set(previous.registration.startedAtMs, previous.lastSeenMs);
      // An agent heard again after another registered: two processes share the host id.
      if (replaced.has(registration.startedAtMs)) {
        const found = !this.conflictOf(previous, now);
        const reason = conflictReason(entry.key, registration, previous.registration);
        conflict = { reason, seenMs: now };
        if (found) {
          this.log.error({ hostId: entry.key }, conflict.reason);
          this.tell(entry.key, conflict.reason, previous.alive);
        }
      } else if (previous.alive) {
        // A new process under the same host id: whatever the old one had accepted died
        // with it, even when the new one beats before the old one's silence is noticed.
        previous.alive = false;
        this.died(entry.key, 'the agent restarted (a new process registered)', true);
      }
    }
    // A replayed value is as old as the server says (a long-dead agent must not
    // look alive after a controller restart); never older than what we saw.
    const seenMs = entry.isUpdate ? now : Math.min(now, entry.createdMs);
    const lastSeenMs = Math.max(previous?.lastSeenMs ?? 0, seenMs);
    const alive = now - lastSeenMs <= this.deadAfterMs;
    if (alive && !previous?.alive && !conflict) this.log.info({ hostId: entry.key }, 'agent alive');
    this.hosts.set(entry.key, { registration, lastSeenMs, alive, replaced, conflict });
  }

  /**
   * Set while two agents register as the host (say, agent.yml copied to another machine without
   * changing hostId): both would take every command sent to it over NATS. Cleared once only one
   * has been heard for a few heartbeats' worth of time.
   */
  conflict(hostId: string): string | undefined {
    const host = this.hosts.get(hostId);
    return host && this.conflictOf(host, this.now());
  }

  /**
   * Set while a new process has registered under the host id and the one it replaced was heard
   * less than deadAfterMs ago: a restarted agent's old process is never heard again, a second
   * agent's is, within a heartbeat or two. Until then an update sent to the host could reach both.
   */
  unsettled(hostId: string): string | undefined {
    const host = this.hosts.get(hostId);
    const now = this.now();
    if (!host || host.replaced.size === 0 || this.conflictOf(host, now)) return undefined;
    const heardMs = now - Math.max(...host.replaced.values());
    if (heardMs > this.deadAfterMs) return undefined;
    return (
      `a new agent process registered as ${hostId} while the one before it was heard ` +
      `${(heardMs / 1000).toFixed(1)} s ago; waiting until that one has been silent ` +
      `${(this.deadAfterMs / 1000).toFixed(1)} s, so that an update does not go to a second agent under the same id`
    );
  }

  private conflictOf(host: Host, now: number): string | undefined {
    const { conflict } = host;
    return conflict && now - conflict.seenMs <= this.deadAfterMs ? conflict.reason : undefined;
  }

  /** The replaced agents heard from recently enough that hearing them again means they still run. */
  private stillHeard(replaced: Map<number, number>, now: number): Map<number, number> {
    for (const [startedAtMs, lastSeenMs] of replaced) {
      if (now - lastSeenMs > this.deadAfterMs) replaced.delete(startedAtMs);
    }
    return replaced;
  }

  /** Marks silent hosts dead; the timer calls it, and tests with a fake clock. */
  sweep(): void {
    const now = this.now();
    let silenced = false;
    for (const [hostId, host] of this.hosts) {
      const silentMs = now - host.lastSeenMs;
      if (host.alive && silentMs > this.deadAfterMs) {
        host.alive = false;
        silenced = true;
        this.died(hostId, `no heartbeat for ${(silentMs / 1000).toFixed(1)} s`, true);
      }
    }
    // A watch can go quiet without ending: its consumer was on a NATS node that died while this
    // connection stayed up. A silent host may only be unheard, so watch afresh (one replay), at
    // most once per deadAfterMs; a host that is really dead stays dead after the replay.
    if (silenced && now - this.rewatchedAtMs > this.deadAfterMs) {
      this.rewatchedAtMs = now;
      this.rewatch();
    }
    for (const waiter of this.waiters) {
      if (!this.isAlive(waiter.hostId) && now - waiter.armedAtMs > this.deadAfterMs) {
        const host = this.hosts.get(waiter.hostId);
        const reason = host
          ? `no heartbeat for ${((now - host.lastSeenMs) / 1000).toFixed(1)} s`
          : `not registered (no heartbeat within ${this.deadAfterMs} ms)`;
        this.fire(waiter, reason);
      }
    }
  }

  private died(hostId: string, reason: string, wasAlive: boolean): void {
    if (wasAlive) this.log.warn({ hostId, reason }, 'agent dead');
    this.tell(hostId, reason, wasAlive);
  }

  /** The listeners of a death: all of them when the host was alive, else those waiting on it. */
  private tell(hostId: string, reason: string, wasAlive: boolean): void {
    if (wasAlive) for (const cb of this.anyDead) this.call(cb, hostId, reason);
    for (const waiter of this.waiters) if (waiter.hostId === hostId) this.fire(waiter, reason);
  }

  private fire(waiter: Waiter, reason: string): void {
    this.waiters.delete(waiter);
    this.call(waiter.cb, waiter.hostId, reason);
  }

  /** A listener's bug must not stop the sweep from telling the others. */
  private call(cb: DeadListener, hostId: string, reason: string): void {
    try {
      cb(hostId, reason);
    } catch (err) {
      this.log.error({ hostId, err }, 'a dead-agent listener threw');
    }
  }

  private async watchLoop(first: RegistryWatch): Promise<void> {
    let next: RegistryWatch | undefined = first;
    const rewatchMs = this.opts.rewatchMs ?? 1_000;
    // Runs until close(): a registry that stops watching would declare every host dead.
    while (!this.closing.signal.aborted) {
      try {
        this.watch = next ?? (await this.source());
        next = undefined;
        for await (const entry of this.watch.entries) this.apply(entry);
        if (!this.closing.signal.aborted) this.log.warn('registry watch ended; watching again');
      } catch (err) {
        if (!this.closing.signal.aborted) this.log.warn({ err }, 'registry watch failed; retrying');
      }
      await sleep(rewatchMs, undefined, { signal: this.closing.signal }).catch(() => undefined);
    }
  }
}

/** The two agents in plain words, with what tells them apart. */
function conflictReason(hostId: string, ...agents: msg.AgentRegistration__Output[]): string {
  const [one, other] = agents.map(
    (a) =>
      `started ${new Date(Number(a.startedAtMs)).toISOString()}${a.grpcAddress ? ` (gRPC ${a.grpcAddress})` : ''}`,
  );
  return (
    `two agents register as host ${hostId}, one ${one}, the other ${other}: both would take every ` +
    'command sent to it over NATS; give each machine its own hostId in agent.yml'
  );
}

function kvSource(nc: NatsConnection, replicas: number): RegistrySource {
  return async () => {
    // Same bucket settings as the agents use, whoever comes first creates it; and
    // again on every watch, as a NATS server may come back with an empty store.
    const kv = await new Kvm(nc).create(AGENT_REGISTRY_BUCKET, { history: 1, replicas });
    const it = await kv.watch();
    async function* entries(): AsyncIterable<RegistryEntry> {
      for await (const e of it) {
        yield {
          key: e.key,
          operation: e.operation,
          value: e.value,
          createdMs: e.created.getTime(),
          isUpdate: e.isUpdate,
        };
      }
    }
    return { entries: entries(), stop: () => it.stop() };
  };
}
