import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostAgent } from '../src/host.js';
import { TIMINGS, capturingLog, fakeHost } from './fakes.js';

const cmd = (image: string, slots: string[] = [], imageIds: string[] = []) => ({
  rolloutId: 'r1',
  image,
  slots,
  imageIds,
  timings: { ...TIMINGS },
});

test('updates every slot in turn, one at a time', async () => {
  const h = fakeHost();
  const host = new HostAgent(h.config, h.deps);
  const outcome = await host.update(cmd('app:v2'), h.emit);
  assert.equal(outcome.status, 'done');
  for (const c of ['c1', 'c2', 'c3']) assert.equal(h.runtime.byName(c)?.image, 'app:v2');
  // One slot out at a time: each slot's weight is restored before the next goes to 0.
  const weights = h.trail.filter((t) => t.startsWith('weight'));
  assert.deepEqual(weights, [
    'weight app/app_1 0',
    'weight app/app_1 37',
    'weight app/app_2 0',
    'weight app/app_2 100',
    'weight app/app_3 0',
    'weight app/app_3 100',
  ]);
  assert.equal(h.events[0]?.step, 'HOST_STARTED');
  assert.equal(h.events[1]?.step, 'IMAGE_READY');
  assert.equal(h.events.at(-1)?.step, 'HOST_DONE');
});

test('a failed slot stops the host: later slots are not touched', async () => {
  const h = fakeHost();
  const host = new HostAgent(h.config, h.deps);
  const outcome = await host.update(cmd('app:broken'), h.emit);
  assert.equal(outcome.status, 'failed');
  assert.equal(outcome.slots.length, 1);
  assert.equal(h.runtime.byName('c2')?.image, 'app:v1');
  assert.ok(!h.trail.some((t) => t.includes('app_2')));
  assert.equal(h.events.at(-1)?.step, 'HOST_FAILED');
  assert.equal(h.events.at(-1)?.errorCode, 'HEALTH_CHECK_FAILED');
});

test('an image that names another build here than the rollout rolls out fails the host before any slot: IMAGE_MISMATCH', async () => {
  const h = fakeHost();
  const host = new HostAgent(h.config, h.deps);
  const outcome = await host.update(cmd('app:v2', [], ['sha256:v1', 'app@sha256:old']), h.emit);
  assert.deepEqual(outcome, { status: 'failed', slots: [] });
  assert.deepEqual(h.trail, ['pull app:v2'], 'nothing but the pull');
  const last = h.events.at(-1);
  assert.equal(last?.step, 'HOST_FAILED');
  assert.equal(last?.errorCode, 'IMAGE_MISMATCH');
  assert.match(
    last?.message ?? '',
    /^app:v2 is sha256:v2 here, not sha256:v1, the build this update must install: /,
  );
  assert.equal(
    (await host.update(cmd('app:v2', [], ['sha256:other-platform', 'sha256:v2']), h.emit)).status,
    'done',
    'the same build (one of its ids) goes',
  );
});

test('the tag is moved mid-update: the next slot would get another build, so it fails IMAGE_MISMATCH and keeps its old container', async () => {
  const h = fakeHost();
  const host = new HostAgent(h.config, h.deps);
  const outcome = await host.update(cmd('app:v2'), (e) => {
    h.emit(e);
    if (e.step === 'SLOT_DONE' && e.slot === 'app1') h.runtime.images.set('app:v2', 'sha256:v3');
  });
  assert.equal(outcome.status, 'failed');
  const last = h.events.at(-1);
  assert.equal(last?.errorCode, 'IMAGE_MISMATCH');
  assert.match(last?.message ?? '', /app:v2 became sha256:v3 during the update, which pulled sha256:v2/);
  assert.equal(h.runtime.byName('c2')?.image, 'app:v1', 'the slot keeps its old container');
  assert.equal(h.runtime.byName('c3')?.image, 'app:v1', 'the next slot is not touched');
  assert.equal(await h.lb.getWeight('app', 'app_2'), 100, 'its weight back');
});

test('an unknown slot is refused before anything changes', async () => {
  const h = fakeHost();
  const host = new HostAgent(h.config, h.deps);
  await assert.rejects(host.update(cmd('app:v2', ['app1', 'nope']), h.emit), {
    code: 'UNKNOWN_SLOT',
    message: /no slot "nope" \(slots: app1, app2, app3\)/,
  });
  assert.deepEqual(h.trail, []);
  assert.deepEqual(h.events, []);
});

test('a missing container is refused before anything changes', async () => {
  const h = fakeHost();
  await h.runtime.remove(h.runtime.byName('c3')!.id);
  h.trail.length = 0;
  const host = new HostAgent(h.config, h.deps);
  await assert.rejects(host.update(cmd('app:v2'), h.emit), { code: 'CONTAINER_NOT_FOUND' });
  assert.deepEqual(h.trail, []);
});

test('a second update while one runs is refused', async () => {
  const h = fakeHost();
  const host = new HostAgent(h.config, h.deps);
  const first = host.update(cmd('app:v2'), h.emit);
  await assert.rejects(host.update({ ...cmd('app:v2'), rolloutId: 'r2' }, h.emit), { code: 'AGENT_BUSY' });
  await first;
});

test('abort stops at the next slot boundary', async () => {
  const h = fakeHost();
  const host = new HostAgent(h.config, h.deps);
  const done = host.update(cmd('app:v2'), (e) => {
    h.emit(e);
    if (e.step === 'WEIGHT_ZERO' && e.slot === 'app1') assert.equal(host.abort('r1'), true);
  });
  const outcome = await done;
  assert.equal(outcome.status, 'aborted');
  assert.equal(h.runtime.byName('c1')?.image, 'app:v2', 'the slot in flight finished');
  assert.equal(h.runtime.byName('c2')?.image, 'app:v1');
  assert.equal(h.events.at(-1)?.step, 'HOST_ABORTED');
  assert.equal(host.abort('r1'), false, 'nothing left to abort');
});

test('abort while the update pulls its image ends the pull at once; no slot is touched', async () => {
  const h = fakeHost();
  h.runtime.hangingPulls.add('app:v2');
  const host = new HostAgent(h.config, h.deps);
  const done = host.update(cmd('app:v2'), (e) => {
    h.emit(e);
    if (e.step === 'HOST_STARTED') setImmediate(() => assert.equal(host.abort('r1'), true));
  });
  const outcome = await done;
  assert.equal(outcome.status, 'aborted');
  assert.deepEqual(outcome.slots, []);
  assert.deepEqual(
    h.events.map((e) => e.step),
    ['HOST_STARTED', 'HOST_ABORTED'],
  );
  assert.match(h.events.at(-1)?.message ?? '', /aborted while pulling app:v2; no slot was touched/);
  assert.deepEqual(h.trail, ['pull app:v2']);
});

test('describe reports each slot with image, build, weight and states', async () => {
  const h = fakeHost();
  const host = new HostAgent(h.config, h.deps);
  const d = await host.describe();
  assert.equal(d.hostId, 'h1');
  assert.deepEqual(d.groups, ['eu']);
  assert.equal(d.activeRolloutId, '');
  assert.deepEqual(d.slots[0], {
    slot: 'app1',
    container: 'c1',
    image: 'app:v1',
    imageId: 'sha256:v1',
    backend: 'app',
    server: 'app_1',
    weight: 37,
    lbStatus: 'UP',
    containerState: 'running',
    health: 'healthy',
    restartCount: 0,
    lbDownCount: 0,
  });
});

test('describe warns when this agent cannot see HAProxy processes (another pid namespace), and stops once it can', async () => {
  const h = fakeHost();
  h.lb.processesVisible = false;
  const { log, lines } = capturingLog();
  const host = new HostAgent(h.config, { ...h.deps, log });
  await host.checkHaproxySight();
  assert.match(
    host.warnings()[0] ?? '',
    /^HAProxy says its pid is 100, and this agent sees no HAProxy with that pid/,
  );
  assert.deepEqual((await host.describe()).warnings, host.warnings());
  assert.equal(lines.filter((l) => l.includes('sees no HAProxy')).length, 1, 'logged once');
  h.lb.processesVisible = true;
  assert.deepEqual((await host.describe()).warnings, []);
});
