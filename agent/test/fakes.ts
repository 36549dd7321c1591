import { pino } from 'pino';
import {
  ContainerNotFoundError,
  ImagePullError,
  DEFAULT_PULL_STALL_TIMEOUT_MS,
  type AgentConfig,
  type StepEvent,
} from '@fleetroll/shared';
import type { SlotJournalEntry } from '../src/journal.js';
import type {
  ContainerRuntime,
  ContainerSnapshot,
  HealthState,
  LoadBalancer,
  ServerStat,
} from '../src/ports.js';
import type { SlotDeps, SlotJournal } from '../src/slot-deps.js';

/** Everything the fakes do, in order, so tests can assert on sequences across ports. */
export type Trail = string[];

export class FakeLb implements LoadBalancer {
  weights = new Map<string, number>();
  status = new Map<string, string>();
  /** Scripted scur values per server, consumed one per poll; the last one sticks. */
  scur = new Map<string, number[]>();

  constructor(private readonly trail: Trail) {}

  addServer(backend: string, server: string, weight: number): void {
    this.weights.set(`${backend}/${server}`, weight);
    this.status.set(`${backend}/${server}`, 'UP');
  }

  async getWeight(backend: string, server: string): Promise<number> {
    return this.weights.get(`${backend}/${server}`) ?? 0;
  }

  async setWeight(backend: string, server: string, weight: number): Promise<void> {
    this.trail.push(`weight ${backend}/${server} ${weight}`);
    this.weights.set(`${backend}/${server}`, weight);
  }

  /** Runs as serverStat is asked, with how often that server has been asked: a test breaks something at a chosen poll. */
  onServerStat: (server: string, poll: number) => void = () => undefined;
  private readonly statPolls = new Map<string, number>();

  async serverStat(backend: string, server: string): Promise<ServerStat> {
    const key = `${backend}/${server}`;
    const poll = (this.statPolls.get(key) ?? 0) + 1;
    this.statPolls.set(key, poll);
    this.onServerStat(server, poll);
    const script = this.scur.get(key) ?? [0];
    const scur = script.length > 1 ? (script.shift() ?? 0) : (script[0] ?? 0);
    return { ...this.stat(backend, server), scur };
  }

  /** The server as serverStat scripts it, the others as they stand. */
  async serverAndSiblings(
    backend: string,
    server: string,
  ): Promise<{ own: ServerStat; others: ServerStat[] }> {
    const own = await this.serverStat(backend, server);
    const others = (await this.backendStat(backend)).filter((s) => s.server !== server);
    return { own, others };
  }

  async backendStat(backend: string): Promise<ServerStat[]> {
    return [...this.weights.keys()]
      .filter((key) => key.startsWith(`${backend}/`))
      .map((key) => this.stat(backend, key.slice(backend.length + 1)));
  }

  /** The HAProxy answering the socket; a test reloads it by changing this. */
  pid = 100;
  /** HAProxy processes still running besides the current one (an old one finishing after a reload). */
  oldPids = new Set<number>();
  /** False for an agent in another pid namespace: no HAProxy process looks as if it ran. */
  processesVisible = true;

  async processId(): Promise<number> {
    return this.pid;
  }

  processRunning(pid: number): boolean {
    return this.processesVisible && (pid === this.pid || this.oldPids.has(pid));
  }

  /** What each process was started to take over from (`-sf`): a reload before the slot sets it. */
  takenOver = new Map<number, number[]>();

  /** A new process takes over from the one answering, which runs on until told it is done. */
  reload(): void {
    this.oldPids.add(this.pid);
    this.takenOver.set(this.pid + 1, [this.pid]);
    this.pid += 1;
  }

  /** The process answering is gone, and a new one took nothing over from it. */
  restart(): void {
    this.pid += 1;
  }

  /** As the real client: the command line when the process is seen, else the master CLI if any. */
  async previousProcesses(pid: number): Promise<number[]> {
    const known = this.processRunning(pid) || this.masterSessions !== undefined;
    return known ? (this.takenOver.get(pid) ?? []) : [];
  }

  /** Each old process's sessions on the slot's server, as a master CLI tells; undefined: none configured. */
  masterSessions: Map<number, number> | undefined;

  async oldProcessSessions(pid: number): Promise<number | undefined> {
    if (!this.masterSessions) return undefined;
    return this.oldPids.has(pid) ? (this.masterSessions.get(pid) ?? 0) : 0;
  }

  private stat(backend: string, server: string): ServerStat {
    const key = `${backend}/${server}`;
    const status = this.status.get(key) ?? 'UP';
    return {
      backend,
      server,
      scur: 0,
      status,
      checkStatus: 'L7OK',
      weight: this.weights.get(key) ?? 0,
      downCount: 0,
    };
  }
}

interface FakeContainer {
  id: string;
  name: string;
  image: string;
  running: boolean;
  health: HealthState;
  exitCode: number;
}

export class FakeRuntime implements ContainerRuntime {
  containers = new Map<string, FakeContainer>();
  images = new Map<string, string>([
    ['app:v1', 'sha256:v1'],
    ['app:v2', 'sha256:v2'],
    ['app:broken', 'sha256:broken'],
  ]);
  /** What a new container of this image turns into once started. */
  behaviour = new Map<string, { health: HealthState; running: boolean }>([
    ['app:broken', { health: 'unhealthy', running: true }],
  ]);
  /** Awaited inside `docker stop` and `docker start` (of the container named), as the real ones take time. */
  during: { stop?: (name: string) => Promise<void>; start?: (name: string) => Promise<void> } = {};
  private seq = 0;

  constructor(private readonly trail: Trail) {}

  add(name: string, image: string): string {
    const id = `id-${name}-${this.seq++}`;
    this.containers.set(id, { id, name, image, running: true, health: 'healthy', exitCode: 0 });
    return id;
  }

  byName(name: string): FakeContainer | undefined {
    return [...this.containers.values()].find((c) => c.name === name);
  }

  async inspect(nameOrId: string): Promise<ContainerSnapshot> {
    const c = await this.find(nameOrId);
    if (!c) throw new ContainerNotFoundError(`no container ${nameOrId}`);
    return c;
  }

  async find(nameOrId: string): Promise<ContainerSnapshot | null> {
    const c = this.containers.get(nameOrId) ?? this.byName(nameOrId);
    if (!c) return null;
    return {
      ...c,
      imageId: this.images.get(c.image) ?? 'sha256:unknown',
      state: c.running ? 'running' : 'exited',
      startedAtMs: 0,
      restartCount: 0,
    };
  }

  /** Images whose pull never ends by itself (a registry that stopped sending); only `stop` ends it. */
  hangingPulls = new Set<string>();

  async ensureImage(ref: string, stop?: AbortSignal): Promise<{ pulled: boolean; buildIds: string[] }> {
    this.trail.push(`pull ${ref}`);
    const id = this.images.get(ref);
    if (!this.hangingPulls.has(ref)) return { pulled: false, buildIds: id === undefined ? [] : [id] };
    return new Promise((_, reject) =>
      stop?.addEventListener('abort', () => reject(new ImagePullError(`cannot pull image ${ref}: stopped`))),
    );
  }

  async stop(id: string): Promise<void> {
    this.trail.push(`stop ${this.must(id).name}`);
    await this.during.stop?.(this.must(id).name);
    this.must(id).running = false;
  }

  async rename(id: string, newName: string): Promise<void> {
    this.trail.push(`rename ${this.must(id).name} ${newName}`);
    this.must(id).name = newName;
  }

  async createFrom(templateId: string, name: string, image: string): Promise<string> {
    this.must(templateId);
    const id = `id-${name}-${this.seq++}`;
    this.containers.set(id, { id, name, image, running: false, health: 'starting', exitCode: 0 });
    this.trail.push(`create ${name} ${image}`);
    return id;
  }

  async start(id: string): Promise<void> {
    const c = this.must(id);
    await this.during.start?.(c.name);
    const b = this.behaviour.get(c.image) ?? { health: 'healthy', running: true };
    c.running = b.running;
    c.health = b.health;
    c.exitCode = b.running ? 0 : 1;
    this.trail.push(`start ${c.name}`);
  }

  async remove(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (!c) return;
    this.trail.push(`remove ${c.name}`);
    this.containers.delete(id);
  }

  private must(id: string): FakeContainer {
    const c = this.containers.get(id);
    if (!c) throw new ContainerNotFoundError(`no container ${id}`);
    return c;
  }
}

export class FakeJournal implements SlotJournal {
  entries = new Map<string, SlotJournalEntry>();
  constructor(private readonly trail: Trail) {}
  async record(entry: SlotJournalEntry): Promise<void> {
    this.trail.push(`journal ${entry.slot} ${entry.phase}`);
    this.entries.set(entry.slot, { ...entry });
  }
  async clear(slot: string): Promise<void> {
    this.trail.push(`journal ${slot} cleared`);
    this.entries.delete(slot);
  }
}

export const TIMINGS = {
  drainTimeoutMs: 500,
  minDrainMs: 0,
  healthTimeoutMs: 300,
  minReadyMs: 0,
  stopTimeoutS: 1,
  slotParallelism: 1,
};

export interface FakeHost {
  trail: Trail;
  lb: FakeLb;
  runtime: FakeRuntime;
  journal: FakeJournal;
  config: AgentConfig;
  deps: SlotDeps;
  events: StepEvent[];
  emit: (e: StepEvent) => void;
}

/** A host of three slots app1..app3 on app:v1 behind backend "app", weights 37, 100, 100. */
export function fakeHost(): FakeHost {
  const trail: Trail = [];
  const lb = new FakeLb(trail);
  const runtime = new FakeRuntime(trail);
  const journal = new FakeJournal(trail);
  const config: AgentConfig = {
    hostId: 'h1',
    groups: ['eu'],
    grpc: { listen: '127.0.0.1:0' },
    haproxy: { socket: '/nonexistent', timeoutMs: 1000 },
    docker: { socket: '/nonexistent', pullStallTimeoutMs: DEFAULT_PULL_STALL_TIMEOUT_MS },
    stateDir: '/nonexistent',
    defaults: TIMINGS,
    slots: [1, 2, 3].map((i) => ({ id: `app${i}`, container: `c${i}`, backend: 'app', server: `app_${i}` })),
  };
  config.slots.forEach((s, i) => {
    runtime.add(s.container, 'app:v1');
    lb.addServer(s.backend, s.server, i === 0 ? 37 : 100);
  });
  const deps: SlotDeps = { lb, runtime, journal, log: pino({ level: 'silent' }), pollMs: 5 };
  const events: StepEvent[] = [];
  return { trail, lb, runtime, journal, config, deps, events, emit: (e: StepEvent) => events.push(e) };
}

/** A logger whose lines (JSON, info and up) a test reads back. */
export function capturingLog() {
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
  return { lines, log };
}

// As HAProxy 2.6.12 answers `show servers state` (app_2 at weight 0, its configured 100).
export const STATE_DUMP = [
  '1',
  '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port',
  '3 app 1 app_1 127.0.0.1 2 0 100 100 12 6 3 4 6 0 0 0 - 21001 - 0 0 - - 0',
  '3 app 2 app_2 127.0.0.1 2 0 0 100 3 6 3 4 6 0 0 0 - 21002 - 0 0 - - 0',
  '4 api 1 app_2 127.0.0.1 2 0 50 50 3 6 3 4 6 0 0 0 - 21003 - 0 0 - - 0',
  '',
  '',
].join('\n');
