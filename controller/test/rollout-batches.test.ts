import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSerialSpec, type StepEvent, type msg } from '@fleetroll/shared';
import { planBatches } from '../src/index.js';
import { NEW, OLD, harness, inventory } from './rollout-fakes.js';

const sorted = (ids: readonly string[]): string[] => [...ids].sort();

test('batches: hosts are updated batch by batch, in the plan’s order and sizes', async () => {
  const hosts = inventory(10);
  const { rollout, fleet } = harness({ serial: ['35%'] }, hosts);
  const final = await rollout.run();

  const plan = planBatches(hosts, parseSerialSpec(['35%'])).map((b) => b.map((h) => h.id));
  assert.deepEqual(
    plan.map((b) => b.length),
    [3, 3, 3, 1],
  );
  assert.deepEqual(
    final.batches.map((b) => b.hostIds),
    plan,
  );
  const order = fleet.updated();
  let start = 0;
  for (const batch of plan) {
    assert.deepEqual(sorted(order.slice(start, start + batch.length)), sorted(batch));
    start += batch.length;
  }
  assert.equal(order.length, 10);
  assert.equal(final.state, 'ROLLOUT_SUCCEEDED');
  for (const host of final.hosts) {
    assert.equal(host.state, 'HOST_SUCCEEDED');
    assert.equal(
      host.batch,
      plan.findIndex((b) => b.includes(host.hostId)),
    );
    assert.deepEqual([host.slotsDone, host.slotsTotal], [2, 2]);
  }
});

test('batches: never more than maxParallel updates at once; 0 means the whole batch', async () => {
  const limited = harness({ maxParallel: 2 }, inventory(6), { script: { slotMs: 5 } });
  await limited.rollout.run();
  assert.equal(limited.fleet.maxInFlight, 2);

  const whole = harness({ serial: ['4'] }, inventory(6), { script: { slotMs: 5 } });
  await whole.rollout.run();
  assert.equal(whole.fleet.maxInFlight, 4);
});

test('batches: a batch pre-pulls on all its hosts before any update; the next is prepared meanwhile, and updates once it ended', async () => {
  const hosts = inventory(6);
  const { rollout, fleet } = harness({ serial: ['2', '3'], maxParallel: 1 }, hosts);
  const final = await rollout.run();
  const batches = final.batches.map((b) => b.hostIds);
  assert.deepEqual(
    batches.map((b) => b.length),
    [2, 3, 1],
  );
  const at = (ids: string[], kind: 'describe' | 'prePull' | 'update' | 'update-end'): number[] =>
    ids.map((id) => fleet.index(id, kind));
  batches.forEach((ids, n) => {
    assert.ok(Math.max(...at(ids, 'prePull')) < Math.min(...at(ids, 'update')), `batch ${n}: pre-pull first`);
    for (const id of ids)
      assert.ok(fleet.index(id, 'describe') < fleet.index(id, 'prePull'), `${id}: describe first`);
    const next = batches[n + 1];
    if (next) {
      assert.ok(Math.max(...at(ids, 'update-end')) < Math.min(...at(next, 'update')), `batch ${n + 1} waits`);
      assert.ok(
        Math.max(...at(next, 'prePull')) < Math.max(...at(ids, 'update-end')),
        `batch ${n + 1} pulled ahead`,
      );
    }
  });
  for (const call of fleet.calls.filter((c) => c.kind === 'prePull' || c.kind === 'update')) {
    assert.equal(call.image, NEW);
  }
});

test('batches: by default one plan covers all groups, in inventory order', async () => {
  const hosts = [
    { id: 'e1', groups: ['eu'] },
    { id: 'u1', groups: ['us'] },
    { id: 'e2', groups: ['eu'] },
    { id: 'u2', groups: ['us'] },
  ];
  const final = await harness({ serial: ['50%'] }, hosts).rollout.run();
  assert.deepEqual(
    final.batches.map((b) => [b.group, b.index, b.hostIds]),
    [
      ['', 0, ['e1', 'u1']],
      ['', 1, ['e2', 'u2']],
    ],
  );
  assert.deepEqual(
    final.hosts.map((h) => [h.hostId, h.group, h.batch]),
    [
      ['e1', 'eu', 0],
      ['u1', 'us', 0],
      ['e2', 'eu', 1],
      ['u2', 'us', 1],
    ],
  );
  assert.deepEqual(
    final.groups.map((g) => [g.group, g.state, g.batchesTotal, g.hostsTotal, g.hostsDone]),
    [
      ['eu', 'GROUP_DONE', 2, 2, 2],
      ['us', 'GROUP_DONE', 2, 2, 2],
    ],
  );
});

/** eu (4 hosts) and us (2) at serial 50%, with groups run as `order` says: each planned on its own. */
async function twoGroups(order: { groupsInParallel: true } | { groupsInSequence: true }) {
  const hosts = inventory({ eu: ['e1', 'e2', 'e3', 'e4'], us: ['u1', 'u2'] });
  const { rollout, fleet } = harness({ serial: ['50%'], ...order }, hosts, { script: { slotMs: 5 } });
  const final = await rollout.run();
  assert.deepEqual(
    final.batches.map((b) => [b.group, b.index, b.hostIds]),
    [
      ['eu', 0, ['e1', 'e2']],
      ['eu', 1, ['e3', 'e4']],
      ['us', 0, ['u1']],
      ['us', 1, ['u2']],
    ],
  );
  return { final, fleet };
}

test('batches: groups in parallel are planned per group and run side by side', async () => {
  const { final, fleet } = await twoGroups({ groupsInParallel: true });
  // us's first batch starts while eu's first batch is still updating.
  assert.ok(fleet.index('u1', 'update') < fleet.index('e1', 'update-end'));
  assert.equal(final.state, 'ROLLOUT_SUCCEEDED');
  assert.deepEqual(
    final.groups.map((g) => [g.group, g.batchesTotal, g.currentBatch]),
    [
      ['eu', 2, 1],
      ['us', 2, 1],
    ],
  );
});

test('batches: timestamps come from the injected clock', async () => {
  let t = 5_000;
  const { rollout } = harness({ serial: ['1'] }, inventory(2), { now: () => (t += 10) });
  const created = rollout.status();
  assert.equal(created.createdAtMs, 5_010);
  assert.equal(created.updatedAtMs, 5_010);
  assert.equal(created.finishedAtMs, 0);
  const final = await rollout.run();
  assert.equal(final.finishedAtMs, t);
  assert.equal(final.updatedAtMs, t);
  const stamps = [
    ...final.hosts.flatMap((h) => [h.startedAtMs, h.finishedAtMs]),
    ...final.batches.flatMap((b) => [b.startedAtMs, b.finishedAtMs]),
  ];
  for (const stamp of stamps) assert.ok(stamp > 5_010 && stamp <= t && stamp % 10 === 0, `stamp ${stamp}`);
  const [b0, b1] = final.batches;
  assert.ok(b0 && b1 && b0.finishedAtMs < b1.startedAtMs);
});

test('status: status() and what listeners get are copies', async () => {
  const { rollout } = harness({}, inventory(2));
  const copy = rollout.status();
  const pristine = rollout.status();
  copy.state = 'ROLLOUT_FAILED';
  copy.serial.push('9');
  copy.hosts[0]!.state = 'HOST_FAILED';
  copy.groups[0]!.pauseReason = 'mine';
  copy.batches[0]!.hostIds.push('zz');
  copy.hosts.length = 0;
  assert.deepEqual(rollout.status(), pristine);
  rollout.onChange((status) => {
    status.hosts.length = 0;
  });
  const final = await rollout.run();
  assert.equal(final.hosts.length, 2);
});

test('status: every step reaches the host status and the listeners, until they unsubscribe', async () => {
  const { rollout } = harness({}, inventory(1));
  const seen: { status: msg.RolloutStatus__Output; steps: readonly StepEvent[] }[] = [];
  const off = rollout.onChange((status, steps) => seen.push({ status, steps }));
  let late = 0;
  const offLate = rollout.onChange(() => (late += 1));
  offLate();
  await rollout.run();
  off();
  assert.equal(late, 0);
  const steps = seen.flatMap((u) => u.steps.map((s) => `${s.step}${s.slot ? `:${s.slot}` : ''}`));
  assert.deepEqual(steps, [
    'HOST_STARTED',
    'SLOT_STARTED:a',
    'SLOT_DONE:a',
    'SLOT_STARTED:b',
    'SLOT_DONE:b',
    'HOST_DONE',
  ]);
  // Steps are saved in groups: each status shows the host as its last step left it.
  for (const { status, steps: saved } of seen.filter((u) => u.steps.length > 0)) {
    const last = saved.at(-1);
    assert.equal(status.hosts[0]?.step, last?.step);
    const done = steps.slice(0, steps.indexOf(`${last?.step}${last?.slot ? `:${last.slot}` : ''}`) + 1);
    assert.equal(status.hosts[0]?.slotsDone, done.filter((s) => s.startsWith('SLOT_DONE')).length);
  }
  const updated = seen.map(({ status }) => status.updatedAtMs);
  assert.deepEqual(
    updated,
    [...updated].sort((a, b) => a - b),
  );
  assert.equal(seen.at(-1)?.status.state, 'ROLLOUT_SUCCEEDED');
});

test('status: slots already on the image count as done', async () => {
  const { rollout } = harness({}, inventory(1), {
    script: {
      slots: [
        { id: 'a', image: NEW },
        { id: 'b', image: OLD },
      ],
    },
  });
  const [host] = (await rollout.run()).hosts;
  assert.deepEqual([host?.state, host?.slotsDone, host?.slotsTotal], ['HOST_SUCCEEDED', 2, 2]);
});

test('batches: groups in sequence are planned per group and run one after another', async () => {
  const { final, fleet } = await twoGroups({ groupsInSequence: true });
  // us starts only once every host of eu has ended.
  const euEnd = Math.max(...['e1', 'e2', 'e3', 'e4'].map((h) => fleet.index(h, 'update-end')));
  assert.ok(fleet.index('u1', 'update') > euEnd);
  assert.equal(final.state, 'ROLLOUT_SUCCEEDED');
});

test('spec: groups cannot run both in parallel and in sequence', () => {
  assert.throws(
    () => harness({ groupsInParallel: true, groupsInSequence: true }, inventory(2)),
    /groups_in_sequence: groups run either in parallel or in sequence, not both/,
  );
});
