import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codecs, type msg } from '@fleetroll/shared';
import { FileRolloutStore, MemoryRolloutStore, rolloutKey } from '../src/index.js';
import { StatusEncoder, StatusEncoders } from '../src/store/status-encoder.js';
import { harness, inventory } from './rollout-fakes.js';

type Status = msg.RolloutStatus__Output;

/** A status with every kind of field filled: what a rollout really saves after a rollback began. */
async function richStatus(): Promise<Status> {
  const store = new MemoryRolloutStore();
  const { rollout, fleet } = harness(
    { serial: ['1'], failureAction: 'ROLLBACK', maxFail: '10%' },
    inventory(4),
    {
      store,
    },
  );
  fleet.script('h02', { update: 'fail' });
  await rollout.run();
  const status = store.get('r1');
  assert.ok(status);
  return status;
}

test('RolloutStatus codec: what a rollout saves decodes to the very same status', async () => {
  const status = await richStatus();
  assert.equal(status.state, 'ROLLOUT_ROLLED_BACK');
  assert.equal(status.haltReason, 'rollback');
  assert.deepEqual(
    status.hosts.map((h) => h.previousImages.length),
    [2, 2, 2, 0],
    'h03 was prepared while h02 updated, h04 never',
  );
  assert.equal(status.hosts.find((h) => h.hostId === 'h01')?.slotsReplaced, 2);
  assert.equal(status.request?.failureAction, 'ROLLBACK');
  assert.deepEqual(codecs.rolloutStatus.decode(codecs.rolloutStatus.encode(status)), status);
  assert.throws(() => codecs.rolloutStatus.decode(Uint8Array.from([0xff, 0xff, 0xff])), {
    code: 'INVALID_INPUT',
  });
});

test('StatusEncoder: re-encodes only changed hosts, and what it encodes decodes to the status each time', async () => {
  const status = await richStatus();
  const encoder = new StatusEncoder();
  const roundTrip = (): Status => codecs.rolloutStatus.decode(encoder.encode(status));
  assert.deepEqual(roundTrip(), status);
  status.hosts[1]!.message = 'changed';
  status.hosts[1]!.previousImages[0]!.image = 'app:v0';
  status.message = 'also changed';
  assert.deepEqual(roundTrip(), status);
  assert.deepEqual(codecs.rolloutStatus.decode(codecs.rolloutStatus.encode(status)), status);
});

test('StatusEncoders: one per unfinished rollout, the least recently used dropped beyond the limit', async () => {
  const base = await richStatus();
  const encoders = new StatusEncoders(2);
  const running = (id: string): Status => ({ ...base, id, state: 'ROLLOUT_RUNNING', finishedAtMs: 0 });
  for (const id of ['r-a', 'r-b', 'r-a', 'r-c']) {
    assert.deepEqual(codecs.rolloutStatus.decode(encoders.encode(running(id))), running(id));
  }
  assert.deepEqual(encoders.rollouts, ['r-a', 'r-c'], 'r-b, used least recently, dropped');
  encoders.encode({ ...running('r-a'), state: 'ROLLOUT_SUCCEEDED' });
  assert.deepEqual(encoders.rollouts, ['r-c'], 'an ended rollout is dropped');
});

test('saves share the hosts no change touched since the save before, frozen, and still hold the live status', async () => {
  const saved: Status[] = [];
  const live: Status[] = [];
  const store = {
    save: (status: Status) => {
      saved.push(status);
      // Called as the save begins: nothing has changed since its snapshot was taken.
      live.push(rollout.status());
      return Promise.resolve();
    },
  };
  const { rollout, fleet } = harness({ serial: ['2'], failureAction: 'ROLLBACK' }, inventory(6), { store });
  fleet.script('h04', { update: 'fail' });
  await rollout.run();
  assert.ok(saved.length > 5, `saved ${saved.length} times`);
  let shared = 0;
  saved.forEach((status, i) => {
    assert.deepEqual(status, live[i], `save ${i + 1} holds the live status`);
    for (const host of status.hosts) assert.ok(Object.isFrozen(host) && Object.isFrozen(host.previousImages));
    const before = saved[i - 1];
    if (before) shared += status.hosts.filter((h, n) => h === before.hosts[n]).length;
  });
  assert.ok(shared > 0, 'hosts no change touched were handed on, not copied');
});

test('FileRolloutStore: one file per rollout, replaced whole; list reads them back; remove deletes it; a bad file is named', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fleetroll-store-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const store = new FileRolloutStore(join(dir, 'state'));
  assert.deepEqual(await store.list(), [], 'no directory yet: nothing kept');

  const status = await richStatus();
  const other: Status = { ...status, id: 'r-2:b', createdAtMs: status.createdAtMs + 1 };
  await Promise.all([store.save({ ...status, message: 'first' }), store.save(other), store.save(status)]);
  const listed = (await store.list()).sort((a, b) => a.createdAtMs - b.createdAtMs);
  assert.deepEqual(listed, [status, other], 'the last save of each rollout wins');
  assert.deepEqual((await readdir(store.dir)).sort(), ['r-2:b.rollout.pb', 'r1.rollout.pb']);

  // A removal waits for the saves under way: none may bring the file back afterwards.
  const late = store.save({ ...other, message: 'late' });
  await store.remove(other.id);
  await late;
  assert.deepEqual(await store.list(), [status], 'removed, after its last save');
  await store.remove(other.id);

  await assert.rejects(store.save({ ...status, id: '../escape' }), { code: 'INVALID_INPUT' });
  await assert.rejects(store.remove('../escape'), { code: 'INVALID_INPUT' });
  await writeFile(join(store.dir, 'r3.rollout.pb'), Uint8Array.from([0xff, 0xff, 0xff]));
  await assert.rejects(store.list(), {
    code: 'STORE_UNAVAILABLE',
    message: /r3\.rollout\.pb .*move it aside/,
  });
});

test('KV keys: a rollout id with ":" maps to a valid key, reversibly', () => {
  assert.equal(rolloutKey('r-20250101-120000-ab12'), 'r-20250101-120000-ab12');
  assert.equal(rolloutKey('deploy:2025.1'), 'deploy=2025.1');
});
