// The parent's side of the simulated agents: one child process holds them all, so
// that their work is neither the controller's nor the bench's (each is measured apart).
import { fork } from 'node:child_process';
import { open } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SimLatencies } from './ports.js';

export interface SimAgentsOptions {
  natsUrl: string;
  hosts: number;
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

/** The message the child sends once every agent serves and has registered once. */
export interface SimAgentsReady {
  type: 'ready';
  hosts: number;
  startupMs: number;
}

export interface SimAgents {
  pid: number;
  logFile: string;
  /** SIGTERM, then SIGKILL if the child has not gone after a grace period; safe to call twice. */
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 10_000;

/** Host ids sort in inventory order: sim-0001 … sim-1000. */
export function simHostId(i: number): string {
  return `sim-${String(i).padStart(4, '0')}`;
}

/** Starts the agents' process and waits until they have all registered, or it fails. */
export async function forkSimAgents(
  options: SimAgentsOptions,
  logFile: string,
  readyTimeoutMs: number,
): Promise<SimAgents & SimAgentsReady> {
  const log = await open(logFile, 'a');
  const main = fileURLToPath(new URL('./agents-main.js', import.meta.url));
  const child = fork(main, [JSON.stringify(options)], { stdio: ['ignore', log.fd, log.fd, 'ipc'] });
  await log.close();
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? `code ${code}`)),
  );
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      if ((await Promise.race([exited, sleep(STOP_GRACE_MS, null, { ref: false })])) === null) {
        child.kill('SIGKILL');
        await exited;
      }
    })();
    return stopping;
  };
  const ready = new Promise<SimAgentsReady>((resolve) =>
    child.on('message', (m: SimAgentsReady) => m.type === 'ready' && resolve(m)),
  );
  const outcome = await Promise.race([
    ready,
    exited.then((how) => new Error(`the simulated agents exited (${how}) before serving; see ${logFile}`)),
    sleep(readyTimeoutMs, null, { ref: false }),
  ]);
  if (outcome instanceof Error || outcome === null) {
    await stop();
    throw outcome ?? new Error(`the simulated agents were not ready within ${readyTimeoutMs} ms; see ${logFile}`);
  }
  return { ...outcome, pid: child.pid ?? 0, logFile, stop };
}
