import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidInputError, type msg } from '@fleetroll/shared';
import type { Rollout, RolloutStore } from '../src/index.js';
import { groupState, harness, hostState, inventory, until, type Call } from './rollout-fakes.js';

type Status = msg.RolloutStatus__Output;

/** Its update is under way on the agent, not only decided. */
const slotStarted = (rollout: Rollout, id: string): boolean =>
  rollout.status().hosts.some((h) => h.hostId === id && h.step === 'SLOT_STARTED');

const updatesOf = (calls: readonly Call[], id: string): number =>
  calls.filter((c) => c.host === id && c.kind === 'update').length;

test('pause(group): that group stops at a slot boundary and waits, the other goes on; resume re-runs it', async () => {
  const hosts = inventory({ eu: ['e1', 'e2', 'e3'], us: ['u1', 'u2', 'u3'] });
  const { rollout, fleet } = harness({ serial: ['1'], groupsInParallel: true }, hosts, {
    script: { slotMs: 15 },
  });
  const run = rollout.run();
  await until(() => slotStarted(rollout, 'e1'), 'e1 on a slot');

  const pausing = rollout.pause('eu');
  assert.equal(pausing.groups.find((g) => g.group === 'eu')?.state, 'GROUP_PAUSING');
  assert.match(
    pausing.groups.find((g) => g.group === 'eu')?.pauseReason ?? '',
    /^group eu paused by operator$/,
  );
  await until(() => fleet.index('e1', 'abort') >= 0, 'abort asked of e1');
  await until(() => groupState(rollout, 'eu') === 'GROUP_PAUSED', 'eu paused');
  assert.equal(hostState(rollout, 'e1'), 'HOST_PENDING');
  assert.match(rollout.status().hosts[0]?.message ?? '', /^paused: .*; runs again on resume$/);

  await until(() => groupState(rollout, 'us') === 'GROUP_DONE', 'us done');
  assert.equal(rollout.status().state, 'ROLLOUT_PAUSED');
  assert.equal(updatesOf(fleet.calls, 'e2') + updatesOf(fleet.calls, 'e3'), 0, 'no new eu host started');
  assert.equal(updatesOf(fleet.calls, 'e1'), 1);

  rollout.resume('eu');
  const final = await run;
  assert.equal(final.state, 'ROLLOUT_SUCCEEDED');
  assert.equal(updatesOf(fleet.calls, 'e1'), 2, 'the stopped host ran again');
  assert.deepEqual([...fleet.agent('e1').images.values()], ['registry:5000/app:v2', 'registry:5000/app:v2']);
});

test('pause(): a host whose update was decided but not yet sent is not sent, and runs on resume', async () => {
  const { rollout, fleet } = harness({}, inventory(1));
  let paused = false;
  rollout.onChange((status) => {
    if (!paused && status.hosts[0]?.state === 'HOST_UPDATING') {
      paused = true;
      rollout.pause();
    }
  });
  const run = rollout.run();
  await until(() => rollout.status().state === 'ROLLOUT_PAUSED', 'paused');
  assert.equal(fleet.updated().length, 0);
  assert.equal(fleet.calls.filter((c) => c.kind === 'abort').length, 0);
  assert.match(rollout.status().hosts[0]?.message ?? '', /^paused: before its update began/);
  rollout.resume();
  assert.equal((await run).state, 'ROLLOUT_SUCCEEDED');
  assert.equal(fleet.updated().length, 1);
});

test('pause(group) with one plan for all groups: the batch waits for the paused group', async () => {
  const hosts = [
    { id: 'e1', groups: ['eu'] },
    { id: 'u1', groups: ['us'] },
    { id: 'e2', groups: ['eu'] },
    { id: 'u2', groups: ['us'] },
  ];
  const { rollout, fleet } = harness({ serial: ['2'] }, hosts);
  rollout.pause('eu');
  const run = rollout.run();
  await until(() => hostState(rollout, 'u1') === 'HOST_SUCCEEDED', 'u1 done');
  await sleep(20);
  assert.deepEqual(fleet.updated(), ['u1']);
  assert.equal(rollout.status().batches[1]?.startedAtMs, 0);
  assert.equal(rollout.status().state, 'ROLLOUT_RUNNING');
  rollout.resume();
  assert.equal((await run).state, 'ROLLOUT_SUCCEEDED');
});

test('pause() before run: nothing starts and the rollout is PAUSED until resume()', async () => {
  const { rollout, fleet } = harness({}, inventory(2));
  assert.equal(rollout.pause().state, 'ROLLOUT_PAUSED');
  const run = rollout.run();
  await sleep(20);
  assert.equal(fleet.calls.length, 0);
  assert.equal(rollout.status().state, 'ROLLOUT_PAUSED');
  assert.equal(rollout.resume().state, 'ROLLOUT_RUNNING');
  assert.equal((await run).state, 'ROLLOUT_SUCCEEDED');
});

test('abort(): no new host starts, hosts in flight are asked to stop, the rollout ends ABORTED', async () => {
  const { rollout, fleet } = harness({ serial: ['2'] }, inventory(4), { script: { slotMs: 15 } });
  const run = rollout.run();
  await until(() => slotStarted(rollout, 'h01'), 'h01 on its first slot');
  rollout.abort();
  const final = await run;
  assert.equal(final.state, 'ROLLOUT_ABORTED');
  assert.equal(final.message, 'aborted by operator');
  assert.ok(fleet.index('h01', 'abort') >= 0);
  assert.deepEqual(
    final.hosts.map((h) => h.state),
    ['HOST_SKIPPED', 'HOST_SKIPPED', 'HOST_SKIPPED', 'HOST_SKIPPED'],
  );
  assert.match(final.hosts[0]?.message ?? '', /^stopped: /);
  assert.equal(final.hosts[0]?.slotsDone, 1, 'h01 stopped after its first slot');
  assert.equal(final.hosts[2]?.message, 'not started: the rollout was aborted');
  assert.deepEqual(fleet.updated().sort(), ['h01', 'h02']);
});

test('abort() while a batch pre-pulls: the rollout ends ABORTED at once, not when the pull ends; the batch never began', async () => {
  // Minutes, as a large image on a slow link may take (short enough for this process to end).
  const { rollout, fleet } = harness({ serial: ['2'], hostTimeoutMs: 30_000 }, inventory(4));
  fleet.script('h01', { prePull: 'hang' });
  const run = rollout.run();
  await until(() => hostState(rollout, 'h01') === 'HOST_PULLING', 'h01 pulling');
  await until(() => hostState(rollout, 'h02') === 'HOST_PENDING', 'h02 pulled');
  rollout.abort();
  const final = await Promise.race([run, sleep(2_000).then(() => undefined)]);
  assert.ok(final, 'the rollout still waited on the pull 2 s after the abort');
  assert.equal(final.state, 'ROLLOUT_ABORTED');
  assert.equal(final.batches[0]?.startedAtMs, 0, 'batch 1 shown as begun');
  assert.deepEqual(fleet.updated(), []);
  assert.deepEqual(
    final.hosts.map((h) => [h.hostId, h.state, h.message]),
    ['h01', 'h02', 'h03', 'h04'].map((id) => [id, 'HOST_SKIPPED', 'not started: the rollout was aborted']),
  );
});

test('abort() during a failure pause ends the rollout ABORTED', async () => {
  const { rollout, fleet } = harness({ serial: ['1'] }, inventory(2));
  fleet.script('h01', { update: 'fail' });
  const run = rollout.run();
  await until(() => rollout.status().state === 'ROLLOUT_PAUSED', 'failure pause');
  rollout.abort();
  const final = await run;
  assert.equal(final.state, 'ROLLOUT_ABORTED');
  assert.equal(final.hosts[1]?.state, 'HOST_SKIPPED');
});

test('controls: unknown groups and finished rollouts are refused with a plain message', async () => {
  const { rollout } = harness({}, inventory({ eu: ['e1'], us: ['u1'] }));
  const refused = (fn: () => unknown, message: string) =>
    assert.throws(fn, (err: unknown) => err instanceof InvalidInputError && err.message === message);
  refused(() => rollout.pause('ap'), 'unknown group "ap" (rollout r1 has eu, us)');
  refused(() => rollout.resume('ap'), 'unknown group "ap" (rollout r1 has eu, us)');
  await rollout.run();
  refused(() => rollout.pause(), 'rollout r1 has already finished (succeeded); there is nothing to pause');
  refused(
    () => rollout.pause('eu'),
    'rollout r1 has already finished (succeeded); there is nothing to pause',
  );
  refused(() => rollout.resume(), 'rollout r1 has already finished (succeeded); there is nothing to resume');
  refused(() => rollout.abort(), 'rollout r1 has already finished (succeeded); there is nothing to abort');
});

test('controls: a finished group cannot be paused while the rollout runs', async () => {
  const hosts = inventory({ eu: ['e1'], us: ['u1', 'u2'] });
  const { rollout } = harness({ serial: ['1'], groupsInParallel: true }, hosts, { script: { slotMs: 10 } });
  const run = rollout.run();
  await until(() => groupState(rollout, 'eu') === 'GROUP_DONE', 'eu done');
  assert.throws(() => rollout.pause('eu'), {
    name: 'InvalidInputError',
    message: 'group eu of rollout r1 has already finished; there is nothing to pause',
  });
  await run;
});

type Entry =
  { readonly kind: 'saved'; readonly status: Status } | { readonly kind: 'call'; readonly call: Call };

class SlowStore implements RolloutStore {
  constructor(private readonly timeline: Entry[]) {}

  async save(status: Status): Promise<void> {
    await sleep(1);
    this.timeline.push({ kind: 'saved', status: structuredClone(status) });
  }
}

test('store: every change is saved before the agent call it leads to', async () => {
  const timeline: Entry[] = [];
  const hosts = inventory({ eu: ['e1', 'e2'], us: ['u1', 'u2'] });
  const { rollout, fleet } = harness({ serial: ['1'], groupsInParallel: true }, hosts, {
    store: new SlowStore(timeline),
    script: { slotMs: 30 },
  });
  fleet.onCall = (call) => timeline.push({ kind: 'call', call });
  const run = rollout.run();
  await until(() => slotStarted(rollout, 'e1'), 'e1 on a slot');
  rollout.pause('eu');
  await until(() => rollout.status().state === 'ROLLOUT_PAUSED', 'paused');
  rollout.resume();
  await until(() => slotStarted(rollout, 'e2'), 'e2 on a slot');
  rollout.abort();
  await run;

  let saved: Status | undefined;
  const checked = new Set<string>();
  for (const entry of timeline) {
    if (entry.kind === 'saved') {
      saved = entry.status;
      continue;
    }
    const { host, kind } = entry.call;
    const before = saved?.hosts.find((h) => h.hostId === host);
    const group = saved?.groups.find((g) => g.group === before?.group);
    // Describing and pulling touch no slot: they need no save first. An update needs its rollback target.
    if (kind === 'update') {
      assert.equal(before?.state, 'HOST_UPDATING', `update ${host}`);
      assert.equal(before?.previousImages.length, 2, `rollback target of ${host}`);
    }
    if (kind === 'abort') {
      const intent = group?.pauseReason !== '' || saved?.message === 'aborted by operator';
      assert.ok(intent, `abort ${host} without a saved pause or abort`);
    }
    checked.add(kind);
  }
  assert.deepEqual([...checked].sort(), ['abort', 'describe', 'prePull', 'update', 'update-end']);
  assert.ok(fleet.calls.some((c) => c.kind === 'abort'));
  const last = timeline.filter((e) => e.kind === 'saved').at(-1);
  assert.equal(last?.kind === 'saved' && last.status.state, 'ROLLOUT_ABORTED');
});

test('store: a failed save stops the rollout; run() rejects and nothing more is asked of the agents', async () => {
  // The save that would let the first update go out.
  const store: RolloutStore = {
    save: (status) =>
      status.hosts.some((h) => h.state === 'HOST_UPDATING')
        ? Promise.reject(new Error('disk full'))
        : Promise.resolve(),
  };
  const { rollout, fleet, lines } = harness({ serial: ['1'] }, inventory(3), { store });
  await assert.rejects(rollout.run(), { code: 'STORE_FAILED', message: 'cannot save rollout r1: disk full' });
  const calls = fleet.calls.length;
  await sleep(20);
  assert.equal(fleet.calls.length, calls);
  assert.equal(fleet.updated().length, 0, 'the update was never sent');
  assert.throws(() => rollout.pause(), { code: 'STORE_FAILED' });
  assert.ok(lines.some((l) => l.code === 'INTERNAL' && /disk full/.test(l.msg)));
});
