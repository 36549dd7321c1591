// Child process of the fleet simulation (started by agents.ts): its share of a thousand
// real agents (HostAgent, the NATS service, the registry heartbeat), each over the
// simulated ports of ports.ts, sharing a few NATS connections.
import { setTimeout as sleep } from 'node:timers/promises';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  AGENT_VERSION,
  HostAgent,
  POLL_MS,
  Registrar,
  agentHandlers,
  openRegistryBucket,
  serveNats,
  type NatsAgentService,
  type RegistryBucket,
} from '@fleetroll/agent';
import {
  DEFAULT_PULL_STALL_TIMEOUT_MS,
  connectNats,
  createLogger,
  type AgentConfig,
  type SlotTimings,
} from '@fleetroll/shared';
import { simHostId, type SimAgentsOptions } from './agents.js';
import { DiscardJournal, SimLoadBalancer, SimRuntime } from './ports.js';

// Generous bounds: a slot that hits one has gone wrong, and the rollout must say so.
const DEFAULTS: SlotTimings = {
  drainTimeoutMs: 10_000,
  minDrainMs: 0,
  healthTimeoutMs: 10_000,
  minReadyMs: 0,
  stopTimeoutS: 1,
  slotParallelism: 1,
};

interface SimAgent {
  host: HostAgent;
  service: NatsAgentService;
  registrar: Registrar;
}

// Written by startSimAgents in this same checkout, so not validated again here.
const options = JSON.parse(process.argv[2] ?? '{}') as SimAgentsOptions;
const log = createLogger('fleet-sim-agents');
const images = new Map(Object.entries(options.images));

/** Agents on one connection open the registry bucket once between them; a failed open is retried at the next beat. */
function sharedBucket(nc: NatsConnection): () => Promise<RegistryBucket> {
  let opening: Promise<RegistryBucket> | undefined;
  return () => {
    const p = (opening ??= openRegistryBucket(nc, options.heartbeatMs));
    p.catch(() => {
      if (opening === p) opening = undefined;
    });
    return p;
  };
}

function startAgent(i: number, nc: NatsConnection, bucket: () => Promise<RegistryBucket>): SimAgent {
  const hostId = simHostId(i);
  const hostLog = log.child({ hostId });
  const lb = new SimLoadBalancer(options.latencies.drainMs);
  const runtime = new SimRuntime(options.latencies, images);
  const slots = Array.from({ length: options.slots }, (_, n) => ({
    id: `app${n + 1}`,
    container: `${hostId}-app${n + 1}`,
    backend: 'app',
    server: `app_${n + 1}`,
  }));
  for (const s of slots) {
    runtime.add(s.container, options.image);
    lb.addServer(s.backend, s.server, 100);
  }
  // HostAgent reads the id, the groups, the slots and the defaults; the sockets and the
  // state dir belong to the real ports and journal, which the sim replaces.
  const config: AgentConfig = {
    hostId,
    groups: [],
    grpc: { listen: '127.0.0.1:0' },
    haproxy: { socket: '/nonexistent', timeoutMs: 2_000 },
    docker: { socket: '/nonexistent', pullStallTimeoutMs: DEFAULT_PULL_STALL_TIMEOUT_MS },
    stateDir: '/nonexistent',
    defaults: DEFAULTS,
    slots,
  };
  // The weight hold while containers are replaced polls as a real agent does: nothing waits on it.
  const deps = {
    lb,
    runtime,
    journal: new DiscardJournal(),
    log: hostLog,
    pollMs: options.pollMs,
    holdPollMs: POLL_MS,
  };
  const host = new HostAgent(config, deps);
  const handlers = agentHandlers(host, DEFAULTS, hostLog);
  const service = serveNats(nc, hostId, handlers, hostLog);
  const registrar = new Registrar(
    bucket,
    {
      hostId,
      groups: [],
      grpcAddress: '',
      version: AGENT_VERSION,
      heartbeatMs: options.heartbeatMs,
      activeRolloutId: () => handlers.activeRolloutId(),
      warnings: () => handlers.warnings(),
    },
    hostLog,
  );
  return { host, service, registrar };
}

const startedAt = Date.now();
const conns = await Promise.all(
  Array.from({ length: options.connections }, (_, c) =>
    connectNats({ servers: [options.natsUrl] }, `fleet-sim-agents ${c + 1}`, log),
  ),
);
const buckets = conns.map(sharedBucket);
// Hosts dealt out in turn: a batch is a run of consecutive hosts, and every process takes its part.
const mine = Array.from({ length: options.hosts }, (_, i) => i + 1).filter(
  (i) => (i - 1) % options.processes === options.process,
);
const agents = mine.map((hostIndex, n) => {
  const c = n % conns.length;
  return startAgent(hostIndex, conns[c] as NatsConnection, buckets[c] as () => Promise<RegistryBucket>);
});

let stopping: Promise<void> | undefined;
function stop(why: string): Promise<void> {
  stopping ??= (async () => {
    log.info({ why }, 'stopping the simulated agents');
    for (const a of agents) a.service.stop();
    const goodbyes = Promise.all(agents.map((a) => a.host.stop().then(() => a.registrar.stop())));
    // Inside the 5 s startProcess grants before its SIGKILL.
    await Promise.race([goodbyes, sleep(3_000)]);
    await Promise.all(conns.map((nc) => nc.close()));
    process.exit(0);
  })();
  return stopping;
}
process.once('SIGTERM', () => void stop('SIGTERM'));
process.once('SIGINT', () => void stop('SIGINT'));
// A bench that died without stopping us (SIGKILL) leaves us to init: no agent may outlive it.
const bench = process.ppid;
setInterval(() => {
  if (process.ppid !== bench) void stop('the bench went away');
}, 1_000).unref();

// Real agents start at unrelated moments, so their beats spread over the period
// instead of arriving in one burst: spread the first beats likewise.
await Promise.all(
  agents.map(async (a, i) => {
    await sleep(Math.floor((i * options.heartbeatMs) / agents.length));
    await a.registrar.start();
  }),
);
log.info({ hosts: agents.length, startupMs: Date.now() - startedAt }, 'simulated agents serving');
