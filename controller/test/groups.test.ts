import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError, parseSerialSpec } from '@fleetroll/shared';
import { UNGROUPED, partitionByGroup, planByGroup, selectHosts } from '../src/index.js';

const hosts = [
  { id: 'fe-01', groups: ['eu'] },
  { id: 'fe-02', groups: ['canary', 'eu'] },
  { id: 'fe-03', groups: ['us'] },
  { id: 'fe-04', groups: [] },
  { id: 'fe-05', groups: ['us', 'eu'] },
];
const ids = (list: readonly { id: string }[]): string[] => list.map((h) => h.id);

test('no --group selects every host', () => {
  assert.deepEqual(ids(selectHosts(hosts, [])), ['fe-01', 'fe-02', 'fe-03', 'fe-04', 'fe-05']);
});

test('--group selects hosts in any named group, in inventory order', () => {
  assert.deepEqual(ids(selectHosts(hosts, ['us', 'canary'])), ['fe-02', 'fe-03', 'fe-05']);
  assert.deepEqual(ids(selectHosts(hosts, ['eu', 'eu'])), ['fe-01', 'fe-02', 'fe-05']);
});

test('an unknown group is an error naming it and the groups that exist', () => {
  assert.throws(
    () => selectHosts(hosts, ['eu', 'ap']),
    (err: unknown) =>
      err instanceof InvalidInputError &&
      err.message === 'unknown group "ap" (the inventory has eu, canary, us)',
  );
  assert.throws(() => selectHosts(hosts, ['ap', 'sa']), { message: /^unknown groups "ap", "sa" / });
  assert.throws(() => selectHosts([{ groups: [] }], ['eu']), { message: /the inventory has no groups/ });
});

test('partition: each host joins the first of its own groups in the rollout', () => {
  const all = partitionByGroup(hosts, []);
  assert.deepEqual(
    all.map((g) => [g.group, ids(g.hosts)]),
    [
      ['eu', ['fe-01']],
      ['canary', ['fe-02']],
      ['us', ['fe-03', 'fe-05']],
      [UNGROUPED, ['fe-04']],
    ],
  );
  const asked = partitionByGroup(hosts, ['eu', 'us']);
  assert.deepEqual(
    asked.map((g) => [g.group, ids(g.hosts)]),
    [
      ['eu', ['fe-01', 'fe-02']],
      ['us', ['fe-03', 'fe-05']],
    ],
  );
});

test('partition drops a group whose hosts all joined another group', () => {
  assert.deepEqual(
    partitionByGroup(hosts, ['canary', 'eu']).map((g) => g.group),
    ['canary', 'eu'],
  );
  const onlyShared = [{ id: 'a', groups: ['x', 'y'] }];
  assert.deepEqual(
    partitionByGroup(onlyShared, ['x', 'y']).map((g) => g.group),
    ['x'],
  );
});

test('planByGroup computes a percentage per group', () => {
  const fleet = [
    ...Array.from({ length: 10 }, (_, i) => ({ id: `eu-${i}`, groups: ['eu'] })),
    ...Array.from({ length: 4 }, (_, i) => ({ id: `us-${i}`, groups: ['us'] })),
  ];
  const plans = planByGroup(fleet, parseSerialSpec('35%'), []);
  assert.deepEqual(
    plans.map((p) => [p.group, p.batches.map((b) => b.length)]),
    [
      ['eu', [3, 3, 3, 1]],
      ['us', [1, 1, 1, 1]],
    ],
  );
});
