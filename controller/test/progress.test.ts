import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressPrinter, outcome } from '../src/cli/progress.js';
import { formatStatus } from '../src/cli/status-format.js';
import { specToRequest } from '../src/index.js';
import { spec } from './rollout-fakes.js';
import { group, host, status, stepEvent } from './status-fixtures.js';

test('prints the header, batch starts, host changes, replaced slots and failures', () => {
  const p = new ProgressPrinter(0);
  assert.deepEqual(p.lines({ status: status({}), steps: [] }, 0), [
    'rollout r-1: app:v2 to 2 hosts, 2 batches (serial 50%) via nats',
  ]);
  const s1 = status({});
  s1.batches[0]!.startedAtMs = 5;
  s1.hosts[0] = host('h1', 'HOST_UPDATING');
  assert.deepEqual(p.lines({ status: s1, steps: [] }, 1_500), [
    '[   1.5s] batch 1/2: h1',
    '[   1.5s] h1 updating (0/3 slots)',
  ]);
  const step = stepEvent('WEIGHT_RESTORED', {
    rolloutId: 'r-1',
    slot: 'app1',
    durationMs: 1_234,
    weight: 100,
  });
  assert.deepEqual(p.lines({ status: s1, steps: [step] }, 2_000), [
    '[   2.0s]   h1 app1 replaced (weight 0 for 1.23s)',
  ]);
  const s2 = status({ state: 'ROLLOUT_PAUSED', message: 'h1 failed' });
  s2.batches[0]!.startedAtMs = 5;
  s2.hosts[0] = host('h1', 'HOST_FAILED', {
    errorCode: 'HEALTH_CHECK_FAILED',
    message: 'unhealthy',
    slotsDone: 1,
  });
  assert.deepEqual(p.lines({ status: s2, steps: [] }, 3_000), [
    '[   3.0s] h1 failed (1/3 slots): HEALTH_CHECK_FAILED unhealthy',
    '[   3.0s] rollout paused: h1 failed',
  ]);
});

test('a host of a batch not begun yet is said to be prepared for it, ready, or to have failed while it was', () => {
  const p = new ProgressPrinter(0);
  // Batch 1 updating, h2 as given. The printer keeps each status: every update is one of its own.
  const next = (h2: ReturnType<typeof host>) => {
    const s = status({});
    s.batches[0]!.startedAtMs = 5;
    s.hosts[0] = host('h1', 'HOST_UPDATING');
    s.hosts[1] = h2;
    return s;
  };
  assert.deepEqual(p.lines({ status: next(host('h2', 'HOST_PULLING')), steps: [] }, 1_000).slice(1), [
    '[   1.0s] batch 1/2: h1',
    '[   1.0s] h1 updating (0/3 slots)',
    '[   1.0s] h2 pulling for batch 2/2',
  ]);
  const ready = next(
    host('h2', 'HOST_PENDING', {
      message: 'pulled app:v2 in 12.3 s',
      previousImages: [{ slot: 'app1', image: 'app:v1', imageId: '' }],
    }),
  );
  assert.deepEqual(p.lines({ status: ready, steps: [] }, 1_500), [
    '[   1.5s] h2 ready for batch 2/2: pulled app:v2 in 12.3 s',
  ]);
  // Its batch's own preparation, which fails.
  p.lines({ status: next(host('h2', 'HOST_PULLING')), steps: [] }, 1_600);
  const s2 = status({ state: 'ROLLOUT_PAUSED', message: 'h2 failed' });
  s2.batches[0]!.startedAtMs = 5;
  s2.hosts[0] = host('h1', 'HOST_SUCCEEDED', { slotsDone: 3 });
  s2.hosts[1] = host('h2', 'HOST_FAILED', {
    slotsTotal: 0,
    errorCode: 'IMAGE_PULL_FAILED',
    message: 'pre-pull of app:v2 failed: not found',
  });
  assert.deepEqual(p.lines({ status: s2, steps: [] }, 2_000), [
    '[   2.0s] h1 succeeded (3/3 slots)',
    '[   2.0s] h2 failed while preparing batch 2/2: IMAGE_PULL_FAILED pre-pull of app:v2 failed: not found',
    '[   2.0s] rollout paused: h2 failed',
  ]);
  // Skipped at the end, the host was never prepared: no batch is named.
  const p2 = new ProgressPrinter(0);
  p2.lines({ status: status({}), steps: [] }, 0);
  const s3 = status({ state: 'ROLLOUT_ABORTED', message: 'aborted by operator' });
  s3.hosts[1] = host('h2', 'HOST_SKIPPED', { slotsTotal: 0 });
  assert.deepEqual(p2.lines({ status: s3, steps: [] }, 1_000), [
    '[   1.0s] h2 skipped',
    '[   1.0s] rollout aborted: aborted by operator',
  ]);
});

test('what the agent says about a drain or a health wait that did not go plainly is printed; plain ones are not', () => {
  const p = new ProgressPrinter(0);
  const s1 = status({});
  p.lines({ status: s1, steps: [] }, 0);
  const steps = [
    stepEvent('DRAINED', { rolloutId: 'r-1', slot: 'app1', durationMs: 90 }),
    stepEvent('DRAINED', {
      rolloutId: 'r-1',
      slot: 'app2',
      durationMs: 10_000,
      drainTimedOut: true,
      message: '4 sessions still open after drainTimeout',
    }),
    stepEvent('HEALTHY', {
      rolloutId: 'r-1',
      slot: 'app2',
      message: 'HAProxy had app/app_2 above weight 0 again once while the new container started',
    }),
    stepEvent('IMAGE_READY', { rolloutId: 'r-1', message: 'already present' }),
  ];
  assert.deepEqual(p.lines({ status: s1, steps }, 1_000), [
    '[   1.0s]   h1 app2 drain: 4 sessions still open after drainTimeout',
    '[   1.0s]   h1 app2 health wait: HAProxy had app/app_2 above weight 0 again once while the new container started',
  ]);
});

test('one update with many changes prints them in the order they happened', () => {
  const p = new ProgressPrinter(0);
  const s1 = status({});
  s1.batches[0]!.startedAtMs = 5;
  s1.hosts[0] = host('h1', 'HOST_UPDATING');
  p.lines({ status: s1, steps: [] }, 0);
  const s2 = status({ state: 'ROLLOUT_SUCCEEDED', message: 'done' });
  s2.batches[0]!.startedAtMs = 5;
  s2.batches[1]!.startedAtMs = 9;
  s2.hosts[0] = host('h1', 'HOST_SUCCEEDED', { slotsDone: 3 });
  s2.hosts[1] = host('h2', 'HOST_UPDATING');
  const restored = stepEvent('WEIGHT_RESTORED', {
    rolloutId: 'r-1',
    slot: 'app3',
    durationMs: 1_000,
    weight: 100,
  });
  const lines = p.lines({ status: s2, steps: [restored] }, 1_000).map((l) => l.slice(10).trim());
  assert.deepEqual(
    lines.map((l) => l.split(' ').slice(0, 2).join(' ')),
    ['h1 app3', 'h1 succeeded', 'batch 2/2:', 'h2 updating', 'rollout succeeded:'],
  );
});

test('the outcome line carries the exit code scripts rely on', () => {
  const done = status({ state: 'ROLLOUT_SUCCEEDED', finishedAtMs: 43_100 });
  done.hosts = [host('h1', 'HOST_SUCCEEDED'), host('h2', 'HOST_SUCCEEDED')];
  assert.deepEqual(outcome(done), {
    line: 'rollout r-1 succeeded: 2/2 hosts on app:v2, 0 failed in 42.1s',
    exitCode: 0,
  });
  assert.equal(outcome(status({ state: 'ROLLOUT_FAILED' })).exitCode, 1);
  const paused = outcome(status({ state: 'ROLLOUT_PAUSED' }));
  assert.equal(paused.exitCode, 3);
  assert.match(paused.line, /resume with: fleetroll rollout resume r-1/);
});

test('with a soak, a batch that ends says so; a soak check that fails a done host prints it failed', () => {
  const p = new ProgressPrinter(0);
  const request = specToRequest(spec({ serial: ['1'], soakMs: 5_000 }));
  const at = (state: string, finishedAtMs: number, extra = {}) => {
    const s = status({ request });
    s.batches[0]!.startedAtMs = 5;
    s.batches[0]!.finishedAtMs = finishedAtMs;
    s.hosts[0] = host('h1', state, { slotsDone: 3, ...extra });
    return s;
  };
  p.lines({ status: at('HOST_UPDATING', 0), steps: [] }, 0);
  assert.deepEqual(p.lines({ status: at('HOST_SUCCEEDED', 9), steps: [] }, 1_000), [
    '[   1.0s] h1 succeeded (3/3 slots)',
    '[   1.0s] batch 1/2 done; soaking 5 s, then its hosts are checked again',
  ]);
  const failed = at('HOST_FAILED', 9, {
    errorCode: 'SOAK_CHECK_FAILED',
    message: 'not serving app:v2 after the 5 s soak: a: HAProxy DOWN',
  });
  assert.deepEqual(p.lines({ status: failed, steps: [] }, 6_000), [
    '[   6.0s] h1 failed (3/3 slots): SOAK_CHECK_FAILED not serving app:v2 after the 5 s soak: a: HAProxy DOWN',
  ]);
});

test('with pause-after, the header says after which batches the rollout will wait, and the pause says why', () => {
  const p = new ProgressPrinter(0);
  const request = specToRequest(spec({ serial: ['1'], pauseAfter: [1] }));
  assert.deepEqual(p.lines({ status: status({ request }), steps: [] }, 0), [
    'rollout r-1: app:v2 to 2 hosts, 2 batches (serial 50%) via nats; pauses after batch 1',
  ]);
  const reason = 'batch 1 done; paused as the rollout asked (pause after batch 1): resume it to go on';
  assert.deepEqual(
    p.lines({ status: status({ request, state: 'ROLLOUT_PAUSED', message: reason }), steps: [] }, 2_000),
    [`[   2.0s] rollout paused: ${reason}`],
  );
});

test('a batch is named as the live view names it: of its group only when groups have batches of their own', () => {
  const twoGroups = [group('eu'), group('us')];
  const oneLane = status({ groups: twoGroups });
  oneLane.batches[0]!.startedAtMs = 5;
  assert.deepEqual(new ProgressPrinter(0).lines({ status: oneLane, steps: [] }, 1_000).slice(1), [
    '[   1.0s] batch 1/2: h1',
  ]);
  const perGroup = status({ groups: twoGroups });
  perGroup.batches = perGroup.batches.map((b, i) => ({ ...b, group: i === 0 ? 'eu' : 'us', index: 0 }));
  perGroup.batches[0]!.startedAtMs = 5;
  assert.deepEqual(new ProgressPrinter(0).lines({ status: perGroup, steps: [] }, 1_000).slice(1), [
    '[   1.0s] batch 1/1 of eu: h1',
  ]);
});

test('the build the first host prepared is said once, when it is pinned, and in `rollout status`', () => {
  const p = new ProgressPrinter(0);
  p.lines({ status: status({}), steps: [] }, 0);
  const pinned = status({ imageIds: [`sha256:${'ab'.repeat(32)}`, 'reg/app@sha256:x'], imageIdsHost: 'h1' });
  const line = 'build sha256:abababababab (as h1 had it): every host must run this one';
  assert.deepEqual(p.lines({ status: pinned, steps: [] }, 500), [`[   0.5s] ${line}`]);
  assert.deepEqual(p.lines({ status: { ...pinned }, steps: [] }, 600), []);
  assert.ok(formatStatus(pinned).split('\n').includes(`  ${line}`), formatStatus(pinned));
});
