import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Io } from '../src/cli/io.js';
import { runCli } from '../src/cli/program.js';
import { controllerForCli } from './run-cli.js';

// A real controller whose only host has no agent: a rollout there fails at once, which is
// all it takes to see what `rollout start` writes to a terminal and to a pipe.
const ctl = controllerForCli('cli-live', 'hosts:\n  - id: fe-01\n    grpc: 127.0.0.1:1\n');

async function start(terminal: Io['terminal'], ...extra: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const io: Io = { out: (t) => (out += t), err: (t) => (out += t), terminal };
  const argv = ['rollout', 'start', '--image', 'app:v2', '--serial', '1', '--failure-action', 'abort'];
  const code = await runCli([...argv, '--controller', ctl.address, ...extra], io);
  return { code, out };
}

const terminal = { size: () => ({ columns: 100, rows: 30 }), color: false };

test('on a terminal, rollout start draws the live block under the log; the closing line stays plain', async () => {
  const { code, out } = await start(terminal);
  assert.equal(code, 1, out);
  // The live block's own header (the log's header reads `rollout ID: image to N hosts`).
  assert.match(out, /^rollout r-\S+ {2}(failed|aborted) {2}app:v2 via grpc, serial 1 /m);
  assert.match(out, /✗ fe-01 {2}\w+/, 'the failure and its code are in the block');
  assert.match(out, /\nrollout r-\S+ (failed|aborted): 0\/1 hosts on app:v2, 1 failed/);
});

test('--plain, like a pipe, writes log lines without escape codes', async () => {
  for (const run of [await start(terminal, '--plain'), await start(undefined)]) {
    assert.equal(run.code, 1, run.out);
    assert.ok(!run.out.includes('\x1b'), run.out);
    assert.match(run.out, /^rollout r-\S+: app:v2 to 1 hosts/);
  }
});
