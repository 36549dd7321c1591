import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { msg } from '@fleetroll/shared';
import { startLocalFleet, type LocalFleet } from '@fleetroll/local-fleet';
import { assertNoFailedRequests } from '../support/assertions.js';
import { testLoad, loggedSteps, waitForRollout } from '../support/fleet-run.js';

type Status = msg.RolloutStatus__Output;

/** The HOST_STARTED times each agent wrote in its own log, whoever was listening. */
async function hostStarts(fleet: LocalFleet, rolloutId: string): Promise<Map<string, number[]>> {
  const starts = new Map<string, number[]>();
  for (const host of fleet.hosts) {
    const steps = await loggedSteps(host.agent.logFile, rolloutId);
    starts.set(
      host.hostId,
      steps.filter((e) => e.step === 'HOST_STARTED').map((e) => e.at ?? 0),
    );
  }
  return starts;
}

const group = (s: Status, name: string) => s.groups.find((g) => g.group === name);

test('pausing one group: none of its hosts starts until resumed, the other group goes on, 0 failed requests', async (t) => {
  // Groups side by side, one host per batch: eu = gp-1, gp-3; us = gp-2, gp-4.
  const fleet = await startLocalFleet({
    name: 'gp',
    hosts: 4,
    indexBase: 36,
    transport: 'nats',
    groups: (i) => [i % 2 === 1 ? 'eu' : 'us'],
    dockerHealthcheck: false,
  });
  t.after(() => fleet.stop());
  const load = testLoad(fleet.frontends, 180_000);
  let report;
  try {
    await sleep(1_000);
    const api = fleet.controller.api;
    const started = await api.start({ image: 'fleetroll-app:v2', serial: ['1'], groupsInParallel: true });
    const id = started.id;

    // Pause eu while its first host is in the middle of its slots.
    await waitForRollout(
      fleet,
      id,
      (s) => s.hosts.some((h) => h.hostId === 'gp-1' && h.slotsDone >= 1),
      'gp-1 mid-way',
    );
    const paused = await api.pause(id, 'eu');
    const pausedAt = Date.now();
    assert.match(group(paused, 'eu')?.state ?? '', /GROUP_PAUS(ING|ED)/);
    const quiet = await waitForRollout(
      fleet,
      id,
      (s) => group(s, 'eu')?.state === 'GROUP_PAUSED',
      'eu paused',
    );
    assert.equal(group(quiet, 'eu')?.hostsInFlight, 0);

    // us goes on to its end while eu stays paused.
    const usDone = await waitForRollout(fleet, id, (s) => group(s, 'us')?.state === 'GROUP_DONE', 'us done');
    assert.equal(group(usDone, 'eu')?.state, 'GROUP_PAUSED');
    assert.equal(usDone.state, 'ROLLOUT_PAUSED', 'the rollout waits on its paused group');
    const resumedAt = Date.now();
    await api.resume(id, 'eu');
    const final = await waitForRollout(
      fleet,
      id,
      (s) => s.state === 'ROLLOUT_SUCCEEDED',
      'the rollout to succeed',
    );
    assert.ok(
      final.hosts.every((h) => h.state === 'HOST_SUCCEEDED'),
      JSON.stringify(final.hosts),
    );

    const starts = await hostStarts(fleet, id);
    for (const eu of ['gp-1', 'gp-3']) {
      const inPause = (starts.get(eu) ?? []).filter((at) => at > pausedAt && at < resumedAt);
      assert.deepEqual(inPause, [], `${eu} started while its group was paused`);
    }
    assert.ok(
      (starts.get('gp-4') ?? []).some((at) => at > pausedAt && at < resumedAt),
      'us kept starting hosts while eu was paused',
    );
    assert.ok(
      (starts.get('gp-3') ?? []).every((at) => at > resumedAt),
      'gp-3 started only after the resume',
    );
  } finally {
    await sleep(1_500);
    report = await load.stop();
  }
  assertNoFailedRequests(report, fleet.hosts);
});
