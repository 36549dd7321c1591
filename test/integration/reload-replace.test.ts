import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { updateHost } from '../support/agent-rpc.js';
import { testLoad } from '../support/fleet-run.js';
import { assertNoFailedRequests, httpGet } from '../support/assertions.js';
import { localHostForTests } from '../support/local-host.js';

// One host whose app takes 2 s to stop, as an app finishing its work on SIGTERM does: httpd serves
// on until the shell that got the signal exits. Its HAProxy has no server state file, so a reload
// in that time gives app_2 its configured weight back, and requests that reach the stopping
// container are cut when it exits, unless the agent sets the weight back to 0 at once.
const SLOW_STOP = ['/bin/sh', '-c', "trap 'sleep 2; exit 0' TERM; app-httpd -p 8080 -h /www & wait $!"];

const local = localHostForTests({ hostId: 'h8', index: 8, cmd: SLOW_STOP, haproxyServerState: false });

test('HAProxy reloaded while the old container stops: the weight goes back to 0 at once, not after the new container started, 0 failed requests', async () => {
  const app2 = `http://127.0.0.1:${local.host.slotPorts[1]}/`;
  const next = (await httpGet(app2)) === 'v1' ? 'v2' : 'v1';
  // A connection per request: the reload closing idle keep-alive connections is HAProxy's doing.
  const load = testLoad([local.host.frontendUrl], 60_000, { keepAlive: false });
  let stopped = 0;
  let reloaded: Promise<number> | undefined;
  let report;
  try {
    await sleep(1_500);
    const result = await updateHost(
      local.host.agent.client,
      { rolloutId: 'it-reload-stop', image: `fleetroll-app:${next}`, slots: ['app2'] },
      (e) => {
        if (e.slot !== 'app2') return;
        if (e.step === 'DRAINED') {
          stopped = Date.now();
          // What the weight is 0.5 s after the reload: back to 0 by the agent, or still the configured 100.
          reloaded = local.host
            .reloadHaproxy()
            .then(() => sleep(500))
            .then(() => local.lb.getWeight('app', 'app_2'));
        }
      },
    );
    assert.equal(result.error, undefined, JSON.stringify(result.error));
    const started = result.events.find((e) => e.slot === 'app2' && e.step === 'NEW_STARTED');
    assert.ok(reloaded, 'the slot never reached DRAINED');
    assert.equal(await reloaded, 0, 'app_2 was above weight 0 half a second after the reload');
    assert.ok(
      (started?.atUnixMs ?? 0) - stopped >= 2_000,
      'the old container stopped in under 2 s: the reload may have come after the stop',
    );
    assert.match(
      started?.message ?? '',
      /^HAProxy had app\/app_2 above weight 0 again once while the old container stopped and the new one started .*: set back to 0$/,
    );
  } finally {
    report = await load.stop();
  }
  assertNoFailedRequests(report, [local.host]);
  assert.equal(await local.lb.getWeight('app', 'app_2'), 100);
  assert.equal(await httpGet(app2), next);
});
