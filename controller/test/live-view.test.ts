import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LiveView } from '../src/cli/live-view.js';
import { status } from './status-fixtures.js';

test('log lines scroll above the block, which is erased and drawn again in place', () => {
  const writes: string[] = [];
  const terminal = { size: () => ({ columns: 80, rows: 24 }), color: false };
  // The local clock runs 1 h ahead of the controller's: elapsed times must not.
  const view = new LiveView(
    (t) => writes.push(t),
    terminal,
    () => 3_600_000 + 5_000,
  );
  try {
    view.show(['rollout r-1: app:v2 to 2 hosts'], status({ createdAtMs: 0, updatedAtMs: 5_000 }));
    const first = writes[0] ?? '';
    assert.ok(first.startsWith('rollout r-1: app:v2 to 2 hosts\n'), first);
    assert.match(first, /rollout r-1 {2}running {2}app:v2 via nats, serial 50% {2}5\.0s\n/);
    const blockLines = first.split('\n').length - 2;

    view.show(['[   1.0s] batch 1/2: h1'], status({ createdAtMs: 0, updatedAtMs: 6_000 }));
    const second = writes[1] ?? '';
    assert.ok(
      second.startsWith(`\r\x1b[${blockLines}A\x1b[J[   1.0s] batch 1/2: h1\n`),
      JSON.stringify(second),
    );
    assert.ok(!second.includes('\x1b[3'), 'no colour when the terminal asks for none');
  } finally {
    view.close();
  }
});
