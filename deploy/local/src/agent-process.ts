import { createAgentGrpcClient, type AgentServiceClient, type HostDescription } from '@fleetroll/shared';
import { AGENT_MAIN } from './paths.js';
import { startProcess, waitUntilReady } from './process.js';

export interface AgentProcess {
  pid: number;
  address: string;
  client: AgentServiceClient;
  logFile: string;
  /** SIGTERM and wait; SIGKILL for the crash tests. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** How the process ended: `code N` or the signal's name. */
  exited: Promise<string>;
}

/**
 * Starts a real fleetroll-agent process and waits until it answers Describe. An agent
 * repairs interrupted slots before it serves, so after a crash give it as long as a
 * slot's health check may take.
 */
export async function spawnAgent(
  configPath: string,
  address: string,
  logFile: string,
  readyTimeoutMs = 15_000,
): Promise<AgentProcess> {
  const proc = await startProcess(process.execPath, [AGENT_MAIN, '--config', configPath], {
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
      await proc.stop(signal);
      client.close();
    },
  };
}

export function describe(client: AgentServiceClient, timeoutMs = 2_000): Promise<HostDescription> {
  return new Promise((resolve, reject) =>
    client.Describe({}, { deadline: Date.now() + timeoutMs }, (err, res) =>
      err || !res ? reject(err ?? new Error('empty Describe reply')) : resolve(res),
    ),
  );
}
