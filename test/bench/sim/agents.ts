// The parent's side of the simulated agents: child processes hold them, so that their work
// is neither the controller's nor the bench's (each is measured apart).
import { fileURLToPath } from 'node:url';
import { startProcess, type ManagedProcess } from '@fleetroll/local-fleet';
import type { SimLatencies } from './ports.js';

export interface SimAgentsOptions {
  natsUrl: string;
  hosts: number;
  /** How many processes share the agents: host i (from 1) runs in process (i - 1) mod processes. */
  processes: number;
  /** Which of them this is, from 0. */
  process: number;
  slots: number;
  /** NATS connections the agents share, hosts taking them in turn. */
  connections: number;
  /** SlotDeps.pollMs: how often the workflow polls the simulated HAProxy and Docker. */
  pollMs: number;
  heartbeatMs: number;
  latencies: SimLatencies;
  /** Image reference → content id; all present on every host. */
  images: Record<string, string>;
  /** What every slot runs at the start. */
  image: string;
}

const AGENTS_MAIN = fileURLToPath(new URL('./agents-main.js', import.meta.url));

/** Host ids sort in inventory order: sim-0001 … sim-1000. */
export function simHostId(i: number): string {
  return `sim-${String(i).padStart(4, '0')}`;
}

/**
 * Starts one of the agents' processes; they serve and register within about one heartbeat.
 * Whether they have is for the caller to ask the registry (the controller) about.
 */
export function startSimAgents(options: SimAgentsOptions, logFile: string): Promise<ManagedProcess> {
  // Warnings and errors only: a real agent writes its 27 step lines of a rollout to its own disk; here
  // five hundred agents' lines would queue on one process's synchronous log writes.
  const env = { ...process.env, FLEETROLL_LOG_LEVEL: 'warn' };
  return startProcess(process.execPath, [AGENTS_MAIN, JSON.stringify(options)], { logFile, env });
}
