import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatStatus } from '../src/cli/status-format.js';
import { reduce } from '../src/rollout/reducer.js';
import { host, status, stepEvent } from './status-fixtures.js';

const TIMED_OUT = '4 sessions still open after drainTimeout';

test("a slot's note from its agent stays in the host's status, oldest first, the last 20 at most", () => {
  const s = status({ hosts: [host('h1', 'HOST_UPDATING')] });
  const step = (name: 'DRAINED' | 'NEW_STARTED' | 'HEALTHY', slot: string, message: string) =>
    reduce(s, { kind: 'host-step', hostId: 'h1', event: stepEvent(name, { slot, message }) }, 2_000);
  step('DRAINED', 'app1', '');
  step('DRAINED', 'app2', TIMED_OUT);
  step(
    'NEW_STARTED',
    'app2',
    'HAProxy had app/app_2 above weight 0 again once while the old container stopped',
  );
  step('HEALTHY', 'app2', 'HAProxy had app/app_2 above weight 0 again once');
  assert.deepEqual(s.hosts[0]?.notes, [
    `app2 drain: ${TIMED_OUT}`,
    'app2 replace: HAProxy had app/app_2 above weight 0 again once while the old container stopped',
    'app2 health wait: HAProxy had app/app_2 above weight 0 again once',
  ]);
  for (let i = 0; i < 25; i++) step('DRAINED', `s${i}`, TIMED_OUT);
  assert.equal(s.hosts[0]?.notes.length, 20);
  assert.equal(s.hosts[0]?.notes[0], `s5 drain: ${TIMED_OUT}`);
});

test('rollout status prints each note under its host, also for a host back in line (paused)', () => {
  const s = status({
    hosts: [
      host('h1', 'HOST_SUCCEEDED', { slotsDone: 3, notes: [`app2 drain: ${TIMED_OUT}`] }),
      host('h2', 'HOST_PENDING', { slotsDone: 1, notes: ['app1 health wait: HAProxy reloaded'] }),
      host('h3', 'HOST_PENDING'),
    ],
  });
  const lines = formatStatus(s).split('\n');
  assert.deepEqual(lines.slice(1), [
    '    h1  succeeded  3/3 slots',
    `      note: app2 drain: ${TIMED_OUT}`,
    '    h2  pending  1/3 slots',
    '      note: app1 health wait: HAProxy reloaded',
    '',
  ]);
});
