import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, type ControllerConfig, type InventoryHost, type Logger } from '@fleetroll/shared';
import { serveControllerGrpc } from './api/grpc.js';
import { ControllerCore, type Transport } from './service/controller-core.js';
import { TransportUnavailableError } from './service/errors.js';
import { FleetView } from './service/fleet-view.js';
import { GrpcAgentDirectory } from './transport/grpc.js';
import { NatsAgentDirectory } from './transport/nats.js';
import { AgentRegistry } from './transport/registry.js';

export interface RunningController {
  core: ControllerCore;
  grpcPort: number;
  stop(): Promise<void>;
}

/** Wires configuration to the core: NATS and its registry when configured, gRPC always. */
export async function startController(config: ControllerConfig, log: Logger): Promise<RunningController> {
  let nc: NatsConnection | undefined;
  let registry: AgentRegistry | undefined;
  if (config.nats) {
    nc = await connectNats(config.nats, 'fleetroll-controller', log);
    registry = await AgentRegistry.start(nc, { log, deadAfterMs: config.agentDeadAfterMs });
  }
  const fleet = new FleetView(config.inventory, registry);
  const defaultTransport: Transport = config.transport ?? (nc ? 'nats' : 'grpc');

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
  });
  const { server, port } = await serveControllerGrpc(core, config.listen);
  log.info({ listen: config.listen, port, transport: defaultTransport }, 'controller serving');

  return {
    core,
    grpcPort: port,
    async stop() {
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      await registry?.close();
      await nc?.drain();
    },
  };
}
