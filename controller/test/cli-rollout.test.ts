import { test } from 'node:test';
import assert from 'node:assert/strict';
import { controllerForCli, fleetroll, type Run } from './run-cli.js';

// A real controller over real gRPC, with an inventory of hosts that are never reached:
// everything here is refused before any agent would be asked.
const ctl = controllerForCli(
  'cli-rollout',
  'hosts:\n  - id: fe-01\n    groups: [eu]\n    grpc: 127.0.0.1:1\n',
);

/** `rollout start --image IMAGE --serial 1 --detach` against this file's controller. */
const startDetached = (image: string, ...extra: string[]) =>
  fleetroll(
    'rollout',
    'start',
    '--image',
    image,
    '--serial',
    '1',
    '--controller',
    ctl.address,
    '--detach',
    ...extra,
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

test("slot overrides: a bad duration or a value past the agents' bounds exits 2 naming the flag", async () => {
  const start = (...extra: string[]) =>
    fleetroll('rollout', 'start', '--image', 'app:v2', '--serial', '1', ...extra);
  oneLine(
    await start('--min-drain', '5 minutes'),
    2,
    /--min-drain: "5 minutes" is not a duration \(e\.g\. 800ms, 30s, 2m\)/,
  );
  oneLine(await start('--drain-timeout', '2h'), 2, /--drain-timeout: must be at most 1 h/);
  oneLine(
    await start('--min-ready', '0.5ms'),
    2,
    /--min-ready: "0\.5ms" is not a whole number of milliseconds/,
  );
  oneLine(
    await start('--stop-timeout', '1500ms'),
    2,
    /--stop-timeout: 1500 ms is not a whole number of seconds/,
  );
  oneLine(await start('--slot-parallelism', '65'), 2, /--slot-parallelism: must be at most 64/);
  oneLine(await start('--host-timeout', 'soon'), 2, /--host-timeout: "soon" is not a duration/);
});

test('--pause-after: not batch numbers exits 2 locally; one with nothing after it, or 0, is refused by the controller', async () => {
  const start = (...extra: string[]) => startDetached('app:v2', ...extra);
  oneLine(
    await start('--pause-after', 'first'),
    2,
    /--pause-after: "first" is not a list of batch numbers \(e\.g\. 1 or 1,3\)/,
  );
  oneLine(
    await start('--pause-after', '1'),
    2,
    /pause_after: the rollout has 1 batch, so after batch 1 nothing would be held back/,
  );
  oneLine(await start('--pause-after', '0'), 2, /pause_after\.0: batches are numbered from 1/);
});

test('slot overrides and the soak travel with the rollout: status names them', async () => {
  const started = await startDetached(
    'app:v2',
    '--drain-timeout',
    '45s',
    '--min-drain',
    '800ms',
    '--health-timeout',
    '1.5m',
    '--min-ready',
    '1500',
    '--stop-timeout',
    '3',
    '--slot-parallelism',
    '2',
    '--host-timeout',
    '10m',
    '--soak',
    '2m',
  );
  assert.equal(started.code, 0, started.stderr);
  const id = started.stdout.trim();
  const status = await fleetroll('rollout', 'status', id, '--controller', ctl.address);
  assert.equal(status.code, 0, status.stderr);
  assert.match(
    status.stdout,
    /^ {2}slots: drain timeout 45 s, min drain 800 ms, health timeout 90 s, min ready 1500 ms, stop timeout 3 s, 2 slots at once; the rest as each agent is configured$/m,
  );
  assert.match(status.stdout, /^ {2}each batch soaks 120 s, then its hosts are checked again$/m);
});

test('rollout list shows the rollouts newest first, and --json gives scripts the same fields', async () => {
  const start = async (image: string) => {
    const run = await startDetached(image);
    assert.equal(run.code, 0, run.stderr);
    return run.stdout.trim();
  };
  const older = await start('app:v7');
  const newer = await start('app:v8');
  const list = await fleetroll('rollout', 'list', '--controller', ctl.address);
  assert.equal(list.code, 0, list.stderr);
  const lines = list.stdout.trimEnd().split('\n');
  assert.match(lines[0] ?? '', /^ID\s+STATE\s+IMAGE\s+HOSTS\s+STARTED \(UTC\)\s+TOOK$/);
  const ids = lines.slice(1).map((l) => l.split(/\s+/)[0]);
  assert.ok(ids.indexOf(newer) >= 0 && ids.indexOf(newer) < ids.indexOf(older), list.stdout);
  assert.match(list.stdout, new RegExp(`^${newer}\\s+\\S.*\\sapp:v8\\s+\\d/1 done`, 'm'));

  const json = await fleetroll('rollout', 'list', '--json', '--controller', ctl.address);
  assert.equal(json.code, 0, json.stderr);
  const parsed = JSON.parse(json.stdout) as { id: string; image: string; hostsTotal: number }[];
  assert.deepEqual(
    parsed.filter((r) => r.id === older || r.id === newer).map((r) => [r.id, r.image, r.hostsTotal]),
    [
      [newer, 'app:v8', 1],
      [older, 'app:v7', 1],
    ],
  );
});

test("the controller's own validation also exits 2: unknown group, malformed image, unknown rollout", async () => {
  oneLine(await startDetached('app:v2', '--group', 'mars'), 2, /unknown group "mars"/);
  oneLine(await startDetached('Not An Image'), 2, /image/);
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
