import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { msg } from '@fleetroll/shared';
import { harness, inventory } from './rollout-fakes.js';

type Status = msg.RolloutStatus__Output;

const host = (status: Status, id: string) => {
  const found = status.hosts.find((h) => h.hostId === id);
  assert.ok(found, `no host ${id}`);
  return found;
};

const AMD64 = 'sha256:' + 'a'.repeat(64);
const ARM64 = 'sha256:' + 'b'.repeat(64);
const PUSHED_AGAIN = 'sha256:' + 'c'.repeat(64);
const LIST = 'reg/app@sha256:' + '1'.repeat(64);
const LIST_AGAIN = 'reg/app@sha256:' + '2'.repeat(64);

test('one build per rollout: the first host prepared pins it, every update asks for it, a host where the tag names another fails IMAGE_MISMATCH untouched', async () => {
  const { rollout, fleet } = harness({ serial: ['1'], maxFail: '100%' }, inventory(3));
  fleet.agent('h01').buildIds = [AMD64, LIST];
  // Another platform of the same manifest list: the same build.
  fleet.agent('h02').buildIds = [ARM64, LIST];
  fleet.agent('h03').buildIds = [PUSHED_AGAIN, LIST_AGAIN];
  const final = await rollout.run();

  assert.deepEqual(final.imageIds, [AMD64, LIST]);
  assert.equal(final.imageIdsHost, 'h01');
  assert.equal(host(final, 'h02').state, 'HOST_SUCCEEDED');
  const h03 = host(final, 'h03');
  assert.equal(h03.state, 'HOST_FAILED');
  assert.equal(h03.errorCode, 'IMAGE_MISMATCH');
  assert.match(
    h03.message,
    /^registry:5000\/app:v2 is sha256:cccccccccccc on h03, not sha256:aaaaaaaaaaaa as on h01, where the rollout took it from: the tag was pushed again/,
  );
  assert.deepEqual(fleet.updated(), ['h01', 'h02'], 'h03 is never asked to update');
  for (const call of fleet.calls.filter((c) => c.kind === 'update')) {
    assert.deepEqual(call.imageIds, [AMD64, LIST], `${call.host} is told the build`);
  }
});

test('agents that do not say what the image is pin nothing and are asked for no build', async () => {
  const { rollout, fleet } = harness({ serial: ['1'] }, inventory(2));
  const final = await rollout.run();
  assert.equal(final.state, 'ROLLOUT_SUCCEEDED', final.message);
  assert.deepEqual(final.imageIds, []);
  for (const call of fleet.calls.filter((c) => c.kind === 'update')) assert.deepEqual(call.imageIds, []);
});

test('a PrePull answer whose build is no image id fails that host as it enters, before the build goes to any other host', async () => {
  const { rollout, fleet } = harness({ serial: ['1'], maxFail: '100%' }, inventory(2));
  fleet.agent('h01').buildIds = ['latest'];
  fleet.agent('h02').buildIds = [AMD64];
  const final = await rollout.run();
  assert.equal(host(final, 'h01').errorCode, 'INVALID_INPUT');
  assert.match(host(final, 'h01').message, /h01's PrePull answer: imageIds\.0: must be an image id/);
  assert.deepEqual(final.imageIds, [AMD64], 'pinned by the next host prepared');
  assert.deepEqual(fleet.updated(), ['h02']);
});
