import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, type ControllerConfig, type InventoryHost, type Logger } from '@fleetroll/shared';
import { serveControllerGrpc } from './api/grpc.js';
import { serveControllerHttp } from './api/http.js';
import { ControllerMetrics } from './metrics/metrics.js';
import { ControllerCore, type Transport } from './service/controller-core.js';
import { TransportUnavailableError } from './service/errors.js';
import { FleetView } from './service/fleet-view.js';
import { Election, LeaderLock, controllerIdentity, openPersistence } from './store/index.js';
import { GrpcAgentDirectory } from './transport/grpc.js';
import { NatsAgentDirectory } from './transport/nats.js';
import { AgentRegistry } from './transport/registry.js';

export interface RunningController {
  core: ControllerCore;
  grpcPort: number;
  /** The dashboard and /metrics. */
  httpPort: number;
  stop(): Promise<void>;
}

/** Wires configuration to the core: NATS and its registry when configured, gRPC always. */
export async function startController(config: ControllerConfig, log: Logger): Promise<RunningController> {
  let nc: NatsConnection | undefined;
  let registry: AgentRegistry | undefined;
  if (config.nats) {
    nc = await connectNats(config.nats, 'fleetroll-controller', log);
    registry = await AgentRegistry.start(nc, {
      log,
      deadAfterMs: config.agentDeadAfterMs,
      kvReplicas: config.nats.kvReplicas,
    });
  }
  const fleet = new FleetView(config.inventory, registry);
  const defaultTransport: Transport = config.transport ?? (nc ? 'nats' : 'grpc');
  const persistence = await openPersistence(config, nc, log);
  let election: Election | undefined;

  const core = new ControllerCore({
    log,
    defaultTransport,
    defaults: config.defaults,
    hosts: () => fleet.hosts(),
    agents: () => fleet.agents(),
    directory(transport: Transport, hosts: readonly InventoryHost[]) {
      if (transport === 'grpc') return GrpcAgentDirectory.fromInventory(hosts);
      if (!nc || !registry) {
        throw new TransportUnavailableError(
          'transport nats was asked for, but the controller has no "nats:" configured',
        );
      }
      return new NatsAgentDirectory(nc, registry, { log });
    },
    store: persistence.store,
    keepEnded: config.keepEnded,
    leaderText: () => election?.leaderText() ?? 'this controller is starting',
  });
  // Reads answer from the store from the first request on, before the election has run.
  await core.refresh();
  const metrics = new ControllerMetrics(() => core.list());
  core.observe((status, steps) => metrics.observe(status, steps));
  const { server, port } = await serveControllerGrpc(core, config.listen);
  const http = await serveControllerHttp(core, metrics, { ...config.http, log }).catch((err: unknown) => {
    // Nothing may keep listening when the controller fails to start.
    server.forceShutdown();
    throw err;
  });
  log.info({ listen: config.listen, port, transport: defaultTransport }, 'controller serving');
  // Elected only once serving: a previous run on this address (the same owner) is then surely gone.
  if (persistence.lock) {
    const lock = new LeaderLock(
      persistence.lock,
      controllerIdentity(config.listen, port),
      config.leaderLeaseMs,
    );
    election = new Election(
      lock,
      {
        elected: () => core.lead(),
        deposed: (why) => void core.standBy(why),
        standingBy: () => core.refresh(),
      },
      log,
    );
    await election.start();
  } else {
    await core.lead();
  }
  log.info(
    { store: persistence.kind },
    election ? 'rollout store open; electing a leader' : 'rollout store open',
  );
  log.info({ listen: config.http.listen, port: http.port }, 'dashboard and /metrics serving');

  return {
    core,
    grpcPort: port,
    httpPort: http.port,
    async stop() {
      // Rollouts are left as they stand for the next leader, which may take over once the lock is free.
      await core.standBy('the controller is stopping', true);
      await election?.stop();
      await persistence.store.close();
      await http.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      await registry?.close();
      await nc?.drain();
    },
  };
}
