import { join } from 'node:path';
import type { AgentConfig, Logger } from '@fleetroll/shared';
import { DockerRuntime } from './docker/index.js';
import { HaproxyClient } from './haproxy/index.js';
import { HostAgent } from './host.js';
import { Journal } from './journal.js';
import { recoverFromJournal } from './recovery.js';
import type { SlotDeps } from './slot-deps.js';
import { serveGrpc } from './transport/grpc.js';

/** Polling HAProxy and Docker every 50 ms keeps the weight-0 window tight at negligible cost. */
const POLL_MS = 50;

export interface RunningAgent {
  host: HostAgent;
  grpcPort: number;
  /** Finishes the slot in flight (starting no other), then stops serving. */
  stop(): Promise<void>;
}

/**
 * Wires the real ports to the host workflow. Crash recovery runs to completion
 * BEFORE the gRPC server listens: nobody can start an update on a host whose
 * previous one is still half done.
 */
export async function startAgent(config: AgentConfig, log: Logger): Promise<RunningAgent> {
  const journal = new Journal(join(config.stateDir));
  const deps: SlotDeps = {
    lb: new HaproxyClient({ socketPath: config.haproxy.socket, timeoutMs: config.haproxy.timeoutMs }),
    runtime: new DockerRuntime({ socketPath: config.docker.socket }),
    journal,
    log,
    pollMs: POLL_MS,
  };
  const recovered = await recoverFromJournal(journal, config, deps);
  if (recovered.length > 0) log.warn({ recovered }, `recovered ${recovered.length} interrupted slot(s)`);

  const host = new HostAgent(config, deps);
  const { server, port } = await serveGrpc(host, config.defaults, config.grpc.listen, log);
  log.info(
    { grpc: `${config.grpc.listen.replace(/:\d+$/, '')}:${port}`, slots: config.slots.length },
    'agent serving',
  );

  return {
    host,
    grpcPort: port,
    async stop() {
      await host.stop();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}
