import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { msg } from '@fleetroll/shared';
import { specToRequest } from '../src/index.js';
import { duration, render } from '../src/cli/live.js';
import { spec } from './rollout-fakes.js';
import { group, host, status } from './status-fixtures.js';

const batch = (index: number, hostIds: string[], startedAtMs: number, finishedAtMs: number) => ({
  group: '',
  index,
  hostIds,
  startedAtMs,
  finishedAtMs,
  heldAtMs: 0,
});

/** Six hosts in two groups, one plan: the second batch is running, one host in it has failed. */
function midRollout(): msg.RolloutStatus__Output {
  return status({
    id: 'r-7',
    image: 'registry:5000/app:v2',
    serial: ['2', '3'],
    groups: [group('eu'), group('us')],
    batches: [
      batch(0, ['eu-1', 'eu-2'], 1_000, 20_000),
      batch(1, ['eu-3', 'eu-4', 'us-1'], 20_000, 0),
      batch(2, ['us-2'], 0, 0),
    ],
    hosts: [
      host('eu-1', 'HOST_SUCCEEDED', { group: 'eu', slotsDone: 3 }),
      host('eu-2', 'HOST_SUCCEEDED', { group: 'eu', slotsDone: 3 }),
      host('eu-3', 'HOST_UPDATING', {
        group: 'eu',
        batch: 1,
        slot: 'app2',
        step: 'DRAINED',
        slotsDone: 1,
        startedAtMs: 30_000,
      }),
      host('eu-4', 'HOST_PULLING', { group: 'eu', batch: 1, startedAtMs: 40_000 }),
      host('us-1', 'HOST_FAILED', {
        group: 'us',
        batch: 1,
        errorCode: 'HEALTH_CHECK_FAILED',
        message: 'app1: unhealthy after 60s',
      }),
      host('us-2', 'HOST_PENDING', { group: 'us', batch: 2 }),
    ],
    createdAtMs: 0,
    updatedAtMs: 42_000,
  });
}

const SGR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const plain = (line: string) => line.replace(SGR, '');

test('draws a bar per group, the running batch, hosts in flight with slot and step, failures', () => {
  assert.deepEqual(render(midRollout(), 100), [
    'rollout r-7  running  registry:5000/app:v2 via nats, serial 2,3  42.0s',
    `  eu ${'█'.repeat(20)}${'▒'.repeat(20)} 2/4  batch 2/3  running`,
    `  us ${'▓'.repeat(20)}${'░'.repeat(20)} 0/2  batch 2/3  running, 1 failed`,
    'batch 2/3: eu-3 eu-4 us-1✗',
    '  ▸ eu-3  app2 2/3  stopping old, weight 0  12.0s',
    '  ▸ eu-4  pulling image  2.0s',
    '  ✗ us-1  HEALTH_CHECK_FAILED: app1: unhealthy after 60s',
  ]);
});

test('every line fits the width, and colour changes nothing but the escape codes', () => {
  for (const width of [20, 33, 60, 80, 100, 200]) {
    const bare = render(midRollout(), width);
    const coloured = render(midRollout(), width, { color: true });
    assert.deepEqual(coloured.map(plain), bare);
    assert.ok(
      coloured.some((l) => l.includes('\x1b[31m')),
      'failures are red',
    );
    for (const line of bare) assert.ok([...line].length <= width, `${width}: ${line}`);
  }
  assert.equal(render(midRollout(), 40)[4], '  ▸ eu-3  app2 2/3  stopping old, weigh…');
});

test('on a short screen hosts in flight give way first, failures stay, the rest is counted', () => {
  const s = midRollout();
  for (let i = 0; i < 30; i++) {
    s.hosts.push(host(`eu-x${i}`, 'HOST_UPDATING', { group: 'eu', slot: 'app1', step: 'WEIGHT_ZERO' }));
  }
  const lines = render(s, 100, { maxLines: 8 });
  assert.equal(lines.length, 8);
  assert.deepEqual(lines.slice(4), [
    '  ▸ eu-3  app2 2/3  stopping old, weight 0  12.0s',
    '  ▸ eu-4  pulling image  2.0s',
    '  ✗ us-1  HEALTH_CHECK_FAILED: app1: unhealthy after 60s',
    '  … 30 more hosts',
  ]);
  assert.equal(render(s, 100, { maxLines: 3 }).length, 3);
});

test('a paused rollout says why and how to go on; elapsed times follow the clock given', () => {
  const s = midRollout();
  s.state = 'ROLLOUT_PAUSED';
  s.message = 'batch 2: 1 of 3 hosts failed (33% > 0%)';
  s.groups[1] = group('us', { state: 'GROUP_PAUSED', pauseReason: 'failure action' });
  const lines = render(s, 100, { now: 102_000 });
  assert.equal(lines[0], 'rollout r-7  paused  registry:5000/app:v2 via nats, serial 2,3  1m42s');
  assert.match(lines[2] ?? '', /batch 2\/3 {2}paused, 1 failed \(failure action\)$/);
  assert.equal(lines[4], '  ▸ eu-3  app2 2/3  stopping old, weight 0  1m12s');
  assert.deepEqual(lines.slice(-2), [
    'batch 2: 1 of 3 hosts failed (33% > 0%)',
    'paused: resume with fleetroll rollout resume r-7',
  ]);
});

test('a finished rollout shows full bars and the time it took, not the time since', () => {
  const s = midRollout();
  s.state = 'ROLLOUT_SUCCEEDED';
  s.message = '6 hosts on registry:5000/app:v2';
  s.finishedAtMs = 61_000;
  s.batches.forEach((b) => ((b.startedAtMs = 1), (b.finishedAtMs = 2)));
  s.hosts.forEach((h) => ((h.state = 'HOST_SUCCEEDED'), (h.errorCode = '')));
  s.groups = [group('eu', { state: 'GROUP_DONE' }), group('us', { state: 'GROUP_DONE' })];
  assert.deepEqual(render(s, 80, { now: 500_000 }), [
    'rollout r-7  succeeded  registry:5000/app:v2 via nats, serial 2,3  1m01s',
    `  eu ${'█'.repeat(34)} 4/4  batch 2/3  done`,
    `  us ${'█'.repeat(34)} 2/2  batch 2/3  done`,
  ]);
});

test('durations read like a clock', () => {
  assert.deepEqual([0, 1_234, 59_949, 59_970, 60_000, 3_599_000, 3_720_000, -5].map(duration), [
    '0.0s',
    '1.2s',
    '59.9s',
    '1m00s',
    '1m00s',
    '59m59s',
    '1h02m',
    '0.0s',
  ]);
});

test('a batch waiting out its soak says how long is left; once the next batch begins it no longer does', () => {
  const s = midRollout();
  s.request = specToRequest(spec({ serial: ['2', '3'], soakMs: 30_000 }));
  s.batches[1]!.finishedAtMs = 35_000;
  s.hosts = s.hosts.map((h) => (h.batch === 1 ? { ...h, state: 'HOST_SUCCEEDED', slot: '' } : h));
  const lines = render(s, 100);
  assert.ok(
    lines.includes('batch 2/3 soaking: 23.0s left, then its hosts are checked again'),
    lines.join('\n'),
  );
  s.batches[2]!.startedAtMs = 66_000;
  assert.ok(!render(s, 100).some((l) => l.includes('soaking')));
  assert.ok(!render({ ...s, state: 'ROLLOUT_PAUSED' }, 100).some((l) => l.includes('soaking')));
});
