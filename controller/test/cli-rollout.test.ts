import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { controllerConfigSchema } from '@fleetroll/shared';
import { startController, type RunningController } from '../src/daemon.js';
import { fleetroll, type Run } from './run-cli.js';

let dir = '';
let controller: RunningController;
let address = '';

// A real controller over real gRPC, with an inventory of hosts that are never reached:
// everything here is refused before any agent would be asked.
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleetroll-cli-rollout-'));
  const inventory = join(dir, 'inventory.yml');
  await writeFile(inventory, 'hosts:\n  - id: fe-01\n    groups: [eu]\n    grpc: 127.0.0.1:1\n');
  controller = await startController(
    controllerConfigSchema.parse({
      listen: '127.0.0.1:0',
      http: { listen: '127.0.0.1:0' },
      inventory,
      store: 'memory',
    }),
    pino({ level: 'silent' }),
  );
  address = `127.0.0.1:${controller.grpcPort}`;
});
after(async () => {
  await controller?.stop();
  await rm(dir, { recursive: true, force: true });
});

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
    fleetroll('rollout', 'start', '--serial', '1', '--controller', address, '--detach', ...extra);
  oneLine(await start('--image', 'app:v2', '--group', 'mars'), 2, /unknown group "mars"/);
  oneLine(await start('--image', 'Not An Image'), 2, /image/);
  oneLine(await fleetroll('rollout', 'status', 'r-nope', '--controller', address), 2, /no rollout r-nope/);
});

test('an unreachable controller is reported in plain words with exit 1', async () => {
  oneLine(
    await fleetroll('agents', '--controller', '127.0.0.1:1'),
    1,
    /cannot reach the controller at 127\.0\.0\.1:1/,
  );
});

test('agents lists inventory hosts, alive or not', async () => {
  const run = await fleetroll('agents', '--controller', address);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^HOST\s+ALIVE/m);
  assert.match(run.stdout, /^fe-01\s+NO\s/m);
});
