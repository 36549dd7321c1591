import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSerialSpec } from '@fleetroll/shared';
import { batchSizes, planBatches } from '../src/index.js';

const sizes = (total: number, serial: unknown): number[] => batchSizes(total, parseSerialSpec(serial));
const fleet = (n: number): string[] =>
  Array.from({ length: n }, (_, i) => `fe-${String(i + 1).padStart(2, '0')}`);

test('DESIGN example: 35% of 10 hosts is 3,3,3,1', () => {
  assert.deepEqual(sizes(10, '35%'), [3, 3, 3, 1]);
});

test('a list is used in order and its last item repeats', () => {
  assert.deepEqual(sizes(10, [1, '10%', '50%']), [1, 1, 5, 3]);
  assert.deepEqual(sizes(10, '1,10%,50%'), [1, 1, 5, 3]);
  assert.deepEqual(sizes(20, '1,5'), [1, 5, 5, 5, 4]);
});

test('a count splits the fleet and the last batch takes the rest', () => {
  assert.deepEqual(sizes(10, 3), [3, 3, 3, 1]);
  assert.deepEqual(sizes(3, 5), [3]);
});

test('a count of 0 puts every remaining host in one batch', () => {
  assert.deepEqual(sizes(10, 0), [10]);
  assert.deepEqual(sizes(10, '1,0'), [1, 9]);
  // As in Ansible, items after a 0 are never reached.
  assert.deepEqual(sizes(10, '2,0,1'), [2, 8]);
});

test('100% is one batch; 1% is never below one host', () => {
  assert.deepEqual(sizes(7, '100%'), [7]);
  assert.deepEqual(sizes(5, '1%'), [1, 1, 1, 1, 1]);
  assert.deepEqual(sizes(250, '1%'), Array<number>(125).fill(2));
  assert.deepEqual(sizes(3, '50%'), [1, 1, 1]);
  assert.deepEqual(sizes(100, '99%'), [99, 1]);
});

test('a percentage is of the whole rollout, not of the hosts left', () => {
  assert.deepEqual(sizes(10, '1,50%'), [1, 5, 4]);
});

test('percentages round down exactly, without Ansible\u2019s float error (29% of 100 is 29, not 28)', () => {
  assert.deepEqual(sizes(100, '29%').slice(0, 3), [29, 29, 29]);
  assert.deepEqual(sizes(100, '57%'), [57, 43]);
});

test('a list longer than needed stops when the hosts run out', () => {
  assert.deepEqual(sizes(3, '1,2,3,4,5'), [1, 2]);
});

test('a single host is one batch whatever the spec', () => {
  for (const serial of [0, 1, 7, '1%', '100%', '1,10%,50%']) {
    assert.deepEqual(planBatches(['fe-01'], parseSerialSpec(serial)), [['fe-01']]);
  }
});

test('no hosts means no batches', () => {
  assert.deepEqual(planBatches([], parseSerialSpec('35%')), []);
});

test('planBatches keeps inventory order and the host objects themselves', () => {
  const hosts = fleet(5).map((id) => ({ id }));
  const batches = planBatches(hosts, parseSerialSpec(2));
  assert.deepEqual(
    batches.map((b) => b.map((h) => h.id)),
    [['fe-01', 'fe-02'], ['fe-03', 'fe-04'], ['fe-05']],
  );
  assert.equal(batches[0]?.[0], hosts[0]);
});
