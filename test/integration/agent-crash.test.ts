import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { DockerRuntime, HaproxyClient } from '@fleetroll/agent';
import { updateHost } from '../support/agent-rpc.js';
import { testLoad } from '../support/fleet-run.js';
import { assertNoFailedRequests, httpGet } from '../support/assertions.js';
import { describe, startLocalHost, type LocalHost } from '@fleetroll/local-fleet';

let host: LocalHost;

before(async () => {
  host = await startLocalHost({ hostId: 'h3', index: 3 });
});
after(async () => {
  await host?.stop();
});

test('agent SIGKILLed mid-slot: on restart it repairs the slot before serving, then finishes the update', async () => {
  const lb = new HaproxyClient({ socketPath: host.socketPath, timeoutMs: 2_000 });
  const docker = new DockerRuntime({ socketPath: '/var/run/docker.sock' });
  const load = testLoad([host.frontendUrl], 90_000);
  try {
    await new Promise((r) => setTimeout(r, 1_000));
    const victim = host.agent;
    // Kill at the worst moment: app2's old container is stopped and set aside, the new one just started.
    await updateHost(victim.client, { rolloutId: 'it-crash', image: 'fleetroll-app:v2' }, (e) => {
      if (e.slot === 'app2' && e.step === 'NEW_STARTED') process.kill(victim.pid, 'SIGKILL');
    });
    await victim.exited;
    assert.equal(await lb.getWeight('app', 'app_2'), 0, 'the kill landed inside the slot');
    assert.ok(await docker.find(`${host.containers[1]}-fleetroll-old`), 'old container was set aside');

    const agent = await host.restartAgent();
    // Describe answered, so recovery has finished: nothing may be left half done.
    assert.deepEqual(
      await Promise.all([1, 2, 3].map((i) => lb.getWeight('app', `app_${i}`))),
      [100, 100, 100],
    );
    assert.equal(await docker.find(`${host.containers[1]}-fleetroll-old`), null);
    const d = await describe(agent.client);
    assert.deepEqual(
      d.slots.map((s) => s.image),
      ['fleetroll-app:v2', 'fleetroll-app:v1', 'fleetroll-app:v1'],
      'app1 had finished; app2 was rolled back; app3 was never touched',
    );
    assert.ok(d.slots.every((s) => s.containerState === 'running'));
    assert.match(await readFile(agent.logFile, 'utf8'), /recovered 1 interrupted slot/);

    const result = await updateHost(agent.client, { rolloutId: 'it-crash-2', image: 'fleetroll-app:v2' });
    assert.equal(result.events.at(-1)?.step, 'HOST_DONE');
    assert.deepEqual(await Promise.all(host.slotPorts.map((p) => httpGet(`http://127.0.0.1:${p}/`))), [
      'v2',
      'v2',
      'v2',
    ]);
  } finally {
    const report = await load.stop();
    assertNoFailedRequests(report, [host]);
  }
});
