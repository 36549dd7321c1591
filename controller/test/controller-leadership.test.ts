import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { msg } from '@fleetroll/shared';
import { MemoryRolloutStore } from '../src/index.js';
import {
  FakeFleet,
  NEW,
  controllerCore as core,
  inventory,
  leaderAndStandby,
  until,
} from './rollout-fakes.js';

type Status = msg.RolloutStatus__Output;

const request = { image: NEW, serial: ['1'] } as msg.StartRolloutRequest__Output;

test('a standby answers reads and refuses changes; on takeover it resumes the rollout, and watchers follow it', async () => {
  const { store, fleet, a, b } = await leaderAndStandby(20);
  assert.equal(a.isLeader, true);
  assert.equal(b.isLeader, false);
  await assert.rejects(b.start(request), {
    code: 'NOT_LEADER',
    message: 'cannot start a rollout here: this controller stands by; controller a leads',
  });

  const { id } = await a.start(request);
  await b.refresh();
  assert.equal(b.get(id).id, id, 'the standby reads the store');
  const seen: Status[] = [];
  b.watch(id, (status) => seen.push(status));
  assert.throws(() => b.pause(id), { code: 'NOT_LEADER' });

  // As after a crash: the update the old leader sent is under way on the agent.
  await until(() => a.get(id).hosts[1]?.step === 'SLOT_STARTED', 'batch 2 under way');
  // a loses the lock: it stops acting at once, and refuses changes from now on.
  a.standBy('another controller took the leader lock');
  assert.throws(() => a.abort(id), { code: 'NOT_LEADER' });
  await b.refresh();
  await b.lead();
  assert.equal(b.isLeader, true);

  await until(() => seen.at(-1)?.state === 'ROLLOUT_SUCCEEDED', 'the rollout ends under b', 5_000);
  assert.equal(store.get(id)?.state, 'ROLLOUT_SUCCEEDED');
  const updates = fleet.calls.filter((c) => c.kind === 'update').map((c) => c.host);
  assert.deepEqual(
    updates,
    ['h01', 'h02', 'h02', 'h03'],
    'h02 asked again once its first update ended; h01 never',
  );
  // Ended, it stays readable on both; a stopped one refuses changes with a clear reason.
  assert.throws(() => b.abort(id), { code: 'INVALID_INPUT', message: /already finished/ });
  await a.refresh();
  assert.equal(
    a.get(id).state,
    'ROLLOUT_SUCCEEDED',
    'the deposed controller reads what the new leader saved',
  );
});

test('a rollout stopped by a failing store is resumed from the store once it answers again', async () => {
  const memory = new MemoryRolloutStore();
  let down = false;
  let refused = 0;
  const store = Object.assign(Object.create(memory) as MemoryRolloutStore, {
    save: (s: Status) => {
      if (!down) return memory.save(s);
      refused += 1;
      return Promise.reject(new Error('store down'));
    },
    list: () => (down ? Promise.reject(new Error('store down')) : memory.list()),
  });
  const fleet = new FakeFleet(
    inventory(3).map((h) => h.id),
    { slotMs: 20 },
  );
  const c = core(store, fleet, 'a', { storeRetryMs: 20 });
  await c.lead();
  fleet.onStep = (e) => {
    if (e.hostId === 'h02' && e.step === 'SLOT_STARTED') down = true;
  };
  const { id } = await c.start(request);
  await until(() => refused > 0, 'a save refused mid-rollout');
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.throws(() => c.pause(id), { code: 'STORE_FAILED', message: /resumes once the store answers/ });
  await assert.rejects(c.start(request), { code: 'ROLLOUT_CONFLICT' });
  await new Promise((resolve) => setTimeout(resolve, 100));
  down = false;
  await until(() => memory.get(id)?.state === 'ROLLOUT_SUCCEEDED', 'resumed, finished and saved', 5_000);
  assert.equal(c.get(id).state, 'ROLLOUT_SUCCEEDED');
  for (const h of ['h01', 'h02', 'h03']) assert.deepEqual([...fleet.agent(h).images.values()], [NEW, NEW]);
});

test('the leader keeps the newest keepEnded ended rollouts, in its store and its answers; standbys follow', async () => {
  const store = new MemoryRolloutStore();
  const fleet = new FakeFleet(
    inventory(3).map((h) => h.id),
    { slotMs: 5 },
  );
  const leader = core(store, fleet, 'a', { keepEnded: 2 });
  const standby = core(store, fleet, 'b', { keepEnded: 2 });
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
