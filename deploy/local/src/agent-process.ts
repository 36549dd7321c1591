import { readFileSync } from 'node:fs';
import { createAgentGrpcClient, type AgentServiceClient, type HostDescription } from '@fleetroll/shared';
import { AGENT_MAIN } from './paths.js';
import { findBinary, startProcess, waitUntilReady } from './process.js';

export interface AgentProcess {
  /** In a pid namespace of its own, the pid of the `unshare` whose child the agent is. */
  pid: number;
  address: string;
  client: AgentServiceClient;
  logFile: string;
  /** SIGTERM and wait; SIGKILL for the crash tests. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** How the process ended: `code N` or the signal's name. */
  exited: Promise<string>;
}

export interface SpawnAgentOptions {
  /**
   * An agent repairs interrupted slots before it serves, so after a crash give it as long as a
   * slot's health check may take.
   */
  readyTimeoutMs?: number;
  /**
   * Runs it in a pid namespace of its own (`unshare --pid`, with its own /proc), as an agent in a
   * container of its own runs: HAProxy's processes are then out of its sight.
   */
  pidNamespace?: boolean;
}

/** Starts a real fleetroll-agent process and waits until it answers Describe. */
export async function spawnAgent(
  configPath: string,
  address: string,
  logFile: string,
  { readyTimeoutMs = 30_000, pidNamespace = false }: SpawnAgentOptions = {},
): Promise<AgentProcess> {
  const agentArgs = [AGENT_MAIN, '--config', configPath];
  // --kill-child: the agent goes too when unshare is killed (the test process's exit hook).
  const [bin, args] = pidNamespace
    ? [
        await findBinary('unshare', 'util-linux'),
        ['--pid', '--fork', '--mount-proc', '--kill-child=SIGTERM', process.execPath, ...agentArgs],
      ]
    : [process.execPath, agentArgs];
  const proc = await startProcess(bin, args, {
    logFile,
    env: { ...process.env, FLEETROLL_LOG_LEVEL: 'debug' },
  });
  const client = createAgentGrpcClient(address);
  const answers = () =>
    describe(client).then(
      () => true,
      () => false,
    );
  try {
    await waitUntilReady(proc, `fleetroll-agent on ${address}`, answers, readyTimeoutMs);
  } catch (err) {
    client.close();
    throw err;
  }
  return {
    pid: proc.pid,
    address,
    client,
    logFile,
    exited: proc.exited,
    async stop(signal?: NodeJS.Signals) {
      // unshare waits out a SIGTERM itself: the agent, its child, is the one to tell.
      if (pidNamespace) signalChildren(proc.pid, signal ?? 'SIGTERM');
      await proc.stop(signal);
      client.close();
    },
  };
}

function signalChildren(pid: number, signal: NodeJS.Signals): void {
  let children: string;
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8');
  } catch {
    return; // unshare has exited already
  }
  for (const child of children.split(' ').filter(Boolean)) {
    try {
      process.kill(Number(child), signal);
    } catch {
      // exited meanwhile
    }
  }
}

export function describe(client: AgentServiceClient, timeoutMs = 2_000): Promise<HostDescription> {
  return new Promise((resolve, reject) =>
    client.Describe({}, { deadline: Date.now() + timeoutMs }, (err, res) =>
      err || !res ? reject(err ?? new Error('empty Describe reply')) : resolve(res),
    ),
  );
}
