import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError, NO_SLOT_OVERRIDES, type msg } from '@fleetroll/shared';
import { DEFAULT_HOST_TIMEOUT_MS, parseRolloutSpec } from '../src/index.js';
import { NEW } from './rollout-fakes.js';

const parse = (request: msg.StartRolloutRequest) =>
  parseRolloutSpec({ image: NEW, ...request }, { id: 'r1' });

/** The request as proto-loader hands it over: every field present, proto3 defaults for the rest. */
const wire: msg.StartRolloutRequest__Output = {
  image: NEW,
  serial: [],
  groups: [],
  maxFail: '',
  failureAction: 'FAILURE_ACTION_UNSPECIFIED',
  maxParallel: 0,
  hostTimeoutMs: 0,
  soakMs: 0,
  pauseAfter: [],
  transport: '',
  groupsInParallel: false,
  groupsInSequence: false,
  options: null,
};

function rejects(request: msg.StartRolloutRequest, message: RegExp): void {
  assert.throws(
    () => parse(request),
    (err: unknown) => err instanceof InvalidInputError && message.test(err.message),
  );
}

test('spec: a wire request with proto defaults gets the documented defaults', () => {
  const spec = parseRolloutSpec(wire, { id: 'r1' });
  assert.deepEqual(spec, {
    id: 'r1',
    image: NEW,
    serial: [{ kind: 'count', n: 0 }],
    groups: [],
    maxFailPercent: 0,
    failureAction: 'pause',
    maxParallel: 0,
    hostTimeoutMs: DEFAULT_HOST_TIMEOUT_MS,
    soakMs: 0,
    pauseAfter: [],
    groupsInParallel: false,
    groupsInSequence: false,
    options: NO_SLOT_OVERRIDES,
  });
});

test('spec: every field is read, and the controller defaults fill the zeros', () => {
  const spec = parseRolloutSpec(
    {
      ...wire,
      serial: ['1', '35%'],
      groups: ['eu', 'us', 'eu'],
      maxFail: '12.5%',
      failureAction: 'ROLLBACK',
      maxParallel: 4,
      transport: 'nats',
      groupsInParallel: true,
      options: { ...parse({}).options, drainTimeoutMs: 5_000 },
    },
    { id: 'r2', defaultTransport: 'grpc', defaults: { hostTimeoutMs: 9_000, maxParallel: 2 } },
  );
  assert.deepEqual(spec.serial, [
    { kind: 'count', n: 1 },
    { kind: 'percent', p: 35 },
  ]);
  assert.deepEqual(spec.groups, ['eu', 'us']);
  assert.equal(spec.maxFailPercent, 12.5);
  assert.equal(spec.failureAction, 'rollback');
  assert.equal(spec.maxParallel, 4);
  assert.equal(spec.hostTimeoutMs, 9_000);
  assert.equal(spec.transport, 'nats');
  assert.equal(spec.groupsInParallel, true);
  assert.equal(spec.options.drainTimeoutMs, 5_000);
  const defaulted = parseRolloutSpec(wire, {
    id: 'r3',
    defaultTransport: 'grpc',
    defaults: { maxParallel: 2 },
  });
  assert.equal(defaulted.transport, 'grpc');
  assert.equal(defaulted.maxParallel, 2);
});

test('spec: max_fail takes "10%", "10" and "", nothing else', () => {
  assert.equal(parse({ maxFail: '10%' }).maxFailPercent, 10);
  assert.equal(parse({ maxFail: '10' }).maxFailPercent, 10);
  assert.equal(parse({ maxFail: '100%' }).maxFailPercent, 100);
  rejects({ maxFail: '120%' }, /^invalid rollout request: max_fail: "120%" is over 100%$/);
  rejects({ maxFail: 'abc' }, /^invalid rollout request: max_fail: "abc" is not a percentage/);
  rejects({ maxFail: '-5%' }, /max_fail: "-5%" is not a percentage/);
  rejects({ maxFail: '10%%' }, /max_fail: "10%%" is not a percentage/);
});

test('spec: failure actions by name or number; unknown ones are named', () => {
  assert.equal(parse({ failureAction: 'PAUSE' }).failureAction, 'pause');
  assert.equal(parse({ failureAction: 'ABORT' }).failureAction, 'abort');
  assert.equal(parse({ failureAction: 3 }).failureAction, 'rollback');
  rejects(
    { failureAction: 7 as unknown as msg.StartRolloutRequest['failureAction'] },
    /^invalid rollout request: failure_action: unknown failure action 7 /,
  );
  rejects(
    { failureAction: 'EXPLODE' as msg.StartRolloutRequest['failureAction'] },
    /failure_action: unknown failure action "EXPLODE" \(expected PAUSE, ABORT or ROLLBACK\)/,
  );
});

test('spec: a bad serial item is named by its position', () => {
  rejects({ serial: ['1', '120%'] }, /^invalid rollout request: serial\.1: "120%" is over 100%$/);
  rejects({ serial: ['-5'] }, /serial\.0: "-5" is negative/);
  rejects({ serial: ['abc'] }, /serial\.0: "abc" is not a count/);
  rejects({ serial: ['10%%'] }, /serial\.0: "10%%" is not a count/);
});

test('spec: image, groups, transport, numbers and options are checked, each named', () => {
  rejects({ image: 'Bad Image!' }, /^invalid rollout request: image: is not a valid image reference/);
  rejects({ image: '' }, /image: is not a valid image reference/);
  rejects({ groups: ['eu', 'no spaces'] }, /groups\.1: must be 1-63 characters/);
  rejects({ transport: 'http' }, /transport: "http" is not a transport \(expected "nats" or "grpc"\)/);
  rejects({ maxParallel: -1 }, /max_parallel: must not be negative/);
  rejects({ hostTimeoutMs: 1.5 }, /host_timeout_ms: must be a whole number/);
  rejects(
    { options: { ...parse({}).options, stopTimeoutS: 10_000 } },
    /options\.stop_timeout_s: must be at most 600 s/,
  );
  rejects({ maxFail: 'x', transport: 'http' }, /max_fail: .*; transport: /);
});

test('spec: an unknown field is refused rather than ignored', () => {
  assert.throws(() => parse({ max_fail: '10%' } as msg.StartRolloutRequest), /unrecognized key.*"max_fail"/i);
});

test('spec: the rollout id must be usable as a NATS subject token', () => {
  assert.throws(() => parseRolloutSpec(wire, { id: 'r 1' }), {
    name: 'InvalidInputError',
    message: /^rollout id: must be/,
  });
});
