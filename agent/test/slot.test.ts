import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HaproxySocketMissingError } from '@fleetroll/shared';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPLACED_SLOT_STEPS, stepEmitter } from '../src/events.js';
import { waitReady } from '../src/ready.js';
import { replaceSlot } from '../src/slot.js';
import { heldAtZero } from '../src/weight-hold.js';
import { TIMINGS, fakeHost, type FakeHost } from './fakes.js';

const cmd = (image: string) => ({ rolloutId: 'r1', image, slots: [], imageIds: [], timings: { ...TIMINGS } });

function run(h: FakeHost, image: string, slotIndex = 0) {
  const slot = h.config.slots[slotIndex]!;
  return replaceSlot(
    slot,
    cmd(image),
    h.deps,
    stepEmitter(h.emit, 'r1', 'h1', slot.id),
    h.runtime.images.get(image) ?? '',
  );
}

/**
 * Runs the slot with the old HAProxy processes exiting at app_1's poll `exitAt` (`atPoll` sees each
 * poll before): the drain must have waited for them, and ended plainly saying `message`.
 */
async function assertWaitedForOldProcess(
  h: FakeHost,
  exitAt: number,
  message: string,
  atPoll: (poll: number) => void = () => undefined,
) {
  let polls = 0;
  h.lb.onServerStat = (server, poll) => {
    if (server !== 'app_1') return;
    polls = poll;
    atPoll(poll);
    if (poll === exitAt) h.lb.oldPids.clear();
  };
  assert.equal((await run(h, 'app:v2')).status, 'done');
  assert.ok(polls >= exitAt, `the drain ended after ${polls} polls, before the old process exited`);
  const drained = h.events.find((e) => e.step === 'DRAINED');
  assert.equal(drained?.drainTimedOut, false);
  assert.equal(drained?.message, message);
}

/**
 * Runs the slot for an agent that cannot see HAProxy's processes, HAProxy reloaded at the drain's
 * second poll (the old process, pid 100, may still serve app_1): its DRAINED event.
 */
async function reloadMidDrainUnseen(h: FakeHost, atPoll: (poll: number) => void = () => undefined) {
  h.lb.processesVisible = false;
  h.lb.scur.set('app/app_1', [2, 1, 0]);
  h.lb.onServerStat = (server, poll) => {
    if (server !== 'app_1') return;
    atPoll(poll);
    if (poll === 2) h.lb.reload();
  };
  assert.equal((await run(h, 'app:v2')).status, 'done');
  return h.events.find((e) => e.step === 'DRAINED');
}

test('replaces a slot and restores the weight it read, not a default', async () => {
  const h = fakeHost();
  const outcome = await run(h, 'app:v2');
  assert.equal(outcome.status, 'done');
  assert.equal(h.lb.weights.get('app/app_1'), 37);
  assert.equal(h.runtime.byName('c1')?.image, 'app:v2');
  assert.equal(h.runtime.byName('c1-fleetroll-old'), undefined, 'old container removed');
  assert.equal(h.journal.entries.size, 0, 'journal cleared');
  assert.deepEqual(
    h.events.map((e) => e.step),
    [...REPLACED_SLOT_STEPS],
  );
  assert.equal(h.events.find((e) => e.step === 'WEIGHT_RESTORED')?.weight, 37);
});

test('every outside action is journalled before it is taken', async () => {
  const h = fakeHost();
  await run(h, 'app:v2');
  assert.deepEqual(h.trail, [
    'journal app1 draining',
    'weight app/app_1 0',
    'journal app1 replacing',
    'stop c1',
    'rename c1 c1-fleetroll-old',
    'create c1 app:v2',
    'journal app1 replacing',
    'start c1',
    'journal app1 restoring',
    'weight app/app_1 37',
    'remove c1-fleetroll-old',
    'journal app1 cleared',
  ]);
});

test('skips a slot that already runs the image, touching nothing', async () => {
  const h = fakeHost();
  const outcome = await run(h, 'app:v1');
  assert.equal(outcome.status, 'skipped');
  assert.deepEqual(h.trail, []);
});

test('drain waits until HAProxy shows no sessions', async () => {
  const h = fakeHost();
  h.lb.scur.set('app/app_1', [3, 2, 1, 0]);
  await run(h, 'app:v2');
  const drained = h.events.find((e) => e.step === 'DRAINED');
  assert.equal(drained?.drainTimedOut, false);
  assert.ok(h.lb.scur.get('app/app_1')?.length === 1, 'all scripted polls consumed');
});

test('a weight HAProxy forgot during the drain (a reload) is set back to 0 and drained again before the stop', async () => {
  const h = fakeHost();
  h.lb.scur.set('app/app_1', [2, 3, 1, 0]);
  let polls = 0;
  h.lb.onServerStat = (server, poll) => {
    if (server !== 'app_1') return;
    polls = poll;
    // At the second poll HAProxy has been reloaded: the server is back at its configured weight.
    if (poll === 2) h.lb.weights.set('app/app_1', 100);
  };
  assert.equal((await run(h, 'app:v2')).status, 'done');
  assert.deepEqual(h.trail.slice(0, 5), [
    'journal app1 draining',
    'weight app/app_1 0',
    'weight app/app_1 0',
    'journal app1 replacing',
    'stop c1',
  ]);
  assert.equal(h.lb.weights.get('app/app_1'), 37, 'the weight read before the rollout is restored');
  assert.match(
    h.events.find((e) => e.step === 'DRAINED')?.message ?? '',
    /^HAProxy had app\/app_1 above weight 0 again once while it drained .*: set back to 0 and drained again$/,
  );
  assert.ok(polls >= 4, `the sessions that came meanwhile were drained too (${polls} polls)`);
});

test('HAProxy reloaded mid-drain: the drain ends only once the old process, which the new one cannot see, has exited', async () => {
  const h = fakeHost();
  h.lb.scur.set('app/app_1', [2, 1, 0]);
  // At the second poll a new HAProxy (pid 101) has taken over; the old one runs 3 more polls.
  await assertWaitedForOldProcess(
    h,
    6,
    'HAProxy was reloaded meanwhile: waited for the old HAProxy process (pid 100) to finish its requests',
    (poll) => {
      if (poll === 2) h.lb.reload();
    },
  );
});

test('HAProxy restarted mid-drain: nothing of the old process to wait for, and DRAINED says restarted, not reloaded', async () => {
  const h = fakeHost();
  h.lb.scur.set('app/app_1', [2, 0]);
  h.lb.onServerStat = (server, poll) => {
    if (server === 'app_1' && poll === 1) h.lb.restart();
  };
  assert.equal((await run(h, 'app:v2')).status, 'done');
  const drained = h.events.find((e) => e.step === 'DRAINED');
  assert.equal(drained?.drainTimedOut, false);
  assert.equal(
    drained?.message,
    'HAProxy was restarted meanwhile: the old process (pid 100) took the connections it carried with it',
  );
});

test('an agent that cannot see HAProxy processes (another pid namespace) drains until drainTimeout when HAProxy is reloaded mid-drain', async () => {
  const drained = await reloadMidDrainUnseen(fakeHost());
  assert.equal(drained?.drainTimedOut, true);
  assert.ok((drained?.durationMs ?? 0) >= TIMINGS.drainTimeoutMs);
  assert.equal(
    drained?.message,
    'HAProxy was reloaded meanwhile, and this agent cannot see its processes (another pid namespace?), so ' +
      'it cannot tell when the old HAProxy process (pid 100) has finished its requests: drained until drainTimeout',
  );
});

test('an agent that cannot see HAProxy processes drains as usual while HAProxy is not reloaded', async () => {
  const h = fakeHost();
  h.lb.processesVisible = false;
  h.lb.scur.set('app/app_1', [1, 0]);
  assert.equal((await run(h, 'app:v2')).status, 'done');
  const drained = h.events.find((e) => e.step === 'DRAINED');
  assert.equal(drained?.drainTimedOut, false);
  assert.equal(drained?.message, '');
  assert.ok((drained?.durationMs ?? 0) < TIMINGS.drainTimeoutMs);
});

test('HAProxy reloaded just before the slot: the drain also waits for the old process the one answering took over from', async () => {
  const h = fakeHost();
  // pid 100 answers; it was started with -sf 90, and 90 still finishes its requests.
  h.lb.takenOver.set(100, [90]);
  h.lb.oldPids.add(90);
  await assertWaitedForOldProcess(
    h,
    4,
    'HAProxy had been reloaded just before: waited for the old HAProxy process (pid 90) to finish its requests',
  );
});

for (const [seen, name] of [
  [
    true,
    "with HAProxy's master CLI, only an old process's sessions on the slot's server are waited for, not its exit",
  ],
  [
    false,
    "an agent that cannot see HAProxy's processes, given the master CLI, learns of a reload just before the slot from it and waits for that process's requests",
  ],
] as const) {
  test(name, async () => {
    const h = fakeHost();
    h.lb.processesVisible = seen;
    h.lb.takenOver.set(100, [90]);
    h.lb.oldPids.add(90);
    h.lb.masterSessions = new Map([[90, 1]]);
    // The old process keeps running (other servers' connections); its last request on app_1 ends at poll 3.
    h.lb.onServerStat = (server, poll) => {
      if (server === 'app_1' && poll === 3) h.lb.masterSessions?.set(90, 0);
    };
    assert.equal((await run(h, 'app:v2')).status, 'done');
    assert.ok(h.lb.oldPids.has(90), 'the old process still runs');
    const drained = h.events.find((e) => e.step === 'DRAINED');
    assert.equal(drained?.drainTimedOut, false);
    assert.equal(
      drained?.message,
      'HAProxy had been reloaded just before: waited for the old HAProxy process (pid 90) to finish its requests to app/app_1',
    );
  });
}

test("an agent that cannot see HAProxy's processes, given the master CLI, asks it about a reload mid-drain instead of waiting out drainTimeout", async () => {
  const h = fakeHost();
  // The old process's last request on app_1 ends at the drain's fifth poll.
  h.lb.masterSessions = new Map([[100, 1]]);
  const drained = await reloadMidDrainUnseen(h, (poll) => poll === 5 && h.lb.masterSessions?.set(100, 0));
  assert.equal(drained?.drainTimedOut, false);
  assert.ok((drained?.durationMs ?? 0) < TIMINGS.drainTimeoutMs);
  assert.equal(
    drained?.message,
    'HAProxy was reloaded meanwhile: waited for the old HAProxy process (pid 100) to finish its requests to app/app_1',
  );
});

test('an old process that had already exited when the sessions were gone is neither waited for nor named', async () => {
  const h = fakeHost();
  h.lb.takenOver.set(100, [90]);
  h.lb.scur.set('app/app_1', [1, 0]);
  assert.equal((await run(h, 'app:v2')).status, 'done');
  assert.equal(h.events.find((e) => e.step === 'DRAINED')?.message, '');
});

test('an old HAProxy process still running at drainTimeout: the slot goes on and says so', async () => {
  const h = fakeHost();
  h.lb.reload();
  const processId = h.lb.processId.bind(h.lb);
  let asked = 0;
  // The drain begins with the old process (pid 100); the new one answers from then on.
  h.lb.processId = () => (++asked === 1 ? Promise.resolve(100) : processId());
  assert.equal((await run(h, 'app:v2')).status, 'done');
  const drained = h.events.find((e) => e.step === 'DRAINED');
  assert.equal(drained?.drainTimedOut, true);
  assert.equal(drained?.message, 'the old HAProxy process (pid 100) still ran after drainTimeout');
});

test('a weight HAProxy forgot while the new container started (a reload) is set back to 0 before it is ready', async () => {
  const h = fakeHost();
  h.runtime.behaviour.set('app:v2', { health: 'starting', running: true });
  let pollsAfterStart = 0;
  h.lb.onServerStat = (server) => {
    if (server !== 'app_1' || !h.trail.includes('start c1')) return;
    pollsAfterStart += 1;
    if (pollsAfterStart === 2) {
      // HAProxy has been reloaded: the server is back at its configured weight. Docker says healthy later.
      h.lb.weights.set('app/app_1', 100);
      h.trail.push('reload');
    }
    if (pollsAfterStart === 4) h.runtime.byName('c1')!.health = 'healthy';
  };
  assert.equal((await run(h, 'app:v2')).status, 'done');
  const afterStart = h.trail.slice(h.trail.indexOf('start c1') + 1);
  assert.deepEqual(afterStart.slice(0, 4), [
    'reload',
    'weight app/app_1 0',
    'journal app1 restoring',
    'weight app/app_1 37',
  ]);
  assert.match(
    h.events.find((e) => e.step === 'HEALTHY')?.message ?? '',
    /^HAProxy had app\/app_1 above weight 0 again once while the new container started .*: set back to 0$/,
  );
});

/** HAProxy reloaded: app_1 is back at its configured weight, as every server is after a reload. */
function reloadDuring(h: FakeHost, ms: number): (name: string) => Promise<void> {
  return async () => {
    h.lb.weights.set('app/app_1', 100);
    h.trail.push('reload');
    await sleep(ms);
  };
}

test('a weight HAProxy forgot while the old container stopped (a reload) is set back to 0 at once, not once the new one is started', async () => {
  const h = fakeHost();
  h.runtime.during.stop = reloadDuring(h, 30);
  assert.equal((await run(h, 'app:v2')).status, 'done');
  const afterReload = h.trail.slice(h.trail.indexOf('reload') + 1);
  assert.deepEqual(afterReload.slice(0, 2), ['weight app/app_1 0', 'rename c1 c1-fleetroll-old']);
  assert.equal(h.lb.weights.get('app/app_1'), 37);
  assert.match(
    h.events.find((e) => e.step === 'NEW_STARTED')?.message ?? '',
    /^HAProxy had app\/app_1 above weight 0 again once while the old container stopped and the new one started .*: set back to 0$/,
  );
});

test('no reload while the containers are replaced: the weight is not touched meanwhile, and the step says nothing', async () => {
  const h = fakeHost();
  h.runtime.during.stop = () => sleep(30);
  assert.equal((await run(h, 'app:v2')).status, 'done');
  const replacing = h.trail.slice(h.trail.indexOf('stop c1'), h.trail.indexOf('start c1'));
  assert.deepEqual(
    replacing.filter((s) => s.startsWith('weight')),
    [],
  );
  assert.equal(h.events.find((e) => e.step === 'NEW_STARTED')?.message, '');
});

test('the hold ends with the work, not at its next poll, and passes on what the work threw', async () => {
  const h = fakeHost();
  const slot = h.config.slots[0]!;
  const deps = { ...h.deps, holdPollMs: 60_000 };
  const t = Date.now();
  assert.deepEqual(await heldAtZero(deps, slot, () => Promise.resolve('c1')), {
    value: 'c1',
    weightResets: 0,
  });
  await assert.rejects(
    heldAtZero(deps, slot, () => Promise.reject(new Error('docker start failed'))),
    /docker start failed/,
  );
  assert.ok(Date.now() - t < 30_000, 'the hold waited for its next poll');
});

test('a rollback holds the weight at 0 while the old container comes back, then restores it', async () => {
  const h = fakeHost();
  let starts = 0;
  // The second start of c1 is the old container's: the new one failed its health check.
  h.runtime.during.start = (name) =>
    name === 'c1' && ++starts === 2 ? reloadDuring(h, 30)(name) : Promise.resolve();
  assert.equal((await run(h, 'app:broken')).status, 'failed');
  const afterReload = h.trail.slice(h.trail.indexOf('reload') + 1);
  assert.equal(afterReload[0], 'weight app/app_1 0');
  assert.equal(h.lb.weights.get('app/app_1'), 37);
});

test('the health wait holds the weight at 0 only when asked: crash recovery waits on slots whose weight may never have gone to 0', async () => {
  const h = fakeHost();
  const slot = h.config.slots[0]!;
  const id = h.runtime.byName('c1')!.id;
  const result = await waitReady(h.deps, slot, id, TIMINGS);
  assert.deepEqual(result, { weightResets: 0 });
  assert.equal(h.lb.weights.get('app/app_1'), 37);
});

test('HAProxy away for a moment mid-drain (restarted): the slot waits for it and goes on, and DRAINED says so', async () => {
  const h = fakeHost();
  const serverStat = h.lb.serverStat.bind(h.lb);
  let away = true;
  // The drain's first poll, once the weight is 0, finds the socket gone.
  h.lb.serverStat = (backend: string, server: string) => {
    if (!away || !h.trail.includes('weight app/app_1 0')) return serverStat(backend, server);
    away = false;
    return Promise.reject(new HaproxySocketMissingError('cannot connect (ECONNREFUSED)'));
  };
  assert.equal((await run(h, 'app:v2')).status, 'done');
  assert.match(
    h.events.find((e) => e.step === 'DRAINED')?.message ?? '',
    /^HAProxy's runtime socket did not answer for 0\.\d s \(restarted\?\): waited for it$/,
  );
  assert.equal(h.lb.weights.get('app/app_1'), 37);
});

test('drain timeout is recorded and the slot goes on', async () => {
  const h = fakeHost();
  h.lb.scur.set('app/app_1', [5]);
  const outcome = await run(h, 'app:v2');
  assert.equal(outcome.status, 'done');
  const drained = h.events.find((e) => e.step === 'DRAINED');
  assert.equal(drained?.drainTimedOut, true);
  assert.ok((drained?.durationMs ?? 0) >= TIMINGS.drainTimeoutMs);
  assert.match(drained?.message ?? '', /5 sessions still open/);
});

test('an unhealthy new image is rolled back: old container serves at its weight', async () => {
  const h = fakeHost();
  const oldId = h.runtime.byName('c1')?.id;
  const outcome = await run(h, 'app:broken');
  assert.equal(outcome.status, 'failed');
  assert.equal(outcome.status === 'failed' && outcome.error.code, 'HEALTH_CHECK_FAILED');
  const c1 = h.runtime.byName('c1');
  assert.equal(c1?.id, oldId);
  assert.equal(c1?.running, true);
  assert.equal(c1?.image, 'app:v1');
  assert.equal(h.runtime.containers.size, 3, 'the broken container is gone');
  assert.equal(h.lb.weights.get('app/app_1'), 37);
  assert.equal(h.journal.entries.size, 0);
  const failed = h.events.at(-1);
  assert.equal(failed?.step, 'SLOT_FAILED');
  assert.equal(failed?.errorCode, 'HEALTH_CHECK_FAILED');
  assert.match(failed?.message ?? '', /unhealthy.*rolled back/);
});

test('a new container that exits fails fast and rolls back', async () => {
  const h = fakeHost();
  h.runtime.behaviour.set('app:v2', { health: 'starting', running: false });
  const started = Date.now();
  const outcome = await run(h, 'app:v2');
  assert.equal(outcome.status, 'failed');
  assert.ok(Date.now() - started < TIMINGS.healthTimeoutMs, 'did not wait for the health timeout');
  assert.equal(h.runtime.byName('c1')?.image, 'app:v1');
});

test('a new container that never turns healthy times out and rolls back', async () => {
  const h = fakeHost();
  h.runtime.behaviour.set('app:v2', { health: 'starting', running: true });
  const outcome = await run(h, 'app:v2');
  assert.equal(outcome.status === 'failed' && outcome.error.code, 'HEALTH_CHECK_FAILED');
  assert.match(h.events.at(-1)?.message ?? '', /not healthy within 300 ms/);
});

test('HAProxy must see the server UP before the weight comes back', async () => {
  const h = fakeHost();
  h.lb.status.set('app/app_1', 'DOWN');
  setTimeout(() => h.lb.status.set('app/app_1', 'UP'), 60);
  const outcome = await run(h, 'app:v2');
  assert.equal(outcome.status, 'done');
  const healthy = h.events.find((e) => e.step === 'HEALTHY');
  assert.ok((healthy?.durationMs ?? 0) >= 50);
});

test('when the old container cannot come back, the weight is still restored', async () => {
  const h = fakeHost();
  h.runtime.behaviour.set('app:v1', { health: 'starting', running: false });
  const outcome = await run(h, 'app:broken');
  assert.equal(outcome.status === 'failed' && outcome.error.code, 'ROLLBACK_FAILED');
  assert.equal(h.lb.weights.get('app/app_1'), 37);
  assert.match(h.events.at(-1)?.message ?? '', /needs an operator/);
});

test('the last server taking traffic is not taken out: after waiting, the slot fails and nothing changed', async () => {
  const h = fakeHost();
  h.lb.status.set('app/app_2', 'DOWN');
  h.lb.weights.set('app/app_3', 0);
  await assert.rejects(run(h, 'app:v2'), (err: unknown) => {
    assert.equal((err as { code?: string }).code, 'NO_SERVER_LEFT');
    assert.match(
      String(err),
      /app\/app_1 not taken out.*app_2 DOWN at weight 100, app_3 UP at weight 0.*300 ms/,
    );
    return true;
  });
  assert.deepEqual(h.trail, []);
  assert.equal(h.lb.weights.get('app/app_1'), 37);
});

test('every other server out mid-drain (DOWN, weight 0): the slot is put back at once, its old container never stopped; a failed check alone does not', async () => {
  const h = fakeHost();
  h.lb.scur.set('app/app_1', [3, 3, 3, 3, 3, 0]);
  // app_2 first fails a check (still UP to HAProxy, which still sends it requests), then is DOWN.
  h.lb.onServerStat = (server, poll) => {
    if (server !== 'app_1') return;
    if (poll === 2) h.lb.status.set('app/app_2', 'UP 1/3');
    if (poll === 2) h.lb.weights.set('app/app_3', 0);
    if (poll === 4) h.lb.status.set('app/app_2', 'DOWN');
  };
  const outcome = await run(h, 'app:v2');
  assert.equal(outcome.status, 'failed');
  assert.equal(outcome.status === 'failed' && outcome.error.code, 'NO_SERVER_LEFT');
  const failed = h.events.find((e) => e.step === 'SLOT_FAILED');
  assert.match(
    failed?.message ?? '',
    /^every other server of backend app stopped taking traffic while app_1 drained \(app_2 DOWN at weight 100, app_3 UP at weight 0\); rolled back, c1 serves again at weight 37$/,
  );
  assert.ok(!h.trail.some((s) => s.startsWith('stop ')), h.trail.join(', '));
  assert.equal(h.lb.weights.get('app/app_1'), 37);
  assert.equal(h.runtime.byName('c1')?.image, 'app:v1');
});

test('a slot waits for a sibling to take traffic again, then goes on', async () => {
  const h = fakeHost();
  h.lb.status.set('app/app_2', 'DOWN');
  h.lb.status.set('app/app_3', 'DOWN');
  setTimeout(() => h.lb.status.set('app/app_3', 'UP'), 60);
  const started = Date.now();
  const outcome = await run(h, 'app:v2');
  assert.equal(outcome.status, 'done');
  assert.ok(Date.now() - started >= 50, 'went ahead before a sibling was back');
});

test("a backend's only server is replaced: there is no other to wait for", async () => {
  const h = fakeHost();
  for (const server of ['app_2', 'app_3']) h.lb.weights.delete(`app/${server}`);
  const outcome = await run(h, 'app:v2');
  assert.equal(outcome.status, 'done');
});
