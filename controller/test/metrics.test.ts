import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StepEvent, StepName, msg } from '@fleetroll/shared';
import { ControllerMetrics } from '../src/metrics/metrics.js';
import { harness, inventory } from './rollout-fakes.js';
import { stepEvent } from './status-fixtures.js';

type Status = msg.RolloutStatus__Output;

function step(name: StepName, fields: Partial<StepEvent> = {}): StepEvent {
  return stepEvent(name, { slot: 'app_1', ...fields });
}

/** The value of one sample line of the exposition text, e.g. `fleetroll_rollouts{state="paused"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** A real rollout's status (of two groups), as the controller would list it. */
function statusOf(hosts: Record<string, string[]>, edit: (s: Status) => void = () => undefined): Status {
  const status = harness({ serial: ['1'] }, inventory(hosts)).rollout.status();
  edit(status);
  return status;
}

test('histograms: drain, replace (stop + start of the same slot), health and weight-0 window, in seconds', async () => {
  const metrics = new ControllerMetrics(() => [], { processMetrics: false });
  metrics.observeStep(step('DRAINED', { durationMs: 1_200 }));
  metrics.observeStep(step('OLD_STOPPED', { durationMs: 300 }));
  // Another slot's start must not be paired with app_1's stop.
  metrics.observeStep(step('NEW_STARTED', { slot: 'app_2', durationMs: 999 }));
  metrics.observeStep(step('NEW_STARTED', { durationMs: 200 }));
  metrics.observeStep(step('HEALTHY', { durationMs: 700 }));
  metrics.observeStep(step('WEIGHT_RESTORED', { durationMs: 2_500 }));
  metrics.observeStep(step('SLOT_DONE'));
  const text = await metrics.render();

  assert.equal(sample(text, 'fleetroll_slot_drain_seconds_sum'), 1.2);
  assert.equal(sample(text, 'fleetroll_slot_drain_seconds_bucket{le="1"}'), 0);
  assert.equal(sample(text, 'fleetroll_slot_drain_seconds_bucket{le="2"}'), 1);
  assert.equal(sample(text, 'fleetroll_slot_replace_seconds_count'), 1);
  assert.equal(sample(text, 'fleetroll_slot_replace_seconds_sum'), 0.5);
  assert.equal(sample(text, 'fleetroll_slot_health_seconds_sum'), 0.7);
  assert.equal(sample(text, 'fleetroll_slot_weight_zero_seconds_sum'), 2.5);
  assert.equal(sample(text, 'fleetroll_slot_weight_zero_seconds_count'), 1);
  assert.equal(sample(text, 'fleetroll_slots_replaced_total'), 1);
  assert.doesNotMatch(text, /process_cpu/, 'process metrics were turned off');
});

test('failed slots are counted by error code, and a failed slot leaves no stop waiting for its start', async () => {
  const metrics = new ControllerMetrics(() => [], { processMetrics: false });
  metrics.observeStep(step('OLD_STOPPED', { durationMs: 300 }));
  metrics.observeStep(step('SLOT_FAILED', { errorCode: 'HEALTH_CHECK_FAILED' }));
  metrics.observeStep(step('SLOT_FAILED', { hostId: 'h2', errorCode: 'HEALTH_CHECK_FAILED' }));
  metrics.observeStep(step('SLOT_FAILED', { hostId: 'h3', errorCode: '' }));
  // The same slot in a later attempt: its start alone is no replace time.
  metrics.observeStep(step('NEW_STARTED', { durationMs: 200 }));
  const text = await metrics.render();

  assert.equal(sample(text, 'fleetroll_slots_failed_total{code="HEALTH_CHECK_FAILED"}'), 2);
  assert.equal(sample(text, 'fleetroll_slots_failed_total{code="UNKNOWN"}'), 1);
  assert.equal(sample(text, 'fleetroll_slot_replace_seconds_count'), 0);
});

test('gauges are read at scrape time: rollouts by state, and the newest rollout’s hosts by group and state', async () => {
  const old = statusOf({ eu: ['e1'] }, (s) => {
    s.id = 'old';
    s.state = 'ROLLOUT_SUCCEEDED';
    s.createdAtMs = 1;
    for (const h of s.hosts) h.state = 'HOST_SUCCEEDED';
  });
  const newest = statusOf({ eu: ['e1', 'e2'], us: ['u1'] }, (s) => {
    s.createdAtMs = 2;
    const [e1, e2, u1] = s.hosts;
    if (e1) e1.state = 'HOST_UPDATING';
    if (e2) e2.state = 'HOST_PENDING';
    if (u1) u1.state = 'HOST_FAILED';
  });
  let rollouts: Status[] = [old, newest];
  const metrics = new ControllerMetrics(() => rollouts, { processMetrics: false });
  let text = await metrics.render();

  assert.equal(sample(text, 'fleetroll_rollouts{state="running"}'), 1);
  assert.equal(sample(text, 'fleetroll_rollouts{state="succeeded"}'), 1);
  assert.equal(sample(text, 'fleetroll_rollouts{state="rolled_back"}'), 0, 'every state is exported');
  assert.equal(sample(text, 'fleetroll_hosts{group="eu",state="updating"}'), 1);
  assert.equal(sample(text, 'fleetroll_hosts{group="eu",state="pending"}'), 1);
  assert.equal(
    sample(text, 'fleetroll_hosts{group="eu",state="succeeded"}'),
    0,
    'the old rollout is not counted',
  );
  assert.equal(sample(text, 'fleetroll_hosts{group="us",state="failed"}'), 1);

  rollouts = [old];
  text = await metrics.render();
  assert.equal(sample(text, 'fleetroll_rollouts{state="running"}'), 0);
  assert.equal(sample(text, 'fleetroll_hosts{group="eu",state="succeeded"}'), 1);
  assert.equal(
    sample(text, 'fleetroll_hosts{group="us",state="failed"}'),
    undefined,
    'groups of gone rollouts go',
  );
});

test('steps reach the metrics through ControllerMetrics.observe, statuses without a step change nothing', async () => {
  const metrics = new ControllerMetrics(() => [], { processMetrics: false });
  const status = statusOf({ eu: ['e1'] });
  metrics.observe(status, []);
  metrics.observe(status, [step('DRAINED', { durationMs: 40 })]);
  const text = await metrics.render();
  assert.equal(sample(text, 'fleetroll_slot_drain_seconds_count'), 1);
  assert.equal(sample(text, 'fleetroll_slot_drain_seconds_bucket{le="0.05"}'), 1);
});
