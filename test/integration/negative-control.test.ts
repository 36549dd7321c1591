import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { DockerRuntime } from '@fleetroll/agent';
import { startLoad, startLocalHost, type LocalHost } from '@fleetroll/local-fleet';

// Proves that "0 failed requests" elsewhere means something: the very same
// container replacement, under the very same load, but WITHOUT taking the server
// out of HAProxy first, must be seen failing by the checker.
let host: LocalHost;

before(async () => {
  host = await startLocalHost({ hostId: 'h4', index: 4 });
});
after(async () => {
  await host?.stop();
});

test('negative control: replacing a container without weight 0 drops requests, and the checker sees it', async () => {
  const docker = new DockerRuntime({ socketPath: '/var/run/docker.sock' });
  const load = startLoad({ targets: [host.frontendUrl], rps: 240, slowEvery: 5, maxDurationMs: 30_000 });
  await sleep(1_500);
  const name = host.containers[0]!;
  const old = await docker.inspect(name);
  await docker.stop(old.id, 5);
  await docker.rename(old.id, `${name}-old`);
  const id = await docker.createFrom(old.id, name, 'fleetroll-app:v2');
  await docker.start(id);
  for (let i = 0; i < 100 && (await docker.inspect(id)).health !== 'healthy'; i++) await sleep(50);
  await sleep(1_000);
  const report = await load.stop();
  await docker.remove(old.id);
  assert.ok(report.failed > 0, `expected failed requests without draining, saw none of ${report.total}`);
  console.log(
    `negative control: ${report.failed} of ${report.total} requests failed (${JSON.stringify(report.byReason)})`,
  );
});
