import { spawn, type ChildProcess } from 'node:child_process';
import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { AGENT_MAIN } from './paths.js';
import { createAgentGrpcClient, type AgentServiceClient, type HostDescription } from '@fleetroll/shared';

export interface AgentProcess {
  pid: number;
  address: string;
  client: AgentServiceClient;
  logFile: string;
  /** SIGTERM and wait; SIGKILL for the crash tests. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/** Starts a real fleetroll-agent process and waits until it answers Describe. */
export async function spawnAgent(
  configPath: string,
  address: string,
  logFile: string,
): Promise<AgentProcess> {
  const log = await open(logFile, 'a');
  const child: ChildProcess = spawn(process.execPath, [AGENT_MAIN, '--config', configPath], {
    stdio: ['ignore', log.fd, log.fd],
    env: { ...process.env, FLEETROLL_LOG_LEVEL: 'debug' },
  });
  await log.close();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const client = createAgentGrpcClient(address);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const early = await Promise.race([exited.then((c) => ({ code: c })), sleep(0).then(() => null)]);
    if (early) throw new Error(`fleetroll-agent exited with ${early.code} before serving; see ${logFile}`);
    try {
      await describe(client);
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(
          `fleetroll-agent did not answer on ${address} within 15 s (${String(err)}); see ${logFile}`,
          { cause: err },
        );
      }
      await sleep(100);
    }
  }
  return {
    pid: child.pid ?? 0,
    address,
    client,
    logFile,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const code = await exited;
      client.close();
      return code;
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
