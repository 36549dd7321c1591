import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { parse, stringify } from 'yaml';
import { HaproxyClient } from '@fleetroll/agent';
import {
  freeLoopbackPort,
  spawnAgent,
  startLocalHost,
  type AgentProcess,
  type LocalHost,
  type LocalHostOptions,
} from '@fleetroll/local-fleet';

export interface HostUnderTest {
  readonly host: LocalHost;
  /** A client on the host's HAProxy admin socket, for what the tests set and read there. */
  readonly lb: HaproxyClient;
}

/**
 * A local host for the calling file's tests: started before them, stopped after them (also when
 * one failed). Its fields are set once it is up.
 */
export function localHostForTests(opts: LocalHostOptions): HostUnderTest {
  const handle: Partial<{ host: LocalHost; lb: HaproxyClient }> = {};
  before(async () => {
    handle.host = await startLocalHost(opts);
    handle.lb = new HaproxyClient({ socketPath: handle.host.socketPath, timeoutMs: 2_000 });
  });
  after(async () => {
    await handle.host?.stop();
  });
  return handle as HostUnderTest;
}

/**
 * A second agent under the host's id, as an agent.yml copied to another machine unchanged (or an
 * old agent left running) gives: here on the same machine, with its own gRPC port, and its config,
 * state and log in `dir`.
 */
export async function secondAgentOf(host: LocalHost, dir: string): Promise<AgentProcess> {
  const address = `127.0.0.1:${await freeLoopbackPort()}`;
  const config = parse(await readFile(host.configPath, 'utf8')) as Record<string, unknown>;
  const configPath = join(dir, 'agent.yml');
  await writeFile(configPath, stringify({ ...config, grpc: { listen: address }, stateDir: dir }));
  return spawnAgent(configPath, address, join(dir, 'agent.log'));
}
