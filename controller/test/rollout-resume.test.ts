import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { msg } from '@fleetroll/shared';
import {
  MemoryRolloutStore,
  Rollout,
  lanesOf,
  planResume,
  specFromStatus,
  specToRequest,
  type RolloutSpec,
} from '../src/index.js';
import {
  FakeFleet,
  NEW,
  OLD,
  capturingLogger,
  counter,
  inventory,
  spec,
  until,
  type Call,
} from './rollout-fakes.js';

type Status = msg.RolloutStatus__Output;

const callsOf = (calls: readonly Call[], host: string, kind: Call['kind']): number =>
  calls.filter((c) => c.host === host && c.kind === kind).length;

/**
 * A rollout run until the agent call `crashAt` picks, then "crashed" as that call goes out: the
 * status it had saved last is what a new controller finds; the agents go on with what they were asked.
 */
async function crashedRollout(
  request: msg.StartRolloutRequest,
  hostCount: number,
  crashAt: (call: Call) => boolean,
): Promise<{ saved: Status; fleet: FakeFleet; store: MemoryRolloutStore }> {
  const hosts = inventory(hostCount);
  const fleet = new FakeFleet(
    hosts.map((h) => h.id),
    { slotMs: 20 },
  );
  const store = new MemoryRolloutStore();
  const { log } = capturingLogger();
  const first = new Rollout(spec(request), hosts, fleet, log, { store, now: counter() });
  let saved: Status | undefined;
  fleet.onCall = (call) => {
    if (saved || !crashAt(call)) return;
    saved = store.get(first.id);
    void first.detach('the controller was killed');
  };
  await assert.rejects(first.run(), { code: 'ROLLOUT_DETACHED' });
  assert.ok(saved, 'the crash point was reached');
  return { saved, fleet, store };
}

const host = (status: Status, id: string) => status.hosts.find((h) => h.hostId === id);

test('specToRequest → specFromStatus gives the same spec back, defaults written in', () => {
  const original: RolloutSpec = spec({
    serial: ['1', '30%'],
    groups: ['eu', 'us'],
    maxFail: '12.5%',
    failureAction: 'ROLLBACK',
    maxParallel: 3,
    hostTimeoutMs: 45_000,
    soakMs: 30_000,
    transport: 'nats',
    groupsInSequence: true,
    options: {
      drainTimeoutMs: 9_000,
      minDrainMs: 1,
      healthTimeoutMs: 2,
      minReadyMs: 3,
      stopTimeoutS: 4,
      slotParallelism: 1,
    },
  });
  const status = { id: original.id, request: specToRequest(original) } as Status;
  assert.deepEqual(specFromStatus(status), original);
  // The controller's defaults at the start stay the rollout's, whatever the next controller's are.
  const defaulted = spec({});
  assert.equal(specToRequest(defaulted).hostTimeoutMs, defaulted.hostTimeoutMs);
  assert.throws(() => specFromStatus({ ...status, request: null }), { code: 'INVALID_INPUT' });
});

test('planResume: lanes from the stored batches, hosts in flight, the halt; an ended rollout is refused', () => {
  const hosts = inventory({ eu: ['e1', 'e2', 'e3'], us: ['u1', 'u2'] });
  const rollout = new Rollout(
    spec({ serial: ['1'], groupsInParallel: true }),
    hosts,
    new FakeFleet([]),
    capturingLogger().log,
  );
  const status = rollout.status();
  assert.deepEqual(lanesOf(status), [
    { name: 'eu', batches: [['e1'], ['e2'], ['e3']] },
    { name: 'us', batches: [['u1'], ['u2']] },
  ]);
  const states: Record<string, msg.HostState__Output> = {
    e1: 'HOST_SUCCEEDED',
    e2: 'HOST_UPDATING',
    u1: 'HOST_PULLING',
  };
  for (const h of status.hosts) h.state = states[h.hostId] ?? h.state;
  const plan = planResume({ ...status, haltReason: 'rollback', haltMessage: 'batch 1 failed' });
  assert.deepEqual(plan.inFlight, ['e2', 'u1']);
  assert.deepEqual(plan.halt, { reason: 'rollback', message: 'batch 1 failed' });
  assert.equal(planResume(status).halt, null);
  assert.throws(() => planResume({ ...status, state: 'ROLLOUT_SUCCEEDED' }), { code: 'INVALID_INPUT' });
});

test('restore mid-update: done hosts untouched, the host in flight waited out and asked again, the rest as usual', async () => {
  // serial 1 over 3 hosts: killed as h02 (batch 2) is asked to update.
  const { saved, fleet, store } = await crashedRollout(
    { serial: ['1'] },
    3,
    (call) => call.host === 'h02' && call.kind === 'update',
  );
  assert.equal(host(saved, 'h01')?.state, 'HOST_SUCCEEDED');
  assert.equal(host(saved, 'h02')?.state, 'HOST_UPDATING');
  assert.deepEqual(host(saved, 'h02')?.previousImages, [
    { slot: 'a', image: OLD, imageId: '' },
    { slot: 'b', image: OLD, imageId: '' },
  ]);
  const before = fleet.calls.length;
  const { log } = capturingLogger();
  const resumed = Rollout.restore(saved, fleet, log, { store });
  const final = await resumed.run();

  assert.equal(final.state, 'ROLLOUT_SUCCEEDED', final.message);
  const after = fleet.calls.slice(before);
  assert.equal(
    after.filter((c) => c.host === 'h01').length,
    0,
    'a host done before the crash is not touched again',
  );
  assert.equal(callsOf(after, 'h02', 'update'), 1, 'the host in flight is asked once more');
  assert.equal(callsOf(after, 'h02', 'prePull'), 0, 'and not prepared again');
  assert.ok(
    fleet.index('h02', 'update-end', 0) < fleet.index('h02', 'update', 1),
    'only once the first update ended',
  );
  assert.equal(callsOf(after, 'h03', 'update'), 1);
  for (const id of ['h01', 'h02', 'h03']) assert.deepEqual([...fleet.agent(id).images.values()], [NEW, NEW]);
  // The first update replaced both slots of h02 while nobody watched; the second skipped them.
  assert.equal(host(final, 'h02')?.slotsReplaced, 2);
  assert.equal(final.batches[1]?.startedAtMs, saved.batches[1]?.startedAtMs, 'the batch keeps its start');
  assert.equal(store.get(final.id)?.state, 'ROLLOUT_SUCCEEDED');
});

test('restore of a paused rollout: it stays paused, asks no agent, and runs on resume', async () => {
  const hosts = inventory(2);
  const agents = new FakeFleet(hosts.map((h) => h.id));
  const memory = new MemoryRolloutStore();
  const { log } = capturingLogger();
  const first = new Rollout(spec({ serial: ['1'] }), hosts, agents, log, { store: memory });
  first.pause();
  const run = first.run();
  await until(() => memory.get('r1')?.state === 'ROLLOUT_PAUSED', 'paused, and saved so');
  const paused = memory.get('r1');
  void first.detach('killed');
  await assert.rejects(run, { code: 'ROLLOUT_DETACHED' });
  assert.equal(paused?.state, 'ROLLOUT_PAUSED');

  const resumed = Rollout.restore(paused!, agents, log, { store: memory });
  const done = resumed.run();
  await sleep(30);
  assert.equal(resumed.status().state, 'ROLLOUT_PAUSED');
  assert.equal(agents.calls.length, 0, 'a paused rollout asks nothing of the agents');
  resumed.resume();
  assert.equal((await done).state, 'ROLLOUT_SUCCEEDED');
});

test('restore of a halted rollout: no pending host starts; it ends the way the first halt said', async () => {
  const hosts = inventory(3);
  const agents = new FakeFleet(
    hosts.map((h) => h.id),
    { slotMs: 5 },
  );
  agents.script('h01', { update: 'fail' });
  const memory = new MemoryRolloutStore();
  const { log } = capturingLogger();
  const first = new Rollout(spec({ serial: ['1'], failureAction: 'ABORT' }), hosts, agents, log, {
    store: memory,
  });
  let saved: Status | undefined;
  first.onChange((s) => {
    if (!saved && s.haltReason !== '') {
      saved = memory.get('r1');
      void first.detach('killed');
    }
  });
  await assert.rejects(first.run(), { code: 'ROLLOUT_DETACHED' });
  assert.equal(saved?.haltReason, 'fail');
  const before = agents.calls.length;
  const final = await Rollout.restore(saved!, agents, log, { store: memory }).run();
  assert.equal(final.state, 'ROLLOUT_FAILED');
  assert.match(final.message, /batch 1: 1 of 1 hosts failed/);
  assert.equal(agents.calls.length, before, 'no agent was asked anything');
  assert.equal(host(final, 'h02')?.state, 'HOST_SKIPPED');
});

test('restore during a rollback: the host cut short is rolled back again, to the images kept in the status', async () => {
  const hosts = inventory(2);
  const agents = new FakeFleet(
    hosts.map((h) => h.id),
    { slotMs: 20 },
  );
  agents.script('h02', { update: 'fail', failAt: 0 });
  const memory = new MemoryRolloutStore();
  const { log } = capturingLogger();
  const first = new Rollout(spec({ serial: ['1'], failureAction: 'ROLLBACK' }), hosts, agents, log, {
    store: memory,
  });
  let saved: Status | undefined;
  // Killed as h01 is asked to go back to the old image.
  agents.onCall = (call) => {
    if (saved || call.host !== 'h01' || call.kind !== 'update' || call.image !== OLD) return;
    saved = memory.get('r1');
    void first.detach('killed');
  };
  await assert.rejects(first.run(), { code: 'ROLLOUT_DETACHED' });
  assert.equal(saved?.state, 'ROLLOUT_ROLLING_BACK');
  const final = await Rollout.restore(saved!, agents, log, { store: memory }).run();
  assert.equal(final.state, 'ROLLOUT_ROLLED_BACK', final.message);
  assert.equal(host(final, 'h01')?.state, 'HOST_ROLLED_BACK');
  assert.deepEqual([...agents.agent('h01').images.values()], [OLD, OLD]);
});

test('detach: nothing more is saved or sent, and no agent is asked to stop', async () => {
  const hosts = inventory(2);
  const agents = new FakeFleet(
    hosts.map((h) => h.id),
    { slotMs: 30 },
  );
  const memory = new MemoryRolloutStore();
  const { log } = capturingLogger();
  const rollout = new Rollout(spec({ serial: ['1'] }), hosts, agents, log, { store: memory });
  const run = rollout.run();
  await until(() => agents.calls.some((c) => c.kind === 'update'), 'h01 asked to update');
  void rollout.detach('another controller leads');
  await assert.rejects(run, { code: 'ROLLOUT_DETACHED', message: /another controller leads/ });
  const saved = memory.get('r1');
  await until(() => agents.calls.some((c) => c.kind === 'update-end'), 'the agent finished on its own');
  await sleep(30);
  assert.deepEqual(memory.get('r1'), saved, 'nothing saved after the detach');
  assert.equal(agents.calls.filter((c) => c.kind === 'abort').length, 0);
  assert.equal(callsOf(agents.calls, 'h02', 'update'), 0, 'the next batch never began');
  assert.throws(() => rollout.pause(), { code: 'ROLLOUT_DETACHED' });
});

test('detach during a save: the change it was saving is not acted on', async () => {
  const hosts = inventory(1);
  const agents = new FakeFleet(hosts.map((h) => h.id));
  const memory = new MemoryRolloutStore();
  // Slow saves: the update is decided (in memory) well before it may be sent.
  let savingUpdate = false;
  const store = {
    save: (s: Status) => {
      savingUpdate ||= s.hosts[0]?.state === 'HOST_UPDATING';
      return sleep(40).then(() => memory.save(s));
    },
  };
  const { log } = capturingLogger();
  const rollout = new Rollout(spec({}), hosts, agents, log, { store });
  const stopped = assert.rejects(rollout.run(), { code: 'ROLLOUT_DETACHED' });
  await until(() => savingUpdate, 'the update decided, and being saved');
  await rollout.detach('another controller leads');
  await stopped;
  await sleep(20);
  assert.equal(memory.get('r1')?.hosts[0]?.state, 'HOST_UPDATING', 'the save under way landed');
  assert.equal(agents.updated().length, 0, 'but the update was never sent');
});

test('restore keeps the pinned build: the updates it sends ask for it, a host prepared after it with another fails IMAGE_MISMATCH', async () => {
  const { saved, fleet, store } = await crashedRollout(
    { serial: ['1'], maxFail: '100%' },
    3,
    (call) => call.host === 'h02' && call.kind === 'update',
  );
  const pinned = [`sha256:${'a'.repeat(64)}`];
  const status = { ...saved, imageIds: pinned, imageIdsHost: 'h01' };
  fleet.agent('h03').buildIds = [`sha256:${'c'.repeat(64)}`];
  const before = fleet.calls.length;
  const final = await Rollout.restore(status, fleet, capturingLogger().log, { store }).run();

  const updates = fleet.calls.slice(before).filter((c) => c.kind === 'update');
  // h02 is asked again (twice when its first update was still running): h03 never.
  assert.ok(updates.length > 0);
  for (const call of updates) assert.deepEqual([call.host, call.imageIds], ['h02', pinned]);
  assert.equal(host(final, 'h03')?.errorCode, 'IMAGE_MISMATCH');
  assert.deepEqual(final.imageIds, pinned);
});
