import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { StepEvent } from '@fleetroll/shared';
import { stepEmitter } from '../src/events.js';
import { HostAgent } from '../src/host.js';
import { agentHandlers, type UpdateSink } from '../src/transport/handlers.js';
import { TIMINGS, fakeHost } from './fakes.js';

const silent = pino({ level: 'silent' });

function setup() {
  const h = fakeHost();
  const host = new HostAgent(h.config, h.deps);
  return { h, host, handlers: agentHandlers(host, TIMINGS, silent) };
}

/** Records what a transport would have sent, in order. */
function recordingSink(onEvent: (e: StepEvent) => void = () => undefined) {
  const sent: string[] = [];
  const sink: UpdateSink = {
    accepted: () => sent.push('accepted'),
    event: (e) => {
      sent.push(e.slot ? `${e.step}:${e.slot}` : e.step);
      onEvent(e);
    },
  };
  return { sent, sink };
}

const request = (over: Record<string, unknown> = {}) => ({
  rolloutId: 'r1',
  image: 'app:v2',
  slots: [],
  imageIds: [],
  options: null,
  ...over,
});

test('an accepted update says so once, before its first event, and resolves after the terminal one', async () => {
  const { handlers } = setup();
  const { sent, sink } = recordingSink();
  await handlers.update(request(), sink);
  assert.equal(sent[0], 'accepted');
  assert.equal(sent.filter((s) => s === 'accepted').length, 1);
  assert.equal(sent[1], 'HOST_STARTED');
  assert.equal(sent.at(-1), 'HOST_DONE');
});

test('bad requests are refused with the typed error before anything is sent or touched', async () => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ image: 'Fleetroll App!!' }, 'INVALID_INPUT', /image: is not a valid image reference/],
    [{ slots: ['app1\nset weight app/app_2 0'] }, 'INVALID_INPUT', /slots\.0: must be/],
    [{ rolloutId: '' }, 'INVALID_INPUT', /rolloutId/],
    [{ colour: 'blue' }, 'INVALID_INPUT', /colour/],
    [{ slots: ['app1', 'app9'] }, 'UNKNOWN_SLOT', /no slot "app9"/],
  ];
  for (const [over, code, message] of cases) {
    const { h, handlers } = setup();
    const { sent, sink } = recordingSink();
    await assert.rejects(handlers.update(request(over), sink), (err: Error & { code?: string }) => {
      assert.equal(err.code, code, JSON.stringify(over));
      assert.match(err.message, message);
      return true;
    });
    assert.deepEqual(sent, [], JSON.stringify(over));
    assert.deepEqual(h.trail, [], JSON.stringify(over));
  }
});

test('a second update while one runs is refused as AGENT_BUSY; the active rollout is reported meanwhile', async () => {
  const { handlers } = setup();
  assert.equal(handlers.activeRolloutId(), '');
  let busy: Promise<void> | undefined;
  const { sink } = recordingSink((e) => {
    if (e.step === 'HOST_STARTED') {
      assert.equal(handlers.activeRolloutId(), 'r1');
      busy = handlers.update(request({ rolloutId: 'r2' }), recordingSink().sink);
    }
  });
  await handlers.update(request(), sink);
  await assert.rejects(busy ?? Promise.resolve(), { code: 'AGENT_BUSY' });
  assert.equal(handlers.activeRolloutId(), '');
});

test('a transport that throws while sending costs events, never a half-done slot', async () => {
  const { h, handlers } = setup();
  const sink: UpdateSink = {
    accepted: () => {
      throw new Error('connection closed');
    },
    event: () => {
      throw new Error('connection closed');
    },
  };
  await handlers.update(request(), sink);
  for (const c of ['c1', 'c2', 'c3']) assert.equal(h.runtime.byName(c)?.image, 'app:v2');
  assert.equal(await h.lb.getWeight('app', 'app_1'), 37);
});

test('PrePull and Abort validate their requests too', async () => {
  const { handlers } = setup();
  assert.deepEqual(Object.keys(await handlers.prePull({ image: 'app:v2' })), [
    'pulled',
    'durationMs',
    'imageIds',
  ]);
  await assert.rejects(handlers.prePull({ image: 'no way' }), { code: 'INVALID_INPUT', message: /image/ });
  await assert.rejects(handlers.abort({ rolloutId: 'a b' }), { code: 'INVALID_INPUT', message: /rolloutId/ });
  assert.deepEqual(await handlers.abort({ rolloutId: 'r1' }), { accepted: false });
});

test('an update that breaks after it was accepted still ends with HOST_FAILED', async () => {
  const { h, host } = setup();
  // The workflow reports failures as events; a rejection after acceptance is a bug
  // that must still give the controller an end to its stream.
  const broken = Object.create(host) as HostAgent;
  broken.update = async (cmd, emit) => {
    stepEmitter(emit, cmd.rolloutId, host.hostId)('HOST_STARTED');
    throw new Error('boom');
  };
  const handlers = agentHandlers(broken, TIMINGS, silent);
  const events: StepEvent[] = [];
  await handlers.update(request(), { accepted: () => undefined, event: (e) => events.push(e) });
  assert.deepEqual(
    events.map((e) => [e.step, e.errorCode]),
    [
      ['HOST_STARTED', ''],
      ['HOST_FAILED', 'INTERNAL'],
    ],
  );
  assert.equal(events[1]?.hostId, h.config.hostId);
  assert.equal(events[1]?.message, 'boom');
});
