import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { NO_SLOT_OVERRIDES, type StepEvent, type UpdateHostRequest } from '@fleetroll/shared';
import { REPLACED_SLOT_STEPS } from '@fleetroll/agent';
import { updateHost } from '../support/agent-rpc.js';
import { testLoad } from '../support/fleet-run.js';
import { assertNoFailedRequests, httpGet } from '../support/assertions.js';
import { localHostForTests } from '../support/local-host.js';
import { describe, docker } from '@fleetroll/local-fleet';

// One host, 3 slots behind one HAProxy, 240 req/s through the frontend with every
// 5th request a 1-second CGI, so that every drain has sessions to wait for.
const local = localHostForTests({ hostId: 'h1', index: 1, weights: [37, 100, 100] });

async function weights(): Promise<number[]> {
  return Promise.all([1, 2, 3].map((i) => local.lb.getWeight('app', `app_${i}`)));
}

/** Polls until every server named is in the status wanted, as HAProxy's checks see it. */
async function waitForStatus(servers: string[], status: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const seen = await Promise.all(servers.map(async (s) => (await local.lb.serverStat('app', s)).status));
    if (seen.every((st) => st === status)) return;
    if (Date.now() > deadline)
      throw new Error(`${servers.join(', ')} never all ${status}: ${seen.join(', ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function versions(): Promise<string[]> {
  return Promise.all(local.host.slotPorts.map((p) => httpGet(`http://127.0.0.1:${p}/`)));
}

async function underLoad<T>(fn: () => Promise<T>, opts: Parameters<typeof testLoad>[2] = {}) {
  const load = testLoad([local.host.frontendUrl], 60_000, opts);
  // Let long requests pile up on every server before the first weight goes to 0.
  await new Promise((r) => setTimeout(r, 1_500));
  const result = await fn();
  return { result, report: await load.stop() };
}

const steps = (events: StepEvent[], slot: string) => events.filter((e) => e.slot === slot).map((e) => e.step);

/** The slot went through every step of a replacement; if not, the failure says what the agent said. */
function assertReplaced(events: StepEvent[], slot: string): void {
  const said = events
    .filter((e) => e.slot === slot)
    .map((e) => `${e.step} ${e.errorCode} ${e.message}`.trim());
  assert.deepEqual(steps(events, slot), [...REPLACED_SLOT_STEPS], `${slot}: ${JSON.stringify(said)}`);
}

/** A request's slot options: the agent's own values, except where a test says otherwise. */
function timings(given: Partial<NonNullable<UpdateHostRequest['options']>>): UpdateHostRequest['options'] {
  return { ...NO_SLOT_OVERRIDES, ...given };
}

/** The versions now, and the one app2 does not run: its slot is replaced whatever ran before. */
async function nextForApp2(): Promise<{ before: string[]; next: string }> {
  const before = await versions();
  return { before, next: before[1] === 'v1' ? 'v2' : 'v1' };
}

/** Replaces app2 with `next` under load, and breaks something (`midDrain`) once the agent has taken it out. */
function replaceApp2(
  rolloutId: string,
  next: string,
  midDrain: () => Promise<void>,
  { options, keepAlive }: { options?: UpdateHostRequest['options']; keepAlive?: boolean } = {},
) {
  return underLoad(
    async () => {
      const update = updateHost(local.host.agent.client, {
        rolloutId,
        image: `fleetroll-app:${next}`,
        slots: ['app2'],
        ...(options ? { options } : {}),
      });
      const deadline = Date.now() + 20_000;
      while ((await local.lb.getWeight('app', 'app_2')) !== 0) {
        if (Date.now() > deadline) throw new Error('app_2 never went to weight 0');
        await new Promise((r) => setTimeout(r, 10));
      }
      await midDrain();
      return update;
    },
    { keepAlive },
  );
}

/** Only app2 changed version, and every weight is back. */
async function assertOnlyApp2On(next: string, before: string[]): Promise<void> {
  assert.deepEqual(await weights(), [37, 100, 100]);
  assert.deepEqual(await versions(), [before[0], next, before[2]]);
}

test('v1 → v2 under load: every slot on v2, weights restored, 0 failed requests', async () => {
  const { result, report } = await underLoad(() =>
    updateHost(local.host.agent.client, { rolloutId: 'it-v2', image: 'fleetroll-app:v2' }),
  );
  assert.equal(result.error, undefined, JSON.stringify(result.error));
  assert.equal(result.events.at(-1)?.step, 'HOST_DONE');
  for (const slot of ['app1', 'app2', 'app3']) {
    assertReplaced(result.events, slot);
    const drained = result.events.find((e) => e.slot === slot && e.step === 'DRAINED');
    assert.ok(
      (drained?.durationMs ?? 0) >= 200,
      `${slot} drained in ${drained?.durationMs} ms: no long request was waited for`,
    );
    assert.equal(drained?.drainTimedOut, false);
  }
  // Slots went one at a time: no slot started before the previous one was done.
  const order = result.events
    .filter((e) => e.step === 'SLOT_STARTED' || e.step === 'SLOT_DONE')
    .map((e) => `${e.step}:${e.slot}`);
  assert.deepEqual(order, [
    'SLOT_STARTED:app1',
    'SLOT_DONE:app1',
    'SLOT_STARTED:app2',
    'SLOT_DONE:app2',
    'SLOT_STARTED:app3',
    'SLOT_DONE:app3',
  ]);

  assertNoFailedRequests(report, [local.host]);
  assert.deepEqual(await weights(), [37, 100, 100]);
  assert.deepEqual(await versions(), ['v2', 'v2', 'v2']);
  const d = await describe(local.host.agent.client);
  assert.deepEqual(
    d.slots.map((s) => s.image),
    Array(3).fill('fleetroll-app:v2'),
  );
  assert.ok(report.bodies['v1'] && report.bodies['v2'], 'both versions answered during the rollout');
});

test('running the same update again touches nothing', async () => {
  const result = await updateHost(local.host.agent.client, {
    rolloutId: 'it-v2-again',
    image: 'fleetroll-app:v2',
  });
  assert.deepEqual(
    result.events.filter((e) => e.slot).map((e) => e.step),
    ['SLOT_STARTED', 'SLOT_SKIPPED', 'SLOT_STARTED', 'SLOT_SKIPPED', 'SLOT_STARTED', 'SLOT_SKIPPED'],
  );
});

test('a broken image: slot rolled back, old version serving, weight restored, 0 failed requests', async () => {
  const { result, report } = await underLoad(() =>
    updateHost(local.host.agent.client, { rolloutId: 'it-broken', image: 'fleetroll-app:broken' }),
  );
  const failed = result.events.find((e) => e.step === 'SLOT_FAILED');
  assert.equal(failed?.slot, 'app1');
  assert.equal(failed?.errorCode, 'HEALTH_CHECK_FAILED');
  assert.match(failed?.message ?? '', /unhealthy.*rolled back/);
  assert.equal(result.events.at(-1)?.step, 'HOST_FAILED');
  assert.deepEqual(steps(result.events, 'app2'), [], 'the host stopped at the failed slot');
  assertNoFailedRequests(report, [local.host]);
  assert.deepEqual(await weights(), [37, 100, 100]);
  assert.deepEqual(await versions(), ['v2', 'v2', 'v2']);
  const d = await describe(local.host.agent.client);
  assert.ok(
    d.slots.every((s) => s.containerState === 'running' && s.lbStatus === 'UP'),
    JSON.stringify(d.slots),
  );
});

test('a weight set above 0 through the socket during the drain (by hand, or a tool) is set to 0 again and drained before the stop: 0 failed requests', async () => {
  const { before, next } = await nextForApp2();
  // A minimum drain long enough to put the weight back while the slot is still draining.
  const { result, report } = await replaceApp2(
    'it-weight-back',
    next,
    () => local.lb.setWeight('app', 'app_2', 100),
    {
      options: timings({ minDrainMs: 2_000 }),
    },
  );
  assert.equal(result.error, undefined, JSON.stringify(result.error));
  assertNoFailedRequests(report, [local.host]);
  const drained = result.events.find((e) => e.slot === 'app2' && e.step === 'DRAINED');
  assert.match(
    drained?.message ?? '',
    /^HAProxy had app\/app_2 above weight 0 again once while it drained .*: set back to 0 and drained again$/,
  );
  await assertOnlyApp2On(next, before);
});

test('HAProxy reloaded mid-drain: weight kept at 0 by the server state file, and the container stopped only once the old process finished its requests, 0 failed requests', async () => {
  const { before, next } = await nextForApp2();
  // The old process keeps app_2's 1-second requests; the new one has none of them.
  // A connection per request: the reload closing idle keep-alive connections is HAProxy's doing.
  const { result, report } = await replaceApp2('it-reload-drain', next, () => local.host.reloadHaproxy(), {
    keepAlive: false,
  });
  assert.equal(result.error, undefined, JSON.stringify(result.error));
  const drained = result.events.find((e) => e.slot === 'app2' && e.step === 'DRAINED');
  assert.match(
    drained?.message ?? '',
    /^HAProxy was reloaded meanwhile: waited for the old HAProxy process \(pid \d+\) to finish its requests$/,
  );
  assertNoFailedRequests(report, [local.host]);
  await assertOnlyApp2On(next, before);
});

test('HAProxy reloaded just before the slot: the drain also waits for the old process, which still carries app_2 requests, 0 failed requests', async () => {
  const { before, next } = await nextForApp2();
  // A connection per request: the reload closing idle keep-alive connections is HAProxy's doing.
  const { result, report } = await underLoad(
    async () => {
      // Three 2-second requests on app_2 through the process about to be replaced: longer than
      // any the new process will have, so `show stat` alone would end the drain under them.
      await Promise.all(['app_1', 'app_3'].map((s) => local.lb.setWeight('app', s, 0)));
      const held = [1, 2, 3].map(() =>
        fetch(`${local.host.frontendUrl}/cgi-bin/slow?2`, { signal: AbortSignal.timeout(10_000) }).then(
          (res) => res.status,
          (err: Error) => err.message,
        ),
      );
      await sleep(200);
      // The new process starts with the configured weights.
      await local.host.reloadHaproxy();
      const update = await updateHost(local.host.agent.client, {
        rolloutId: 'it-reload-before',
        image: `fleetroll-app:${next}`,
        slots: ['app2'],
      });
      return { ...update, held: await Promise.all(held) };
    },
    { keepAlive: false },
  );
  assert.equal(result.error, undefined, JSON.stringify(result.error));
  assert.deepEqual(result.held, [200, 200, 200], "the old process's requests on app_2 were cut");
  const drained = result.events.find((e) => e.slot === 'app2' && e.step === 'DRAINED');
  assert.match(
    drained?.message ?? '',
    /^HAProxy had been reloaded just before: waited for the old HAProxy process \(pid \d+\) to finish its requests$/,
  );
  assertNoFailedRequests(report, [local.host]);
  await assertOnlyApp2On(next, before);
});

test('HAProxy reloaded while the new container starts: its server state file keeps app_2 at weight 0, 0 failed requests', async () => {
  const { before, next } = await nextForApp2();
  let reloaded: Promise<{ weight: number; atMs: number }> | undefined;
  const { result, report } = await underLoad(
    () =>
      updateHost(
        local.host.agent.client,
        { rolloutId: 'it-reload', image: `fleetroll-app:${next}`, slots: ['app2'] },
        (e) => {
          if (e.slot === 'app2' && e.step === 'NEW_STARTED') {
            reloaded = local.host
              .reloadHaproxy()
              .then(() => local.lb.getWeight('app', 'app_2'))
              .then((weight) => ({ weight, atMs: Date.now() }));
          }
        },
      ),
    // A connection per request: the reload closing idle keep-alive connections is HAProxy's doing.
    { keepAlive: false },
  );
  assert.equal(result.error, undefined, JSON.stringify(result.error));
  assert.ok(reloaded, 'the slot never reached NEW_STARTED');
  const afterReload = await reloaded;
  const restoredAt = result.events.find((e) => e.slot === 'app2' && e.step === 'WEIGHT_RESTORED')?.atUnixMs;
  // Read as the new process answered; unless the slot had already ended by then, still 0.
  if (restoredAt === undefined || afterReload.atMs < restoredAt) {
    assert.equal(
      afterReload.weight,
      0,
      `the new HAProxy process gave app_2 a weight before it was verified (read ${restoredAt === undefined ? 'with no restore' : `${restoredAt - afterReload.atMs} ms before the restore`})`,
    );
  }
  const healthy = result.events.find((e) => e.slot === 'app2' && e.step === 'HEALTHY');
  assert.doesNotMatch(healthy?.message ?? '', /above weight 0/, 'the agent had to set the weight back to 0');
  assertNoFailedRequests(report, [local.host]);
  await assertOnlyApp2On(next, before);
});

test('HAProxy restarted mid-drain (stopped, started again a second later): the slot rides it out, weights restored', async () => {
  const { before, next } = await nextForApp2();
  let restarted: Promise<void> | undefined;
  const result = await updateHost(
    local.host.agent.client,
    {
      rolloutId: 'it-restart',
      image: `fleetroll-app:${next}`,
      slots: ['app2'],
      // Idle, a drain ends within milliseconds of its weight 0, before the restart this test sends
      // on seeing WEIGHT_ZERO: held open long enough for HAProxy to be gone and back within it.
      options: timings({ minDrainMs: 1_500 }),
    },
    (e) => {
      if (e.slot === 'app2' && e.step === 'WEIGHT_ZERO') restarted = local.host.restartHaproxy(1_000);
    },
  );
  await restarted;
  assert.equal(result.error, undefined, JSON.stringify(result.error));
  assertReplaced(result.events, 'app2');
  const drained = result.events.find((e) => e.slot === 'app2' && e.step === 'DRAINED')?.message ?? '';
  assert.match(drained, /HAProxy's runtime socket did not answer for [\d.]+ s/);
  // Unless the drain began after the stop, it saw another process answer: not a reload's.
  assert.doesNotMatch(drained, /reloaded/);
  await waitForStatus(['app_1', 'app_2', 'app_3'], 'UP');
  await assertOnlyApp2On(next, before);
});

test('app_1 and app_3 go down while app_2 drains: app_2 is put back at once, its container never stopped', async () => {
  const { before, next } = await nextForApp2();
  const siblings = [local.host.containers[0]!, local.host.containers[2]!].map((name) =>
    docker.getContainer(name),
  );
  let down: Promise<unknown> | undefined;
  try {
    const result = await updateHost(
      local.host.agent.client,
      {
        rolloutId: 'it-siblings-down',
        image: `fleetroll-app:${next}`,
        slots: ['app2'],
        // A drain long enough for HAProxy to see the other two go DOWN meanwhile.
        options: timings({ minDrainMs: 8_000 }),
      },
      (e) => {
        if (e.slot === 'app2' && e.step === 'WEIGHT_ZERO')
          down = Promise.all(siblings.map((c) => c.stop({ t: 1 })));
      },
    );
    await down;
    assert.deepEqual(steps(result.events, 'app2'), [
      'SLOT_STARTED',
      'WEIGHT_ZERO',
      'ROLLING_BACK',
      'SLOT_FAILED',
    ]);
    const failed = result.events.find((e) => e.step === 'SLOT_FAILED');
    assert.equal(failed?.errorCode, 'NO_SERVER_LEFT');
    assert.match(failed?.message ?? '', /stopped taking traffic while app_2 drained \(app_1 DOWN/);
    const restored = result.events.find((e) => e.step === 'ROLLING_BACK');
    const weightZero = result.events.find((e) => e.step === 'WEIGHT_ZERO');
    const ms = (restored?.atUnixMs ?? 0) - (weightZero?.atUnixMs ?? 0);
    assert.ok(ms < 5_000, `put back ${ms} ms after weight 0, not at the end of the 8-s drain`);
    assert.equal(await local.lb.getWeight('app', 'app_2'), 100);
    assert.equal(await httpGet(local.host.frontendUrl), before[1], 'the frontend answers, from app_2');
  } finally {
    await down?.catch(() => undefined);
    await Promise.all(siblings.map((c) => c.start().catch(() => undefined)));
    await waitForStatus(['app_1', 'app_2', 'app_3'], 'UP');
  }
  assert.deepEqual(await versions(), before);
});

test('with app_2 and app_3 down, app1 is not taken out: NO_SERVER_LEFT, nothing changed, 0 failed requests', async () => {
  const others = local.host.containers.slice(1).map((name) => docker.getContainer(name));
  await Promise.all(others.map((c) => c.stop({ t: 1 })));
  try {
    await waitForStatus(['app_2', 'app_3'], 'DOWN');
    const { result, report } = await underLoad(() =>
      updateHost(local.host.agent.client, {
        rolloutId: 'it-last-server',
        image: 'fleetroll-app:v1',
        slots: [],
        options: timings({ healthTimeoutMs: 1_000 }),
      }),
    );
    const failed = result.events.find((e) => e.step === 'SLOT_FAILED');
    assert.equal(failed?.slot, 'app1');
    assert.equal(failed?.errorCode, 'NO_SERVER_LEFT');
    assert.match(failed?.message ?? '', /app_2 DOWN at weight 100, app_3 DOWN at weight 100/);
    assert.equal(result.events.at(-1)?.step, 'HOST_FAILED');
    assert.ok(!result.events.some((e) => e.step === 'WEIGHT_ZERO'), 'no weight went to 0');
    assertNoFailedRequests(report, [local.host]);
    assert.deepEqual(await weights(), [37, 100, 100]);
    assert.equal(await httpGet(`http://127.0.0.1:${local.host.slotPorts[0]}/`), 'v2');
  } finally {
    await Promise.all(others.map((c) => c.start()));
  }
  await waitForStatus(['app_2', 'app_3'], 'UP');
});

test('an agent that cannot see HAProxy processes (a pid namespace of its own, as in a container): HAProxy reloaded mid-drain, the drain lasts until drainTimeout, 0 failed requests', async () => {
  await local.host.agent.stop();
  const agent = await local.host.restartAgent({ pidNamespace: true });
  try {
    const unseen = /this agent sees no HAProxy with that pid: they run in different pid namespaces/;
    assert.match(await readFile(agent.logFile, 'utf8'), unseen, 'the agent warned at start');
    // And tells the controller, for `fleetroll agents`.
    const { warnings } = await describe(agent.client);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', unseen);
    const { before, next } = await nextForApp2();
    const drainTimeoutMs = 3_000;
    // The old process keeps app_2's half-second requests, and nothing the agent sees tells when
    // it has finished them: only drainTimeout, longer than any of them, is safe.
    const { result, report } = await replaceApp2('it-reload-unseen', next, () => local.host.reloadHaproxy(), {
      keepAlive: false,
      options: {
        drainTimeoutMs,
        minDrainMs: 0,
        healthTimeoutMs: 0,
        minReadyMs: 0,
        stopTimeoutS: 0,
        slotParallelism: 0,
      },
    });
    assert.equal(result.error, undefined, JSON.stringify(result.error));
    const drained = result.events.find((e) => e.slot === 'app2' && e.step === 'DRAINED');
    assert.match(
      drained?.message ?? '',
      /HAProxy was reloaded meanwhile, and this agent cannot see its processes .*: drained until drainTimeout/,
    );
    assert.equal(drained?.drainTimedOut, true);
    assert.ok((drained?.durationMs ?? 0) >= drainTimeoutMs, `drained for ${drained?.durationMs} ms`);
    assertNoFailedRequests(report, [local.host]);
    await assertOnlyApp2On(next, before);
  } finally {
    await local.host.agent.stop();
    await local.host.restartAgent();
  }
});
