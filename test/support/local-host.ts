import { after, before } from 'node:test';
import { HaproxyClient } from '@fleetroll/agent';
import { startLocalHost, type LocalHost, type LocalHostOptions } from '@fleetroll/local-fleet';

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
