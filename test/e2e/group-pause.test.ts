import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { msg } from '@fleetroll/shared';
import { startLocalFleet, startLoad, type LocalFleet } from '@fleetroll/local-fleet';
import { assertNoFailedRequests } from '../support/assertions.js';

type Status = msg.RolloutStatus__Output;

/** The HOST_STARTED times each agent wrote in its own log, whoever was listening. */
async function hostStarts(fleet: LocalFleet, rolloutId: string): Promise<Map<string, number[]>> {
  const starts = new Map<string, number[]>();
  for (const host of fleet.hosts) {
    const lines = (await readFile(host.agent.logFile, 'utf8')).split('\n').filter(Boolean);
    const times = lines
      .map((l) => JSON.parse(l) as { msg?: string; step?: string; rolloutId?: string; at?: number })
      .filter((e) => e.msg === 'step' && e.step === 'HOST_STARTED' && e.rolloutId === rolloutId)
      .map((e) => e.at ?? 0);
    starts.set(host.hostId, times);
  }
  return starts;
}

async function waitFor(
  fleet: LocalFleet,
  id: string,
  ok: (s: Status) => boolean,
  what: string,
): Promise<Status> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const s = await fleet.controller.api.get(id);
    if (ok(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s.groups)}`);
    await sleep(100);
  }
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
  });
  t.after(() => fleet.stop());
  const load = startLoad({ targets: fleet.frontends, rps: 240, slowEvery: 5, maxDurationMs: 180_000 });
  let report;
  try {
    await sleep(1_000);
    const api = fleet.controller.api;
    const started = await api.start({ image: 'fleetroll-app:v2', serial: ['1'], groupsInParallel: true });
    const id = started.id;

    // Pause eu while its first host is in the middle of its slots.
    await waitFor(
      fleet,
      id,
      (s) => s.hosts.some((h) => h.hostId === 'gp-1' && h.slotsDone >= 1),
      'gp-1 mid-way',
    );
    const paused = await api.pause(id, 'eu');
    const pausedAt = Date.now();
    assert.match(group(paused, 'eu')?.state ?? '', /GROUP_PAUS(ING|ED)/);
    const quiet = await waitFor(fleet, id, (s) => group(s, 'eu')?.state === 'GROUP_PAUSED', 'eu paused');
    assert.equal(group(quiet, 'eu')?.hostsInFlight, 0);

    // us goes on to its end while eu stays paused.
    const usDone = await waitFor(fleet, id, (s) => group(s, 'us')?.state === 'GROUP_DONE', 'us done');
    assert.equal(group(usDone, 'eu')?.state, 'GROUP_PAUSED');
    assert.equal(usDone.state, 'ROLLOUT_PAUSED', 'the rollout waits on its paused group');
    const resumedAt = Date.now();
    await api.resume(id, 'eu');
    const final = await waitFor(fleet, id, (s) => s.state === 'ROLLOUT_SUCCEEDED', 'the rollout to succeed');
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
