// HAProxy's old processes after a reload: which they are, and what they still carry. The
// answering process names the ones it took over from on its command line; an agent that cannot
// see it (another pid namespace) asks the master CLI, which also relays questions to an old worker.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServerStat } from '../ports.js';
import { sendCommand, type SocketOptions } from './socket.js';
import { parseShowStat } from './stat.js';

// The master CLI's answer for a pid that is no worker of its own (any more).
const NO_SUCH_WORKER = "Can't find the target PID";
const SHOW_PROC = 'show proc';
// How long the master CLI may refuse `show proc` while it re-executes itself, and how often to ask.
const MASTER_REEXEC_MS = 2_000;
const MASTER_RETRY_MS = 20;

/** The pids `show proc` on the master CLI lists under "# old workers"; undefined for another reply. */
export function oldWorkers(reply: string): number[] | undefined {
  if (!reply.startsWith('#<PID>')) return undefined;
  const pids: number[] = [];
  let old = false;
  for (const line of reply.split('\n')) {
    if (line.startsWith('#')) old = line.trim() === '# old workers';
    else if (old) {
      const pid = /^(\d+)\s/.exec(line)?.[1];
      if (pid !== undefined) pids.push(Number(pid));
    }
  }
  return pids;
}

/** The pids after `-sf` or `-st` (each takes a list, up to the next option). */
export function takenOverFrom(args: readonly string[]): number[] {
  const pids: number[] = [];
  let listing = false;
  for (const arg of args) {
    if (arg === '-sf' || arg === '-st') listing = true;
    else if (listing && /^\d+$/.test(arg)) pids.push(Number(arg));
    else listing = false;
  }
  return pids;
}

/** The master's old workers; none known when it does not answer within MASTER_REEXEC_MS. */
export async function listOldWorkers(master: SocketOptions): Promise<number[]> {
  // Just after a reload the master re-executes itself and refuses its CLI for a moment: a drain
  // that begins then is the very one that must learn of the old workers.
  const deadline = Date.now() + MASTER_REEXEC_MS;
  for (;;) {
    const workers = oldWorkers(await sendCommand(master, SHOW_PROC).catch(() => ''));
    if (workers !== undefined || Date.now() >= deadline) return workers ?? [];
    await sleep(MASTER_RETRY_MS);
  }
}

/**
 * Asks an old worker through the master CLI: its servers' rows, or 0 sessions once the worker
 * is gone, or undefined when it cannot tell.
 */
export async function askOldWorker(
  master: SocketOptions,
  pid: number,
  command: string,
  about: { backend: string; server: string },
): Promise<ServerStat[] | number | undefined> {
  const ask = `@!${pid} ${command}`;
  // Refused while the master re-executes itself on a reload: then only the process's exit tells.
  const reply = await sendCommand(master, ask).catch(() => '');
  if (reply.includes(NO_SUCH_WORKER)) return 0;
  // As a worker exits, the master answers "Can't connect to the target CLI!", or nothing.
  if (!reply.startsWith('# ')) return undefined;
  return parseShowStat(reply, { command: ask, socketPath: master.socketPath, ...about });
}
