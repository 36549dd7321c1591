import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { msg } from '@fleetroll/shared';
import { MemoryRolloutStore } from '../src/index.js';
import { ControllerCore } from '../src/service/controller-core.js';
import { FakeFleet, NEW, capturingLogger, inventory, until } from './rollout-fakes.js';

const hosts = inventory(2);

function core(store: MemoryRolloutStore, fleet: FakeFleet): ControllerCore {
  return new ControllerCore({
    log: capturingLogger().log,
    defaultTransport: 'grpc',
    defaults: { hostTimeoutMs: 60_000, maxParallel: 0 },
    hosts: () => Promise.resolve(hosts),
    directory: () => fleet,
    agents: () => Promise.resolve([]),
    store,
    keepEnded: 2,
  });
}

const request = { image: NEW, serial: ['1'] } as msg.StartRolloutRequest__Output;

test('the leader keeps the newest keepEnded ended rollouts, in its store and its answers; standbys follow', async () => {
  const store = new MemoryRolloutStore();
  const fleet = new FakeFleet(
    hosts.map((h) => h.id),
    { slotMs: 5 },
  );
  const leader = core(store, fleet);
  const standby = core(store, fleet);
  await leader.lead();
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const { id } = await leader.start(request);
    ids.push(id);
    await until(() => leader.list().every((s) => s.state === 'ROLLOUT_SUCCEEDED'), `rollout ${i + 1} ends`);
  }
  const [oldest, ...newest] = ids as [string, string, string];
  await until(() => store.get(oldest) === undefined, 'the oldest deleted from the store');
  assert.deepEqual((await store.list()).map((s) => s.id).sort(), [...newest].sort());
  assert.deepEqual(
    leader.list().map((s) => s.id),
    [...newest].reverse(),
    'newest first, the oldest gone',
  );
  assert.throws(() => leader.get(oldest), { code: 'UNKNOWN_ROLLOUT' });

  await standby.refresh();
  assert.deepEqual(
    standby.list().map((s) => s.id),
    [...newest].reverse(),
  );
});
