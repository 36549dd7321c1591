import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { spawnAgent, type AgentProcess, type SpawnAgentOptions } from './agent-process.js';
import {
  docker,
  removeLeftovers,
  runAppContainer,
  TEST_PREFIX,
  type AppContainerOptions,
} from './containers.js';
import { startHaproxy, type HaproxyProcess } from './haproxy.js';

/** How long a restarted agent may take to repair its slots before it serves (a busy machine's health checks). */
const RESTART_READY_MS = 60_000;
const DEFAULT_HEALTHCHECK = { intervalMs: 1_000 };

export interface LocalHostOptions {
  hostId: string;
  /** Picks the port block: frontend 20000+n, app servers 21000+10n+slot, agent gRPC 22000+n. */
  index: number;
  image?: string;
  slots?: number;
  /** HAProxy weight per slot; defaults to 100 each. */
  weights?: number[];
  /** Extra agent defaults (drainTimeoutMs, healthTimeoutMs, ...). */
  defaults?: Record<string, number>;
  groups?: string[];
  /** The app containers' command, when it must differ from the image's. */
  cmd?: string[];
  /**
   * The containers' Docker health check; by default the image's test every second. At the image's
   * own 200 ms, every check a `docker exec`, three idle containers kept 1.2 of two cores busy on a
   * machine slow to create processes, and the tests beside them slower and less steady.
   */
  healthcheck?: AppContainerOptions['healthcheck'];
  /** The agent config's docker.pullStallTimeoutMs, when a test needs it short. */
  pullStallTimeoutMs?: number;
  /** Makes the agent answer on NATS and heartbeat in the registry too (the agent config's `nats:`). */
  nats?: { servers: string[]; kvReplicas?: number };
  /** Runs the agent in a pid namespace of its own (see spawnAgent). */
  agentPidNamespace?: boolean;
  /** Runs HAProxy as master and workers, and gives the agent its master CLI (see startHaproxy). */
  haproxyMasterWorker?: boolean;
  /**
   * Gives HAProxy a server state file and the agent `haproxy.serverStateFile` (the default, as
   * deploy/samples does); false leaves a reload or restart to forget the weights the agent set.
   */
  haproxyServerState?: boolean;
}

export interface LocalHost {
  hostId: string;
  dir: string;
  frontendUrl: string;
  socketPath: string;
  /** With haproxyMasterWorker, HAProxy's master CLI. */
  haproxyMasterSocket?: string;
  /** HAProxy's server state changes and failed requests (see startHaproxy). */
  haproxyLog: string;
  configPath: string;
  agentAddress: string;
  containers: string[];
  slotPorts: number[];
  agent: AgentProcess;
  /**
   * Starts the agent again on the same config and state (after a crash test killed it, or
   * stopped it to start it in a pid namespace of its own).
   */
  restartAgent(opts?: Pick<SpawnAgentOptions, 'pidNamespace'>): Promise<AgentProcess>;
  /** Reloads its HAProxy as a configuration change would (see HaproxyProcess.reload). */
  reloadHaproxy(): Promise<void>;
  /** Stops its HAProxy and starts it again `downMs` later (see HaproxyProcess.restart). */
  restartHaproxy(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * One simulated machine, made of real parts: app containers in the shared dockerd,
 * its own HAProxy in front of them, and its own fleetroll-agent process.
 */
export async function startLocalHost(opts: LocalHostOptions): Promise<LocalHost> {
  const n = opts.slots ?? 3;
  const prefix = `${TEST_PREFIX}${opts.hostId}-`;
  await removeLeftovers(prefix);
  const dir = await mkdtemp(join(tmpdir(), `fleetroll-${opts.hostId}-`));
  let haproxy: HaproxyProcess | undefined;
  let agent: AgentProcess | undefined;
  // Tear down in reverse order of start-up, and keep going when one part fails.
  const stop = async () => {
    await agent?.stop('SIGKILL').catch(() => undefined);
    await haproxy?.stop().catch(() => undefined);
    await removeLeftovers(prefix).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const slotPorts = Array.from({ length: n }, (_, i) => 21000 + opts.index * 10 + i + 1);
    const containers = slotPorts.map((_, i) => `${prefix}app${i + 1}`);
    // A network of its own, as a real machine has: containers of different hosts exiting at
    // the same moment cannot then meet dockerd 20.10's deadlock (see removeLeftovers).
    const network = `${prefix}net`;
    await docker.createNetwork({ Name: network });
    // Side by side: most of a start is dockerd waiting on the kernel and runc, not on itself. All
    // settle before a failure is thrown, so that the cleanup finds every container that was made.
    const started = await Promise.allSettled(
      containers.map((name, i) =>
        runAppContainer({
          name,
          image: opts.image ?? 'fleetroll-app:v1',
          hostPort: slotPorts[i]!,
          network: { name: network },
          cmd: opts.cmd,
          healthcheck: opts.healthcheck ?? DEFAULT_HEALTHCHECK,
        }),
      ),
    );
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const lb = await startHaproxy({
      dir,
      frontendPort: 20000 + opts.index,
      servers: slotPorts.map((port, i) => ({ name: `app_${i + 1}`, port, weight: opts.weights?.[i] ?? 100 })),
      masterWorker: opts.haproxyMasterWorker,
      serverState: opts.haproxyServerState ?? true,
    });
    haproxy = lb;

    const agentAddress = `127.0.0.1:${22000 + opts.index}`;
    const configPath = join(dir, 'agent.yml');
    await writeFile(
      configPath,
      stringify({
        hostId: opts.hostId,
        groups: opts.groups ?? ['local'],
        grpc: { listen: agentAddress },
        haproxy: {
          socket: lb.socketPath,
          ...(lb.masterSocketPath ? { masterSocket: lb.masterSocketPath } : {}),
          ...(lb.serverStateFile ? { serverStateFile: lb.serverStateFile } : {}),
        },
        ...(opts.pullStallTimeoutMs ? { docker: { pullStallTimeoutMs: opts.pullStallTimeoutMs } } : {}),
        stateDir: join(dir, 'state'),
        defaults: {
          drainTimeoutMs: 10_000,
          healthTimeoutMs: 15_000,
          // Only for containers without a HEALTHCHECK, where HAProxy's check of /health already
          // shows the app serving: half a second more catches an app that dies as it boots.
          minReadyMs: 500,
          stopTimeoutS: 5,
          ...opts.defaults,
        },
        slots: containers.map((container, i) => ({
          id: `app${i + 1}`,
          container,
          backend: 'app',
          server: `app_${i + 1}`,
        })),
        ...(opts.nats ? { nats: opts.nats } : {}),
      }),
    );
    const logFile = join(dir, 'agent.log');
    agent = await spawnAgent(configPath, agentAddress, logFile, { pidNamespace: opts.agentPidNamespace });
    const host: LocalHost = {
      hostId: opts.hostId,
      dir,
      frontendUrl: lb.frontendUrl,
      socketPath: lb.socketPath,
      haproxyMasterSocket: lb.masterSocketPath,
      haproxyLog: lb.logPath,
      configPath,
      agentAddress,
      containers,
      slotPorts,
      agent,
      async restartAgent(restart = {}) {
        // Its journal may hold a slot to roll back: a container to start and see healthy first.
        agent = await spawnAgent(configPath, agentAddress, logFile, {
          readyTimeoutMs: RESTART_READY_MS,
          pidNamespace: opts.agentPidNamespace,
          ...restart,
        });
        host.agent = agent;
        return agent;
      },
      reloadHaproxy: () => lb.reload(),
      restartHaproxy: (downMs) => lb.restart(downMs),
      stop,
    };
    return host;
  } catch (err) {
    await stop();
    throw err;
  }
}
