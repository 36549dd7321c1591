import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { HaproxyClient } from '@fleetroll/agent';
import { describe } from '@fleetroll/local-fleet';
import { updateHost } from '../support/agent-rpc.js';
import { testLoad } from '../support/fleet-run.js';
import { assertNoFailedRequests } from '../support/assertions.js';
import { localHostForTests } from '../support/local-host.js';

// One host whose HAProxy runs as a master with workers (-W, as Debian's haproxy.service does), its
// agent given the master CLI (-S).
const local = localHostForTests({ hostId: 'h7', index: 7, haproxyMasterWorker: true });

/**
 * Sets app_1..app_3's weights, so that the next requests go where a test wants them. Raised ones
 * first, one at a time: a moment with every server at 0 would answer the load 503.
 */
async function route(weights: number[]): Promise<void> {
  const order = weights.map((w, i) => ({ w, server: `app_${i + 1}` })).sort((a, b) => b.w - a.w);
  for (const { w, server } of order) await local.lb.setWeight('app', server, w);
}

/** A request through the frontend that takes `seconds`: its status, or why it failed. */
function slowRequest(seconds: number): Promise<number | string> {
  return fetch(`${local.host.frontendUrl}/cgi-bin/slow?${seconds}`, {
    signal: AbortSignal.timeout(15_000),
  }).then(
    (res) => res.status,
    (err: Error) => err.message,
  );
}

/**
 * Holds requests on the worker about to be replaced (8 seconds on app_1, 2 seconds three times on
 * app_2), reloads HAProxy, and replaces app2 at once, under load: the drain must wait for the old
 * worker's app_2 requests, and only for those.
 */
async function reloadJustBeforeSlot(rolloutId: string, image: string): Promise<void> {
  // A connection per request: the reload closing idle keep-alive connections is HAProxy's doing.
  const load = testLoad([local.host.frontendUrl], 60_000, { keepAlive: false });
  let report;
  try {
    await sleep(1_000);
    // Through the worker about to be replaced: 8 seconds on app_1, 2 seconds (three times) on app_2.
    // app_1's outlasts the whole slot, whose stop, create and start took up to 2 s on a machine
    // slow to create processes, where 5 s left the old worker gone before the slot ended.
    await route([100, 0, 0]);
    const onApp1 = slowRequest(8);
    await sleep(200);
    await route([0, 100, 0]);
    const onApp2 = [1, 2, 3].map(() => slowRequest(2));
    await sleep(200);
    const oldWorker = await local.lb.processId();
    // The new worker starts with the configured weights.
    await local.host.reloadHaproxy();
    const master = new HaproxyClient({
      socketPath: local.host.socketPath,
      timeoutMs: 2_000,
      masterSocketPath: local.host.haproxyMasterSocket,
    });
    assert.deepEqual(await master.previousProcesses(await local.lb.processId()), [oldWorker]);
    const onOldApp1 = await master.oldProcessSessions(oldWorker, 'app', 'app_1');
    // Undefined while the master re-executes itself: the drain then waits for the worker's exit.
    assert.ok(onOldApp1 === undefined || onOldApp1 >= 1, `the old worker has ${onOldApp1} on app_1`);
    const result = await updateHost(local.host.agent.client, {
      rolloutId,
      image,
      slots: ['app2'],
    });
    assert.equal(result.error, undefined, JSON.stringify(result.error));
    assert.ok(local.lb.processRunning(oldWorker), 'the old worker still serves app_1 as the slot ends');
    const drained = result.events.find((e) => e.slot === 'app2' && e.step === 'DRAINED');
    assert.equal(
      drained?.message,
      `HAProxy had been reloaded just before: waited for the old HAProxy process (pid ${oldWorker}) ` +
        'to finish its requests to app/app_2',
    );
    // The app_2 requests had under 2 s left; the old worker runs until app_1's ends, 7.5 s on.
    const ms = drained?.durationMs ?? 0;
    assert.ok(ms >= 1_000 && ms < 3_500, `drained in ${ms} ms`);
    assert.deepEqual(await Promise.all([...onApp2, onApp1]), [200, 200, 200, 200]);
  } finally {
    report = await load.stop();
  }
  assertNoFailedRequests(report, [local.host]);
}

test('HAProxy reloaded just before the slot, its old worker busy with app_1 too: asked through the master CLI, the drain waits for its app_2 requests only, 0 failed requests', () =>
  reloadJustBeforeSlot('it-master', 'fleetroll-app:v2'));

test('the same for an agent in a pid namespace of its own: it learns of the old worker from the master CLI, 0 failed requests', async () => {
  await local.host.agent.stop();
  const agent = await local.host.restartAgent({ pidNamespace: true });
  try {
    const { warnings } = await describe(agent.client);
    assert.match(warnings.join('\n'), /they run in different pid namespaces/, 'the agent sees HAProxy run');
    // The first test left app2 on v2.
    await reloadJustBeforeSlot('it-master-unseen', 'fleetroll-app:v1');
  } finally {
    await local.host.agent.stop();
    await local.host.restartAgent();
  }
});
