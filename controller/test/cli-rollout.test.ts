import { test } from 'node:test';
import assert from 'node:assert/strict';
import { controllerForCli, fleetroll, type Run } from './run-cli.js';

// A real controller over real gRPC, with an inventory of hosts that are never reached:
// everything here is refused before any agent would be asked.
const ctl = controllerForCli(
  'cli-rollout',
  'hosts:\n  - id: fe-01\n    groups: [eu]\n    grpc: 127.0.0.1:1\n',
);

function oneLine(run: Run, code: number, message: RegExp): void {
  assert.equal(run.code, code, JSON.stringify(run));
  assert.equal(run.stdout, '');
  const lines = run.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, run.stderr);
  assert.match(lines[0] ?? '', message);
}

test('rollout start refuses bad flags locally with exit 2 and one line', async () => {
  oneLine(await fleetroll('rollout', 'start', '--serial', '35%'), 2, /required option '--image <ref>'/);
  oneLine(
    await fleetroll('rollout', 'start', '--image', 'app:v2', '--serial', '120%'),
    2,
    /--serial: "120%" is over 100%/,
  );
  oneLine(
    await fleetroll('rollout', 'start', '--image', 'app:v2', '--serial', '1', '--failure-action', 'explode'),
    2,
    /--failure-action: /,
  );
});

test("the controller's own validation also exits 2: unknown group, malformed image, unknown rollout", async () => {
  const start = (...extra: string[]) =>
    fleetroll('rollout', 'start', '--serial', '1', '--controller', ctl.address, '--detach', ...extra);
  oneLine(await start('--image', 'app:v2', '--group', 'mars'), 2, /unknown group "mars"/);
  oneLine(await start('--image', 'Not An Image'), 2, /image/);
  oneLine(
    await fleetroll('rollout', 'status', 'r-nope', '--controller', ctl.address),
    2,
    /no rollout r-nope/,
  );
});

test('an unreachable controller is reported in plain words with exit 1', async () => {
  oneLine(
    await fleetroll('agents', '--controller', '127.0.0.1:1'),
    1,
    /cannot reach the controller at 127\.0\.0\.1:1/,
  );
});

test('agents lists inventory hosts, alive or not', async () => {
  const run = await fleetroll('agents', '--controller', ctl.address);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^HOST\s+ALIVE/m);
  assert.match(run.stdout, /^fe-01\s+NO\s/m);
});
