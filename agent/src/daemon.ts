import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, type AgentConfig, type AgentNatsConfig, type Logger } from '@fleetroll/shared';
import { DockerRuntime } from './docker/index.js';
import { HaproxyClient } from './haproxy/index.js';
import { AGENT_VERSION, HostAgent } from './host.js';
import { Journal } from './journal.js';
import { recoverFromJournal } from './recovery.js';
import { Registrar, openRegistryBucket } from './registry.js';
import { POLL_MS, type SlotDeps } from './slot-deps.js';
import { serveGrpc } from './transport/grpc.js';
import { agentHandlers, type AgentHandlers } from './transport/handlers.js';
import { serveNats } from './transport/nats.js';

const NATS_DRAIN_MS = 2_000;

export interface RunningAgent {
  host: HostAgent;
  grpcPort: number;
  /** Finishes the slot in flight (starting no other), then stops serving. */
  stop(): Promise<void>;
}

/**
 * Wires the real ports to the host workflow. Crash recovery runs to completion
 * BEFORE gRPC or NATS listens: nobody can start an update on a host whose
 * previous one is still half done.
 */
export async function startAgent(config: AgentConfig, log: Logger): Promise<RunningAgent> {
  const journal = new Journal(join(config.stateDir));
  const runtime = new DockerRuntime({
    socketPath: config.docker.socket,
    pullStallTimeoutMs: config.docker.pullStallTimeoutMs,
    authFile: config.docker.authFile,
  });
  await runtime.checkCredentials();
  const { serverStateFile } = config.haproxy;
  const lb = new HaproxyClient({
    socketPath: config.haproxy.socket,
    timeoutMs: config.haproxy.timeoutMs,
    masterSocketPath: config.haproxy.masterSocket,
    serverState: serverStateFile === undefined ? undefined : { file: serverStateFile, log },
  });
  // Before recovery sets any weight: a file that cannot be written is a setup to fix, not a warning.
  await lb.checkServerStateFile();
  const deps: SlotDeps = {
    lb,
    runtime,
    journal,
    log,
    pollMs: POLL_MS,
  };
  const recovered = await recoverFromJournal(journal, config, deps);
  if (recovered.length > 0) log.warn({ recovered }, `recovered ${recovered.length} interrupted slot(s)`);

  const host = new HostAgent(config, deps);
  await host.checkHaproxySight();
  const handlers = agentHandlers(host, config.defaults, log);
  const { server, port } = await serveGrpc(handlers, config.grpc.listen);
  const grpcAddress = `${config.grpc.listen.replace(/:\d+$/, '')}:${port}`;
  let nats: Awaited<ReturnType<typeof startNats>> | undefined;
  try {
    if (config.nats) nats = await startNats(config, config.nats, handlers, grpcAddress, log);
  } catch (err) {
    server.forceShutdown();
    throw err;
  }
  log.info({ grpc: grpcAddress, nats: config.nats?.servers, slots: config.slots.length }, 'agent serving');

  return {
    host,
    grpcPort: port,
    async stop() {
      // No new NATS requests, but heartbeats go on until the slot in flight is
      // done: an agent finishing its slot is alive, not dead.
      nats?.service.stop();
      await host.stop();
      await nats?.registrar.stop();
      if (nats) await closeNats(nats.nc, log);
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}

async function startNats(
  config: AgentConfig,
  natsConfig: AgentNatsConfig,
  handlers: AgentHandlers,
  grpcAddress: string,
  log: Logger,
) {
  const nc = await connectNats(natsConfig, `fleetroll-agent ${config.hostId}`, log);
  const service = serveNats(nc, config.hostId, handlers, log);
  const registrar = new Registrar(
    () => openRegistryBucket(nc, natsConfig.heartbeatMs, natsConfig.kvReplicas),
    {
      hostId: config.hostId,
      groups: config.groups,
      grpcAddress,
      version: AGENT_VERSION,
      heartbeatMs: natsConfig.heartbeatMs,
      activeRolloutId: () => handlers.activeRolloutId(),
      warnings: () => handlers.warnings(),
    },
    log,
  );
  await registrar.start();
  return { nc, service, registrar };
}

/** Sends what is buffered (the last events), but a NATS outage must not hold up shutdown. */
async function closeNats(nc: NatsConnection, log: Logger): Promise<void> {
  const drained = nc.drain().then(
    () => true,
    (err: unknown) => {
      log.warn({ err }, 'NATS drain failed');
      return false;
    },
  );
  if (!(await Promise.race([drained, sleep(NATS_DRAIN_MS, false, { ref: false })]))) {
    log.warn(`NATS did not drain within ${NATS_DRAIN_MS} ms; closing`);
  }
  if (!nc.isClosed()) await nc.close();
}
