import { setTimeout as sleep } from 'node:timers/promises';
import {
  AgentBusyError,
  RemoteError,
  createLogger,
  type HostDescription,
  type InventoryHost,
  type Logger,
  type PrePullResult,
  type SlotStatus,
  type StepEvent,
  type StepName,
  type UpdateHostRequest,
  type msg,
} from '@fleetroll/shared';
import type { AgentClient, AgentDirectory } from '../src/transport/agent-client.js';
import {
  MemoryRolloutStore,
  Rollout,
  parseRolloutSpec,
  type RolloutArchive,
  type RolloutSpec,
  type RolloutStore,
} from '../src/index.js';
import { ControllerCore, type ControllerDeps } from '../src/service/controller-core.js';
import { stepEvent } from './status-fixtures.js';

export const OLD = 'registry:5000/app:v1';
export const NEW = 'registry:5000/app:v2';

/** A reply the fake agent gives: a rejection with this code, or never an answer. */
export type Misbehaviour = { readonly reject: string } | 'hang';

export interface Script {
  slots: { id: string; image: string }[];
  /** Time each slot takes. */
  slotMs: number;
  /** How UpdateHost goes: every slot done, the slot at failAt fails, rejected, or no end ever. */
  update: 'done' | 'fail' | Misbehaviour;
  failAt: number;
  prePull: 'ok' | Misbehaviour;
}

export interface Call {
  readonly host: string;
  readonly kind: 'describe' | 'prePull' | 'update' | 'update-end' | 'abort';
  readonly image?: string;
  readonly slots?: readonly string[];
  /** An update's build it must be (UpdateHostRequest.imageIds). */
  readonly imageIds?: readonly string[];
}

const never = new Promise<never>(() => undefined);

function misbehave(how: Misbehaviour, host: string): Promise<never> {
  if (how === 'hang') return never;
  return Promise.reject(new RemoteError(how.reject, `${how.reject} from ${host}`));
}

interface FakeRun {
  rolloutId: string;
  aborted: boolean;
  /** Its agent was killed: the slot under way is left to the journal (undone), no more events. */
  killed: boolean;
  /** The controller's call was cut off (killed, or the stream lost): events go nowhere. */
  cut: boolean;
}

/** A slot as Describe reports it when all is well: running the image, healthy, UP, never down. */
export function servingSlot(slot: string, image: string, container = slot, imageId = ''): SlotStatus {
  return {
    slot,
    container,
    image,
    imageId,
    backend: 'app',
    server: slot,
    weight: 1,
    lbStatus: 'UP',
    containerState: 'running',
    health: 'healthy',
    restartCount: 0,
    lbDownCount: 0,
  };
}

export class FakeAgent implements AgentClient {
  script: Script;
  readonly images: Map<string, string>;
  /** What PrePull says the image is here (PrePullResponse.imageIds); none by default. */
  buildIds: string[] = [];
  /** What the registry says while it cannot yet tell a restart from a second agent (AgentClient.settling). */
  settlingWhy: string | undefined;
  /** Describe is answered by another agent under the same id, which runs nothing. */
  impostor = false;
  /** A fresh heartbeat, as a registry would say; kill() and restart() move it. */
  alive = true;
  /** What describe says of a slot instead of running, healthy and UP: a new version gone bad. */
  readonly degraded = new Map<string, Partial<SlotStatus>>();
  private down = false;
  /** Set once another agent registers under this host id: the NATS client refuses the host then. */
  private twinned: string | undefined;
  private running: FakeRun | null = null;
  /** Slot → the build it runs, once a tag it runs moved (FakeFleet.moveTag) or the slot was replaced. */
  private readonly ids = new Map<string, string>();
  private cutOff: ((err: Error) => void) | null = null;

  constructor(
    readonly hostId: string,
    private readonly fleet: FakeFleet,
    script: Script,
  ) {
    this.script = script;
    this.images = new Map(script.slots.map((s) => [s.id, s.image]));
  }

  /** SIGKILL: the update under way ends AGENT_UNREACHABLE, its slot undone; nothing answers until restart(). */
  kill(): void {
    this.down = true;
    this.alive = false;
    if (this.running) this.running.killed = true;
    this.running = null;
    this.cutOff?.(new RemoteError('AGENT_UNREACHABLE', `agent ${this.hostId} vanished`));
  }

  restart(): void {
    this.down = false;
    this.alive = true;
  }

  /**
   * A second agent starts under this host id: the update under way ends as if the agent restarted
   * (the registry's first sight of the other), and from then on every call but Abort is refused, as
   * the NATS client refuses a host id two agents answer to.
   */
  twin(reason: string): void {
    this.twinned = reason;
    this.cutOff?.(new RemoteError('AGENT_UNREACHABLE', `agent ${this.hostId} vanished: the agent restarted`));
  }

  /** The controller loses sight of the update (AGENT_UNREACHABLE) while the agent goes on with it. */
  loseStream(): void {
    this.cutOff?.(new RemoteError('AGENT_UNREACHABLE', `lost the update stream of ${this.hostId}`));
  }

  /** Docker's id of what the slot runs: the build it was created from, not what its tag names now. */
  buildOf(slot: string): string {
    return this.ids.get(slot) ?? this.fleet.buildOf(this.images.get(slot) ?? '');
  }

  /** Its slots keep the builds they run, whatever their tags name from now on. */
  keepBuilds(): void {
    for (const slot of this.images.keys()) {
      const build = this.buildOf(slot);
      if (build !== '') this.ids.set(slot, build);
    }
  }

  isAlive(): boolean {
    return this.alive;
  }

  settling(): string | undefined {
    return this.settlingWhy;
  }

  private gone(): Promise<never> {
    if (this.twinned) return Promise.reject(new RemoteError('DUPLICATE_HOST_ID', this.twinned));
    return Promise.reject(new RemoteError('AGENT_UNREACHABLE', `no agent answers for ${this.hostId}`));
  }

  describe(): Promise<HostDescription> {
    this.fleet.record({ host: this.hostId, kind: 'describe' });
    if (this.down || this.twinned) return this.gone();
    const slots = [...this.images].map(([slot, image]) => ({
      ...servingSlot(slot, image, `${this.hostId}-${slot}`, this.buildOf(slot)),
      ...this.degraded.get(slot),
    }));
    return Promise.resolve({
      hostId: this.hostId,
      groups: [],
      slots,
      activeRolloutId: this.impostor ? '' : (this.running?.rolloutId ?? ''),
      agentVersion: 'fake',
      warnings: [],
    });
  }

  async prePull(image: string): Promise<PrePullResult> {
    this.fleet.record({ host: this.hostId, kind: 'prePull', image });
    if (this.down || this.twinned) return this.gone();
    await sleep(1);
    if (this.script.prePull !== 'ok') return misbehave(this.script.prePull, this.hostId);
    const build = this.fleet.buildOf(image);
    const imageIds = this.buildIds.length > 0 || build === '' ? this.buildIds : [build];
    return { pulled: true, durationMs: 1, imageIds };
  }

  abort(rolloutId: string): Promise<boolean> {
    this.fleet.record({ host: this.hostId, kind: 'abort' });
    if (this.down) return this.gone();
    const run = this.running;
    if (!run || run.rolloutId !== rolloutId) return Promise.resolve(false);
    run.aborted = true;
    return Promise.resolve(true);
  }

  async update(request: UpdateHostRequest, onEvent: (event: StepEvent) => void): Promise<StepEvent> {
    const image = request.image ?? '';
    const rolloutId = request.rolloutId ?? '';
    const { slots = [], imageIds = [] } = request;
    this.fleet.record({ host: this.hostId, kind: 'update', image, slots, imageIds });
    if (this.down || this.twinned) return this.gone();
    await sleep(1);
    const how = this.script.update;
    if (how !== 'done' && how !== 'fail') return misbehave(how, this.hostId);
    if (this.running) throw new AgentBusyError(`${this.hostId} is busy`);
    const run: FakeRun = { rolloutId, aborted: false, killed: false, cut: false };
    this.running = run;
    const cutOff = new Promise<never>((_, reject) => {
      this.cutOff = (err) => {
        run.cut = true;
        this.cutOff = null;
        reject(err);
      };
    });
    return Promise.race([this.run(request, run, how, onEvent), cutOff]);
  }

  private async run(
    request: UpdateHostRequest,
    run: FakeRun,
    how: 'done' | 'fail',
    onEvent: (event: StepEvent) => void,
  ): Promise<StepEvent> {
    const image = request.image ?? '';
    const { rolloutId } = run;
    this.fleet.started();
    try {
      const emit = (step: StepName, slot = '', errorCode = ''): StepEvent => {
        const event = event_(rolloutId, this.hostId, step, slot, errorCode);
        this.fleet.onStep(event);
        if (!run.cut) onEvent(event);
        return event;
      };
      emit('HOST_STARTED');
      const slots = request.slots?.length ? request.slots : [...this.images.keys()];
      for (const [i, slot] of slots.entries()) {
        if (run.aborted) return emit('HOST_ABORTED');
        const build = this.fleet.buildOf(image);
        if (build !== '' ? this.buildOf(slot) === build : this.images.get(slot) === image) {
          emit('SLOT_SKIPPED', slot);
          continue;
        }
        emit('SLOT_STARTED', slot);
        await sleep(this.script.slotMs);
        if (run.killed) return emit('HOST_ABORTED');
        if (how === 'fail' && i === this.script.failAt) {
          emit('SLOT_FAILED', slot, 'HEALTH_CHECK_FAILED');
          return emit('HOST_FAILED', '', 'HEALTH_CHECK_FAILED');
        }
        this.images.set(slot, image);
        this.ids.set(slot, build);
        emit('SLOT_DONE', slot);
      }
      return emit('HOST_DONE');
    } finally {
      if (this.running === run) this.running = null;
      if (this.cutOff && !run.cut) this.cutOff = null;
      this.fleet.ended();
      this.fleet.record({ host: this.hostId, kind: 'update-end' });
    }
  }
}

function event_(
  rolloutId: string,
  hostId: string,
  step: StepName,
  slot: string,
  errorCode: string,
): StepEvent {
  const message = errorCode
    ? `${slot || hostId}: new container never became healthy`
    : `${step} ${slot}`.trim();
  return stepEvent(step, { rolloutId, hostId, slot, message, errorCode });
}

/** Agents scripted per host; records every call in order, and how many updates ran at once. */
export class FakeFleet implements AgentDirectory {
  readonly transport = 'grpc';
  readonly calls: Call[] = [];
  maxInFlight = 0;
  private inFlight = 0;
  private readonly agents = new Map<string, FakeAgent>();
  /** Tag → Docker's image id on every host; none by default (agents that do not say). */
  private readonly builds = new Map<string, string>();
  /** Called on every agent call, before the fake acts on it. */
  onCall: (call: Call) => void = () => undefined;
  /** Called on every step an agent takes, as it takes it: the rollout hears of steps later, in groups. */
  onStep: (event: StepEvent) => void = () => undefined;

  constructor(hostIds: readonly string[], script: Partial<Script> = {}) {
    for (const id of hostIds) this.agents.set(id, new FakeAgent(id, this, { ...defaultScript(), ...script }));
  }

  /** Docker's id for a reference: what its tag names now; an image id names itself. */
  buildOf(image: string): string {
    return this.builds.get(image) ?? (/^sha256:[0-9a-f]{64}$/.test(image) ? image : '');
  }

  /** Points a tag at a build, as a push and a pull would; containers keep the build they run. */
  moveTag(tag: string, id: string): void {
    for (const agent of this.agents.values()) agent.keepBuilds();
    this.builds.set(tag, id);
  }

  agent(hostId: string): FakeAgent {
    const agent = this.agents.get(hostId);
    if (!agent) throw new Error(`no fake agent ${hostId}`);
    return agent;
  }

  script(hostId: string, patch: Partial<Script>): void {
    const agent = this.agent(hostId);
    agent.script = { ...agent.script, ...patch };
    if (patch.slots) {
      agent.images.clear();
      for (const slot of patch.slots) agent.images.set(slot.id, slot.image);
    }
  }

  client(hostId: string): AgentClient {
    return this.agent(hostId);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  record(call: Call): void {
    this.onCall(call);
    this.calls.push(call);
  }

  started(): void {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
  }

  ended(): void {
    this.inFlight -= 1;
  }

  /** Hosts in the order they got this kind of call. */
  updated(kind: Call['kind'] = 'update'): string[] {
    return this.calls.filter((c) => c.kind === kind).map((c) => c.host);
  }

  index(host: string, kind: Call['kind'], nth = 0): number {
    const found = this.calls.flatMap((c, i) => (c.host === host && c.kind === kind ? [i] : []));
    return found[nth] ?? -1;
  }
}

export function defaultScript(): Script {
  return {
    slots: [
      { id: 'a', image: OLD },
      { id: 'b', image: OLD },
    ],
    slotMs: 2,
    update: 'done',
    failAt: 1,
    prePull: 'ok',
  };
}

export function inventory(spec: Record<string, string[]> | number): InventoryHost[] {
  if (typeof spec === 'number') {
    return Array.from({ length: spec }, (_, i) => ({ id: `h${String(i + 1).padStart(2, '0')}`, groups: [] }));
  }
  return Object.entries(spec).flatMap(([group, ids]) => ids.map((id) => ({ id, groups: [group] })));
}

export interface LogLine {
  level: number;
  msg: string;
  rolloutId?: string;
  hostId?: string;
  code?: string;
}

export function capturingLogger(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = createLogger('test', { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { log, lines };
}

export function spec(request: msg.StartRolloutRequest = {}): RolloutSpec {
  return parseRolloutSpec({ image: NEW, ...request }, { id: 'r1' });
}

export interface Harness {
  rollout: Rollout;
  fleet: FakeFleet;
  lines: LogLine[];
}

export function harness(
  request: msg.StartRolloutRequest,
  hosts: InventoryHost[],
  options: { script?: Partial<Script>; store?: RolloutStore; now?: () => number } = {},
): Harness {
  const fleet = new FakeFleet(
    hosts.map((h) => h.id),
    options.script,
  );
  const { log, lines } = capturingLogger();
  const rollout = new Rollout(spec(request), hosts, fleet, log, {
    now: options.now ?? counter(),
    ...(options.store ? { store: options.store } : {}),
  });
  return { rollout, fleet, lines };
}

/** A clock that ticks once per reading, so that every timestamp is distinct and predictable. */
export function counter(start = 1_000): () => number {
  let t = start;
  return () => t++;
}

/** Polls until `ready` holds; fails the test with `what` after a while. */
export async function until(ready: () => boolean, what: string, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

export function hostState(rollout: Rollout, id: string): string {
  return rollout.status().hosts.find((h) => h.hostId === id)?.state ?? 'missing';
}

export function groupState(rollout: Rollout, group: string): string {
  return rollout.status().groups.find((g) => g.group === group)?.state ?? 'missing';
}

/** A controller of a fake fleet on a shared store; `name` is a or b, and the other one leads when it stands by. */
export function controllerCore(
  store: RolloutArchive,
  fleet: FakeFleet,
  name: string,
  options: Pick<ControllerDeps, 'storeRetryMs' | 'keepEnded'> = {},
): ControllerCore {
  const hosts = inventory(3);
  return new ControllerCore({
    log: capturingLogger().log,
    defaultTransport: 'grpc',
    defaults: { hostTimeoutMs: 60_000, maxParallel: 0 },
    hosts: () => Promise.resolve(hosts),
    directory: () => fleet,
    agents: () => Promise.resolve([]),
    store,
    leaderText: () => `controller ${name === 'a' ? 'b' : 'a'} leads`,
    ...options,
  });
}

/** Controllers a (leading) and b (standing by) on one memory store, over a fake fleet of 3 hosts. */
export async function leaderAndStandby(slotMs: number) {
  const store = new MemoryRolloutStore();
  const fleet = new FakeFleet(
    inventory(3).map((h) => h.id),
    { slotMs },
  );
  const a = controllerCore(store, fleet, 'a');
  const b = controllerCore(store, fleet, 'b');
  await a.lead();
  return { store, fleet, a, b };
}
