// Simulated HAProxy and Docker for the fleet simulation: the slot workflow runs
// unchanged against them, and every step it waits for takes a fixed time, so the
// time a rollout should take is known exactly.
import { setTimeout as sleep } from 'node:timers/promises';
import { ContainerNotFoundError } from '@fleetroll/shared';
import type {
  ContainerRuntime,
  ContainerSnapshot,
  LoadBalancer,
  ServerStat,
  SlotJournal,
} from '@fleetroll/agent';

/** What each step of a slot costs in the simulation, in ms. */
export interface SimLatencies {
  /** The server keeps open sessions (scur > 0) this long after its weight went to 0. */
  drainMs: number;
  /** `docker stop` of the old container. */
  stopMs: number;
  /** `docker start` of the new one. */
  startMs: number;
  /** From the end of start until the container's HEALTHCHECK says healthy. */
  healthyMs: number;
}

/** The unavoidable time of one slot: the workflow must wait out each of these in turn. */
export function slotFloorMs(l: SimLatencies): number {
  return l.drainMs + l.stopMs + l.startMs + l.healthyMs;
}

/** Sessions a serving server holds: any positive number would do, the workflow only reads it at weight 0. */
const SERVING_SESSIONS = 3;

const SIM_PID = 1;

/**
 * A backend whose servers are always UP (the new container is checked by its
 * Docker health only) and drain in exactly drainMs. Every call answers at once,
 * as HAProxy's runtime socket does in well under a millisecond.
 */
export class SimLoadBalancer implements LoadBalancer {
  private readonly servers = new Map<string, { weight: number; zeroAtMs: number }>();

  constructor(private readonly drainMs: number) {}

  addServer(backend: string, server: string, weight: number): void {
    this.servers.set(`${backend}/${server}`, { weight, zeroAtMs: 0 });
  }

  async getWeight(backend: string, server: string): Promise<number> {
    return this.server(backend, server).weight;
  }

  async setWeight(backend: string, server: string, weight: number): Promise<void> {
    const s = this.server(backend, server);
    if (weight === 0 && s.weight !== 0) s.zeroAtMs = Date.now();
    s.weight = weight;
  }

  async serverStat(backend: string, server: string): Promise<ServerStat> {
    return this.stat(backend, server);
  }

  async serverAndSiblings(
    backend: string,
    server: string,
  ): Promise<{ own: ServerStat; others: ServerStat[] }> {
    const own = this.stat(backend, server);
    return { own, others: this.statsOf(backend).filter((s) => s.server !== server) };
  }

  async backendStat(backend: string): Promise<ServerStat[]> {
    return this.statsOf(backend);
  }

  /** Never reloaded: one process, always this one. */
  async processId(): Promise<number> {
    return SIM_PID;
  }

  processRunning(pid: number): boolean {
    return pid === SIM_PID;
  }

  async previousProcesses(): Promise<number[]> {
    return [];
  }

  /** No master CLI here. */
  async oldProcessSessions(): Promise<undefined> {
    return undefined;
  }

  private stat(backend: string, server: string): ServerStat {
    const s = this.server(backend, server);
    const draining = s.weight === 0 && Date.now() - s.zeroAtMs < this.drainMs;
    const scur = s.weight > 0 ? SERVING_SESSIONS : draining ? 1 : 0;
    return { backend, server, scur, status: 'UP', checkStatus: 'L7OK', weight: s.weight, downCount: 0 };
  }

  private statsOf(backend: string): ServerStat[] {
    const prefix = `${backend}/`;
    const keys = [...this.servers.keys()].filter((key) => key.startsWith(prefix));
    return keys.map((key) => this.stat(backend, key.slice(prefix.length)));
  }

  private server(backend: string, server: string): { weight: number; zeroAtMs: number } {
    const s = this.servers.get(`${backend}/${server}`);
    // The workflow's preflight must fail on an unknown server as it does against HAProxy.
    if (!s) throw new Error(`no server ${backend}/${server} in the simulated backend`);
    return s;
  }
}

interface SimContainer {
  id: string;
  name: string;
  image: string;
  running: boolean;
  startedAtMs: number;
}

/**
 * Containers that take stopMs to stop, startMs to start, and turn healthy
 * healthyMs after starting. Every image the sim names is already present, so
 * a pre-pull costs nothing; the other calls answer at once.
 */
export class SimRuntime implements ContainerRuntime {
  private readonly containers = new Map<string, SimContainer>();
  private seq = 0;

  constructor(
    private readonly latencies: SimLatencies,
    private readonly images: ReadonlyMap<string, string>,
  ) {}

  add(name: string, image: string): void {
    const id = this.nextId(name);
    this.containers.set(id, { id, name, image, running: true, startedAtMs: 0 });
  }

  async inspect(nameOrId: string): Promise<ContainerSnapshot> {
    const c = await this.find(nameOrId);
    if (!c) throw new ContainerNotFoundError(`no container ${nameOrId}`);
    return c;
  }

  async find(nameOrId: string): Promise<ContainerSnapshot | null> {
    const c = this.lookup(nameOrId);
    if (!c) return null;
    const healthy = Date.now() - c.startedAtMs >= this.latencies.healthyMs;
    return {
      id: c.id,
      name: c.name,
      image: c.image,
      imageId: this.images.get(c.image) ?? 'sha256:unknown',
      running: c.running,
      state: c.running ? 'running' : 'exited',
      exitCode: 0,
      health: c.running ? (healthy ? 'healthy' : 'starting') : 'unhealthy',
      startedAtMs: c.startedAtMs,
      restartCount: 0,
    };
  }

  async ensureImage(ref: string): Promise<{ pulled: boolean; buildIds: string[] }> {
    const id = this.images.get(ref);
    if (id === undefined) throw new Error(`the simulation has no image ${ref}`);
    return { pulled: false, buildIds: [id] };
  }

  async stop(id: string): Promise<void> {
    const c = this.must(id);
    if (!c.running) return;
    await sleep(this.latencies.stopMs);
    c.running = false;
  }

  async rename(id: string, newName: string): Promise<void> {
    this.must(id).name = newName;
  }

  async createFrom(templateId: string, name: string, image: string): Promise<string> {
    this.must(templateId);
    const id = this.nextId(name);
    this.containers.set(id, { id, name, image, running: false, startedAtMs: 0 });
    return id;
  }

  async start(id: string): Promise<void> {
    const c = this.must(id);
    await sleep(this.latencies.startMs);
    c.running = true;
    c.startedAtMs = Date.now();
  }

  async remove(id: string): Promise<void> {
    this.containers.delete(id);
  }

  private nextId(name: string): string {
    return `${name}-${this.seq++}`;
  }

  private lookup(nameOrId: string): SimContainer | undefined {
    const byId = this.containers.get(nameOrId);
    if (byId) return byId;
    for (const c of this.containers.values()) if (c.name === nameOrId) return c;
    return undefined;
  }

  private must(id: string): SimContainer {
    const c = this.containers.get(id);
    if (!c) throw new ContainerNotFoundError(`no container ${id}`);
    return c;
  }
}

/**
 * No crash-recovery journal: the sim measures the controller and the workflow, not
 * a thousand agents' fsyncs queued on one disk (real hosts each have their own).
 */
export class DiscardJournal implements SlotJournal {
  async record(): Promise<void> {}
  async clear(): Promise<void> {}
}
