import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SlotStatus, msg } from '@fleetroll/shared';
import { MemoryRolloutStore, Rollout } from '../src/index.js';
import { slotProblems } from '../src/rollout/soak.js';
import {
  FakeFleet,
  NEW,
  OLD,
  capturingLogger,
  servingSlot,
  harness,
  hostState,
  inventory,
  spec,
  until,
} from './rollout-fakes.js';

type Status = msg.RolloutStatus__Output;

const SOAK_MS = 150;

const host = (status: Status, id: string) => {
  const found = status.hosts.find((h) => h.hostId === id);
  assert.ok(found, `no host ${id}`);
  return found;
};

/** The host's slot `a` goes bad as soon as its update ends: it passed its checks, then degraded. */
function degradeAfterUpdate(fleet: FakeFleet, hostId: string, how: Partial<SlotStatus>): void {
  fleet.onCall = (call) => {
    if (call.host === hostId && call.kind === 'update-end') fleet.agent(hostId).degraded.set('a', how);
  };
}

const ID_OLD = `sha256:${'0a'.repeat(32)}`;
const ID_NEW = `sha256:${'0b'.repeat(32)}`;

test('slotProblems: running the image, healthy (or without a check) and serving is fine; anything else is named', () => {
  const ok = servingSlot('a', NEW, 'a', ID_NEW);
  const BUILD = { image: NEW, imageIds: [ID_NEW] };

  assert.deepEqual(slotProblems(ok, BUILD, true), []);
  for (const lbStatus of ['UP 1/3', 'DRAIN', 'no check'])
    assert.deepEqual(slotProblems({ ...ok, lbStatus }, BUILD, true), []);
  assert.deepEqual(slotProblems({ ...ok, health: 'none' }, BUILD, true), []);
  assert.deepEqual(slotProblems({ ...ok, lbStatus: 'DOWN', health: 'unhealthy' }, BUILD, true), [
    'Docker health unhealthy',
    'HAProxy DOWN',
  ]);
  assert.deepEqual(
    slotProblems(
      { ...ok, image: '', containerState: 'missing', health: 'none', lbStatus: 'MAINT' },
      BUILD,
      true,
    ),
    ['runs no container', 'container missing', 'HAProxy MAINT'],
  );
  assert.deepEqual(slotProblems({ ...ok, image: OLD }, BUILD, true), [`runs ${OLD}`]);
  // The tag deployed again under its name: the slot that kept the old build is not done.
  assert.deepEqual(slotProblems({ ...ok, imageId: ID_OLD }, BUILD, true), [
    `runs another build of ${NEW} (${ID_OLD.slice(0, 19)})`,
  ]);
  // An agent that does not say which build: the name is all there is to go by.
  assert.deepEqual(slotProblems({ ...ok, imageId: '' }, BUILD, true), []);
  assert.deepEqual(
    slotProblems({ ...ok, restartCount: 2 }, BUILD, true),
    ['restarted 2 times'],
    'crashed, and back healthy',
  );
  // Over the soak: what went wrong and came right again, against the slot as the soak began.
  const before = { ...ok, restartCount: 1, lbDownCount: 4 };
  assert.deepEqual(slotProblems({ ...ok, restartCount: 1, lbDownCount: 5 }, BUILD, false, before), [
    'went DOWN in HAProxy 1 time during the soak',
  ]);
  assert.deepEqual(slotProblems({ ...ok, restartCount: 3, lbDownCount: 4 }, BUILD, false, before), [
    'restarted 2 times',
  ]);
  assert.deepEqual(
    slotProblems({ ...ok, lbDownCount: 0 }, BUILD, false, before),
    [],
    'HAProxy restarted: no evidence',
  );
  assert.deepEqual(slotProblems({ ...ok, health: 'starting', lbStatus: 'DOWN 1/2' }, BUILD, true), [
    'Docker health starting',
    'HAProxy DOWN 1/2',
  ]);
});

test('soak: the next batch begins only a soak after the last one ended, once its hosts were described again', async () => {
  const { rollout, fleet } = harness({ serial: ['1'], soakMs: SOAK_MS }, inventory(2));
  const t0 = Date.now();
  const final = await rollout.run();
  assert.equal(final.state, 'ROLLOUT_SUCCEEDED');
  assert.ok(Date.now() - t0 >= 2 * SOAK_MS, 'each batch soaked, the last one too');
  // Describe to prepare, as the soak begins, and after it, before the next host's update.
  assert.ok(
    fleet.index('h01', 'describe', 1) > fleet.index('h01', 'update-end'),
    'h01 described as its soak began',
  );
  assert.ok(fleet.index('h01', 'describe', 2) < fleet.index('h02', 'update'), 'h01 checked before h02 began');
  assert.ok(
    fleet.index('h02', 'describe', 2) > fleet.index('h02', 'update-end'),
    'the last batch is checked too',
  );
});

test('soak: without one, nothing is described after the update', async () => {
  const { rollout, fleet } = harness({ serial: ['1'] }, inventory(2));
  assert.equal((await rollout.run()).state, 'ROLLOUT_SUCCEEDED');
  assert.equal(fleet.index('h01', 'describe', 1), -1);
});

test('soak: a host gone bad after its update fails SOAK_CHECK_FAILED; the batch pauses the rollout and the next never begins', async () => {
  const { rollout, fleet } = harness({ serial: ['1'], soakMs: SOAK_MS }, inventory(2));
  degradeAfterUpdate(fleet, 'h01', { lbStatus: 'DOWN', health: 'unhealthy' });
  void rollout.run();
  await until(() => rollout.status().state === 'ROLLOUT_PAUSED', 'the failure pause');
  const paused = rollout.status();
  const h01 = host(paused, 'h01');
  assert.equal(h01.state, 'HOST_FAILED');
  assert.equal(h01.errorCode, 'SOAK_CHECK_FAILED');
  assert.equal(
    h01.message,
    `not serving ${NEW} after the 150 ms soak: a: Docker health unhealthy, HAProxy DOWN`,
  );
  assert.match(
    paused.message,
    /^batch 1: 1 of 1 hosts failed, over the 0% allowed: h01 \(SOAK_CHECK_FAILED: /,
  );
  assert.equal(fleet.index('h02', 'update'), -1, 'h02 never started');
  assert.equal(paused.batches[1]?.startedAtMs, 0);
  rollout.abort();
});

test('soak: with rollback as the failure action, the host that went bad is rolled back with the others', async () => {
  const { rollout, fleet } = harness(
    { serial: ['2'], soakMs: SOAK_MS, failureAction: 'ROLLBACK' },
    inventory(4),
  );
  degradeAfterUpdate(fleet, 'h02', { containerState: 'restarting', health: 'starting' });
  const final = await rollout.run();
  assert.equal(final.state, 'ROLLOUT_ROLLED_BACK');
  for (const id of ['h01', 'h02']) {
    assert.equal(host(final, id).state, 'HOST_ROLLED_BACK', id);
    assert.deepEqual([...fleet.agent(id).images.values()], [OLD, OLD], id);
  }
  assert.equal(fleet.index('h03', 'update'), -1);
});

test('soak: an agent that cannot be asked after the soak fails its host', async () => {
  const { rollout, fleet } = harness({ serial: ['1'], soakMs: SOAK_MS }, inventory(2));
  fleet.onCall = (call) => {
    if (call.host === 'h01' && call.kind === 'update-end') fleet.agent('h01').kill();
  };
  void rollout.run();
  await until(() => hostState(rollout, 'h01') === 'HOST_FAILED', 'h01 failed');
  assert.match(
    host(rollout.status(), 'h01').message,
    /after the 150 ms soak: its agent could not be asked: /,
  );
  rollout.abort();
});

test('soak: an abort during the soak ends the rollout at once, without the check', async () => {
  const soakMs = 60_000;
  const { rollout, fleet } = harness({ serial: ['1'], soakMs }, inventory(2));
  const run = rollout.run();
  await until(() => hostState(rollout, 'h01') === 'HOST_SUCCEEDED', 'h01 done');
  const t0 = Date.now();
  rollout.abort();
  const final = await run;
  assert.ok(Date.now() - t0 < 1_000, `the abort waited ${Date.now() - t0} ms`);
  assert.equal(final.state, 'ROLLOUT_ABORTED');
  assert.equal(fleet.index('h01', 'describe', 2), -1, 'no check after an abort');
  assert.equal(fleet.index('h02', 'update'), -1);
});

/** A 2-host rollout with a 600 ms soak on a store a restarted controller can take it from. */
function restartable() {
  const soakMs = 600;
  const hosts = inventory(2);
  const fleet = new FakeFleet(hosts.map((h) => h.id));
  const store = new MemoryRolloutStore();
  const { log } = capturingLogger();
  const first = new Rollout(spec({ serial: ['1'], soakMs }), hosts, fleet, log, { store, now: Date.now });
  return { soakMs, fleet, store, log, first, run: first.run() };
}

test('soak: a controller restarted mid-soak waits only what is left of it, then checks and goes on', async () => {
  const { soakMs, fleet, store, log, first, run } = restartable();
  await until(() => (first.status().batches[0]?.finishedAtMs ?? 0) > 0, 'batch 1 ended');
  const endedAt = first.status().batches[0]!.finishedAtMs;
  await sleep(300);
  await first.detach('the controller was killed');
  await assert.rejects(run, { code: 'ROLLOUT_DETACHED' });

  let h02At = 0;
  fleet.onCall = (call) => {
    if (call.host === 'h02' && call.kind === 'update') h02At = Date.now();
  };
  const saved = store.get(first.id);
  assert.ok(saved);
  const final = await Rollout.restore(saved, fleet, log, { store, now: Date.now }).run();
  assert.equal(final.state, 'ROLLOUT_SUCCEEDED');
  assert.ok(fleet.index('h01', 'describe', 1) >= 0, 'h01 checked after the restart');
  const waited = h02At - endedAt;
  assert.ok(waited >= soakMs && waited < soakMs + 250, `h02 began ${waited} ms after batch 1 ended`);
});

test('soak: a batch that already failed beyond the limit is not soaked; its failure action runs at once', async () => {
  const { rollout, fleet } = harness({ serial: ['2'], soakMs: 60_000 }, inventory(4));
  fleet.script('h01', { update: 'fail' });
  const t0 = Date.now();
  void rollout.run();
  await until(() => rollout.status().state === 'ROLLOUT_PAUSED', 'the failure pause');
  assert.ok(Date.now() - t0 < 1_000, `paused after ${Date.now() - t0} ms`);
  assert.equal(fleet.index('h02', 'describe', 1), -1, 'h02 (done) was not checked: there was no soak');
  rollout.abort();
});

test('soak: a slot that crashed and came back healthy still fails its host: its container restarted', async () => {
  const { rollout, fleet } = harness({ serial: ['1'], soakMs: SOAK_MS }, inventory(2));
  degradeAfterUpdate(fleet, 'h01', { restartCount: 1 });
  void rollout.run();
  await until(() => hostState(rollout, 'h01') === 'HOST_FAILED', 'h01 failed');
  assert.equal(
    host(rollout.status(), 'h01').message,
    `not serving ${NEW} after the 150 ms soak: a: restarted 1 time`,
  );
  rollout.abort();
});

test('soak: a slot that went DOWN in HAProxy during the soak and came back fails its host all the same', async () => {
  const { rollout, fleet } = harness({ serial: ['1'], soakMs: SOAK_MS }, inventory(2));
  let describes = 0;
  fleet.onCall = (call) => {
    // The third describe of h01 is the check after the soak; the second, as it began, saw it clean.
    if (call.host === 'h01' && call.kind === 'describe' && ++describes === 3) {
      fleet.agent('h01').degraded.set('b', { lbDownCount: 1 });
    }
  };
  void rollout.run();
  await until(() => hostState(rollout, 'h01') === 'HOST_FAILED', 'h01 failed');
  assert.equal(
    host(rollout.status(), 'h01').message,
    `not serving ${NEW} after the 150 ms soak: b: went DOWN in HAProxy 1 time during the soak`,
  );
  rollout.abort();
});

test('soak: a controller restarted mid-soak compares with the counters stored as the soak began, not with its own first look', async () => {
  const { fleet, store, log, first, run } = restartable();
  await until(() => (store.get(first.id)?.hosts[0]?.soakBaseline.length ?? 0) > 0, 'the baseline saved');
  assert.deepEqual(
    store.get(first.id)?.hosts[0]?.soakBaseline.map((b) => [b.slot, b.lbDownCount, b.restartCount]),
    [
      ['a', 0, 0],
      ['b', 0, 0],
    ],
  );
  // Down and back up while this controller soaks; then it dies before the end of the soak.
  fleet.agent('h01').degraded.set('b', { lbDownCount: 1 });
  const detached = assert.rejects(run, { code: 'ROLLOUT_DETACHED' });
  await first.detach('the controller was killed');
  await detached;

  const second = Rollout.restore(store.get(first.id)!, fleet, log, { store, now: Date.now });
  void second.run();
  await until(() => hostState(second, 'h01') === 'HOST_FAILED', 'h01 failed after the restart');
  assert.equal(
    host(second.status(), 'h01').message,
    `not serving ${NEW} after the 600 ms soak: b: went DOWN in HAProxy 1 time during the soak`,
  );
  assert.equal(fleet.index('h02', 'update'), -1);
  second.abort();
});
