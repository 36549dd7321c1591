import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StepEvent, msg } from '@fleetroll/shared';
import { MAX_AGENT_RETURNS } from '../src/rollout/agent-return.js';
import {
  NEW,
  OLD,
  harness,
  hostState,
  inventory,
  until,
  type FakeAgent,
  type Harness,
} from './rollout-fakes.js';

type Status = msg.RolloutStatus__Output;

const host = (status: Status, id: string) => {
  const found = status.hosts.find((h) => h.hostId === id);
  assert.ok(found, `no host ${id}`);
  return found;
};

/** Calls act once, when `agent` reports this step of this slot. */
function onStep(h: Harness, agent: FakeAgent, slot: string, step: StepEvent['step'], act: () => void): void {
  let done = false;
  h.fleet.onStep = (e) => {
    if (done || e.hostId !== agent.hostId || e.slot !== slot || e.step !== step) return;
    done = true;
    act();
  };
}

test('agent killed mid-slot and back within the host timeout: asked again, the host finishes', async () => {
  const h = harness({ serial: ['1'] }, inventory(2), { script: { slotMs: 30 } });
  const agent = h.fleet.agent('h01');
  let restartedAt = 0;
  onStep(h, agent, 'b', 'SLOT_STARTED', () => {
    agent.kill();
    setTimeout(() => {
      restartedAt = Date.now();
      agent.restart();
    }, 300);
  });
  let waitingSeen = '';
  h.rollout.onChange((s) => {
    const m = host(s, 'h01').message;
    if (m.startsWith('agent lost')) waitingSeen = m;
  });
  const final = await h.rollout.run();
  assert.equal(final.state, 'ROLLOUT_SUCCEEDED', final.message);
  assert.equal(host(final, 'h01').state, 'HOST_SUCCEEDED');
  assert.deepEqual([...agent.images.values()], [NEW, NEW], 'slot a kept, slot b done on the second ask');
  assert.equal(h.fleet.updated().filter((id) => id === 'h01').length, 2);
  assert.ok(restartedAt > 0 && h.fleet.index('h01', 'update', 1) > h.fleet.index('h01', 'describe', 1));
  assert.match(waitingSeen, /^agent lost \(.*vanished\); waiting for it to come back$/);
  assert.ok(h.lines.some((l) => l.hostId === 'h01' && /^agent back after/.test(l.msg)));
});

test('agent not back within the host timeout: the host fails AGENT_UNREACHABLE, the failure action runs', async () => {
  const h = harness({ serial: ['1'], hostTimeoutMs: 1_000 }, inventory(2), { script: { slotMs: 30 } });
  const agent = h.fleet.agent('h01');
  onStep(h, agent, 'a', 'SLOT_STARTED', () => agent.kill());
  const run = h.rollout.run();
  const started = Date.now();
  await until(() => h.rollout.status().state === 'ROLLOUT_PAUSED', 'the failure pause', 5_000);
  const waited = Date.now() - started;
  const h01 = host(h.rollout.status(), 'h01');
  assert.equal(h01.state, 'HOST_FAILED');
  assert.equal(h01.errorCode, 'AGENT_UNREACHABLE');
  assert.match(h01.message, /^the agent was not back within the host timeout of 1 s \(.*\): .*vanished/);
  assert.ok(waited >= 900, `failed after ${waited} ms, before the host timeout`);
  assert.equal(hostState(h.rollout, 'h02'), 'HOST_PENDING', 'batch 2 waits for an operator');
  h.rollout.abort();
  await run;
});

test('the controller lost sight of an update the agent still runs: waited out, then asked again', async () => {
  const h = harness({ serial: ['2'] }, inventory(2), { script: { slotMs: 100 } });
  const agent = h.fleet.agent('h01');
  onStep(h, agent, 'a', 'SLOT_STARTED', () => agent.loseStream());
  const final = await h.rollout.run();
  assert.equal(final.state, 'ROLLOUT_SUCCEEDED', final.message);
  assert.equal(host(final, 'h01').state, 'HOST_SUCCEEDED');
  const firstEnd = h.fleet.index('h01', 'update-end');
  const again = h.fleet.index('h01', 'update', 1);
  assert.ok(again > firstEnd, 'asked again only after its first update ended on the agent');
  assert.equal(h.fleet.calls.filter((c) => c.host === 'h01' && c.kind === 'abort').length, 0);
});

test('over NATS, an agent that answers but has no fresh heartbeat yet is not asked again', async () => {
  const h = harness({ serial: ['1'] }, inventory(1), { script: { slotMs: 30 } });
  const agent = h.fleet.agent('h01');
  let beatsAt = 0;
  onStep(h, agent, 'a', 'SLOT_STARTED', () => {
    agent.kill();
    agent.restart();
    agent.alive = false;
    setTimeout(() => {
      beatsAt = Date.now();
      agent.alive = true;
    }, 700);
  });
  let askedAgainAt = 0;
  h.fleet.onCall = (call) => {
    if (call.kind === 'update' && h.fleet.updated().length === 1) askedAgainAt = Date.now();
  };
  const final = await h.rollout.run();
  assert.equal(final.state, 'ROLLOUT_SUCCEEDED', final.message);
  assert.ok(beatsAt > 0 && askedAgainAt >= beatsAt, 'asked again only once the registry saw it alive');
});

test(`an agent that keeps vanishing fails its host after ${MAX_AGENT_RETURNS} returns`, async () => {
  const h = harness({ serial: ['1'], maxFail: '100%' }, inventory(2), { script: { slotMs: 20 } });
  const agent = h.fleet.agent('h01');
  h.fleet.onStep = (e) => {
    if (e.hostId !== 'h01' || e.step !== 'SLOT_STARTED') return;
    agent.kill();
    setTimeout(() => agent.restart(), 20);
  };
  const final = await h.rollout.run();
  const h01 = host(final, 'h01');
  assert.equal(h01.state, 'HOST_FAILED');
  assert.equal(h01.errorCode, 'AGENT_UNREACHABLE');
  assert.match(h01.message, new RegExp(`^the agent vanished ${MAX_AGENT_RETURNS + 1} times: `));
  assert.equal(h.fleet.updated().filter((id) => id === 'h01').length, MAX_AGENT_RETURNS + 1);
  assert.equal(host(final, 'h02').state, 'HOST_SUCCEEDED');
});

test('paused while the agent is away: the host waits for resume, then finishes', async () => {
  const h = harness({ serial: ['1'] }, inventory(1), { script: { slotMs: 30 } });
  const agent = h.fleet.agent('h01');
  onStep(h, agent, 'a', 'SLOT_STARTED', () => agent.kill());
  const run = h.rollout.run();
  await until(() => host(h.rollout.status(), 'h01').message.startsWith('agent lost'), 'the agent lost');
  h.rollout.pause();
  await until(() => hostState(h.rollout, 'h01') === 'HOST_PENDING', 'the host back in line', 3_000);
  assert.match(host(h.rollout.status(), 'h01').message, /^paused: while its agent was away/);
  agent.restart();
  await sleep(50);
  h.rollout.resume();
  const final = await run;
  assert.equal(final.state, 'ROLLOUT_SUCCEEDED', final.message);
  assert.deepEqual([...agent.images.values()], [NEW, NEW]);
});

test('resumed while the agent still runs the update it took before it went out of sight: waited out, not failed AGENT_BUSY', async () => {
  const h = harness({ serial: ['1'] }, inventory(1), { script: { slotMs: 300 } });
  const agent = h.fleet.agent('h01');
  // A NATS outage: no heartbeat, no stream, and the agent goes on with the update.
  onStep(h, agent, 'a', 'SLOT_STARTED', () => {
    agent.alive = false;
    agent.loseStream();
  });
  const run = h.rollout.run();
  await until(() => host(h.rollout.status(), 'h01').message.startsWith('agent lost'), 'the agent lost');
  h.rollout.pause();
  await until(() => hostState(h.rollout, 'h01') === 'HOST_PENDING', 'the host back in line', 3_000);
  agent.alive = true;
  h.rollout.resume();
  const final = await run;
  assert.equal(final.state, 'ROLLOUT_SUCCEEDED', final.message);
  assert.equal(host(final, 'h01').state, 'HOST_SUCCEEDED');
  assert.deepEqual([...agent.images.values()], [NEW, NEW]);
  const lastAsk = h.fleet.calls.filter((c) => c.host === 'h01' && c.kind === 'update').length - 1;
  assert.ok(
    h.fleet.index('h01', 'update', lastAsk) > h.fleet.index('h01', 'update-end'),
    'asked again only after the update it was running had ended',
  );
  assert.ok(h.lines.some((l) => l.hostId === 'h01' && /still runs this rollout's update/.test(l.msg)));
});

test('a second agent starts under a host id mid-update: the host fails DUPLICATE_HOST_ID at once, not at the host timeout, and its update stops at the slot boundary', async () => {
  const h = harness({ serial: ['1'], hostTimeoutMs: 60_000 }, inventory(2), { script: { slotMs: 30 } });
  const agent = h.fleet.agent('h01');
  onStep(h, agent, 'a', 'SLOT_STARTED', () => agent.twin('two agents register as host h01'));
  const run = h.rollout.run();
  const started = Date.now();
  await until(() => h.rollout.status().state === 'ROLLOUT_PAUSED', 'the failure pause', 5_000);
  const h01 = host(h.rollout.status(), 'h01');
  assert.equal(h01.state, 'HOST_FAILED');
  assert.equal(h01.errorCode, 'DUPLICATE_HOST_ID');
  assert.match(h01.message, /two agents register as host h01/);
  assert.ok(Date.now() - started < 5_000);
  assert.equal(hostState(h.rollout, 'h02'), 'HOST_PENDING');
  await until(
    () => h.fleet.calls.some((c) => c.host === 'h01' && c.kind === 'update-end'),
    'the update ended',
  );
  assert.ok(h.fleet.index('h01', 'abort') >= 0, 'asked to stop');
  assert.deepEqual([...agent.images.values()], [NEW, OLD], 'stopped after the slot it was on');
  h.rollout.abort();
  await run;
});

test('a second agent registers mid-update and answers Describe first: nothing is sent again until a restart can be told from it, then the host fails DUPLICATE_HOST_ID', async () => {
  const h = harness({ serial: ['1'], hostTimeoutMs: 60_000 }, inventory(2), { script: { slotMs: 30 } });
  const agent = h.fleet.agent('h01');
  onStep(h, agent, 'a', 'SLOT_STARTED', () => {
    // The registry's first sight of the second agent looks like a restart, and cuts the update off.
    agent.settlingWhy = 'a new agent process registered as h01 while the one before it was heard 0.2 s ago';
    agent.impostor = true;
    agent.loseStream();
    // The first agent's next heartbeat tells them apart.
    setTimeout(() => {
      agent.settlingWhy = undefined;
      agent.twin('two agents register as host h01');
    }, 200);
  });
  const run = h.rollout.run();
  await until(() => h.rollout.status().state === 'ROLLOUT_PAUSED', 'the failure pause', 5_000);
  assert.equal(host(h.rollout.status(), 'h01').errorCode, 'DUPLICATE_HOST_ID');
  assert.equal(h.fleet.updated().length, 1, 'the update was not sent again to whichever agent answered');
  assert.ok(h.fleet.index('h01', 'abort') >= 0, 'asked to stop');
  h.rollout.abort();
  await run;
});

test('a host id two agents answer to before its batch: the host fails DUPLICATE_HOST_ID and is sent no update', async () => {
  const h = harness({ serial: ['1'], maxFail: '100%' }, inventory(2), { script: { slotMs: 10 } });
  h.fleet.agent('h02').twin('two agents register as host h02');
  const final = await h.rollout.run();
  assert.equal(host(final, 'h02').errorCode, 'DUPLICATE_HOST_ID');
  assert.equal(host(final, 'h01').state, 'HOST_SUCCEEDED');
  assert.deepEqual(h.fleet.updated(), ['h01']);
});
