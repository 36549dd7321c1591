import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError } from '@fleetroll/shared';
import { MemoryRolloutStore, Rollout } from '../src/index.js';
import {
  FakeFleet,
  capturingLogger,
  groupState,
  harness,
  hostState,
  inventory,
  spec,
  until,
} from './rollout-fakes.js';

test('pause after batch 1: the first batch runs, the rollout pauses with the reason, nothing more starts until resumed', async () => {
  const { rollout, fleet } = harness({ serial: ['1'], pauseAfter: [1] }, inventory(3));
  const run = rollout.run();
  await until(() => rollout.status().state === 'ROLLOUT_PAUSED', 'the pause after batch 1');
  const paused = rollout.status();
  assert.equal(hostState(rollout, 'h01'), 'HOST_SUCCEEDED');
  assert.equal(
    paused.message,
    'batch 1 done; paused as the rollout asked (pause after batch 1): resume it to go on',
  );
  assert.ok((paused.batches[0]?.heldAtMs ?? 0) > 0, 'batch 1 is marked held');
  assert.equal(paused.batches[1]?.startedAtMs, 0);
  assert.equal(fleet.index('h02', 'update'), -1, 'h02 never started');

  rollout.resume();
  const final = await run;
  assert.equal(final.state, 'ROLLOUT_SUCCEEDED', 'once resumed it goes on without pausing again');
  assert.equal(final.batches[1]?.heldAtMs, 0);
  assert.equal(final.batches[2]?.heldAtMs, 0);
});

test('pause after: several batches, each held once; the request keeps the numbers in order', async () => {
  const { rollout } = harness({ serial: ['1'], pauseAfter: [3, 1, 3] }, inventory(4));
  assert.deepEqual(rollout.status().request?.pauseAfter, [1, 3]);
  const run = rollout.run();
  for (const batch of [1, 3]) {
    await until(() => rollout.status().state === 'ROLLOUT_PAUSED', `the pause after batch ${batch}`);
    assert.match(rollout.status().message, new RegExp(`^batch ${batch} done; paused`));
    assert.equal(hostState(rollout, `h0${batch + 1}`), 'HOST_PENDING');
    rollout.resume();
  }
  assert.equal((await run).state, 'ROLLOUT_SUCCEEDED');
});

test('pause after: with groups in parallel, only the group whose batch ended waits', async () => {
  const { rollout, fleet } = harness(
    { serial: ['1'], pauseAfter: [1], groupsInParallel: true },
    inventory({ eu: ['e1', 'e2'], us: ['u1', 'u2', 'u3'] }),
  );
  const run = rollout.run();
  await until(() => groupState(rollout, 'eu') === 'GROUP_PAUSED', 'eu held');
  await until(() => groupState(rollout, 'us') === 'GROUP_PAUSED', 'us held');
  assert.equal(fleet.index('e2', 'update'), -1);
  assert.equal(fleet.index('u2', 'update'), -1);
  rollout.resume('eu');
  await until(() => hostState(rollout, 'e2') === 'HOST_SUCCEEDED', 'eu went on');
  assert.equal(groupState(rollout, 'us'), 'GROUP_PAUSED', 'us still waits for its own resume');
  rollout.resume('us');
  assert.equal((await run).state, 'ROLLOUT_SUCCEEDED');
});

test('pause after: a number with nothing after it, or batch 0, is refused before anything starts', () => {
  const fleet = new FakeFleet(['h01', 'h02']);
  const { log } = capturingLogger();
  assert.throws(
    () => new Rollout(spec({ serial: ['1'], pauseAfter: [2] }), inventory(2), fleet, log),
    (err: unknown) =>
      err instanceof InvalidInputError &&
      err.message ===
        'invalid rollout request: pause_after: the rollout has 2 batches, so after batch 2 nothing would be held back',
  );
  assert.throws(
    () => spec({ serial: ['1'], pauseAfter: [0] }),
    (err: unknown) =>
      err instanceof InvalidInputError && /pause_after\.0: batches are numbered from 1/.test(err.message),
  );
  assert.equal(fleet.calls.length, 0);
});

test('pause after: a controller restarted while held stays paused; restarted after the resume, it does not pause again', async () => {
  const hosts = inventory(3);
  const fleet = new FakeFleet(hosts.map((h) => h.id));
  const store = new MemoryRolloutStore();
  const { log } = capturingLogger();
  const first = new Rollout(spec({ serial: ['1'], pauseAfter: [1] }), hosts, fleet, log, { store });
  const run = first.run();
  await until(() => first.status().state === 'ROLLOUT_PAUSED', 'held');
  const detached = assert.rejects(run, { code: 'ROLLOUT_DETACHED' });
  await first.detach('the controller was killed', true);
  await detached;

  const second = Rollout.restore(store.get(first.id)!, fleet, log, { store });
  const secondRun = second.run();
  await until(() => second.status().state === 'ROLLOUT_PAUSED', 'still held after the restart');
  assert.equal(fleet.index('h02', 'update'), -1);
  const detachedAgain = assert.rejects(secondRun, { code: 'ROLLOUT_DETACHED' });
  await second.detach('killed again', true);
  await detachedAgain;

  // What the store holds once an operator resumed and the controller died before batch 2 began:
  // the held status with its pause lifted, as the reducer's 'resumed' lifts it.
  const resumed = store.get(first.id)!;
  assert.ok((resumed.batches[0]?.heldAtMs ?? 0) > 0, 'batch 1 is marked held in the store');
  assert.equal(resumed.batches[1]?.startedAtMs, 0);
  for (const g of resumed.groups) g.pauseReason = '';
  resumed.message = '';

  const third = Rollout.restore(resumed, fleet, log, { store });
  void third.run();
  await until(() => third.status().state !== 'ROLLOUT_RUNNING', 'the third controller to finish', 5_000);
  assert.equal(third.status().state, 'ROLLOUT_SUCCEEDED');
});
