import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLoad, startLocalFleet, type LocalFleet } from '@fleetroll/local-fleet';
import { assertNoFailedRequests } from '../support/assertions.js';
import { startWithCli } from '../support/cli.js';
import { loggedSteps } from '../support/fleet-run.js';

const MIN_DRAIN_MS = 900;

/** How long each slot of the rollout sat drained at weight 0, from the agent's own log. */
async function drainTimes(fleet: LocalFleet, rolloutId: string): Promise<number[]> {
  const steps = await loggedSteps(fleet.hosts[0]!.agent.logFile, rolloutId);
  return steps.filter((e) => e.step === 'DRAINED').map((e) => e.durationMs ?? -1);
}

test('rollout start --min-drain reaches the agents: every slot stays drained that long; without it they do not; 0 failed requests', async (t) => {
  const fleet = await startLocalFleet({ name: 'so', hosts: 1, indexBase: 50, transport: 'nats' });
  t.after(() => fleet.stop());
  // Long requests of 0.3 s only: a slot drains well within the minimum unless it is told to stay out.
  const load = startLoad({
    targets: fleet.frontends,
    rps: 240,
    slowEvery: 10,
    slowPath: '/cgi-bin/slow?0.3',
    maxDurationMs: 120_000,
  });
  let report;
  try {
    const roll = async (image: string, ...flags: string[]) => {
      const run = await startWithCli(t, fleet.controller.address, image, '--plain', ...flags);
      assert.equal(run.code, 0, run.out);
      const id = /^rollout (\S+):/m.exec(run.out)?.[1];
      assert.ok(id, run.out);
      return { out: run.out, drains: await drainTimes(fleet, id) };
    };

    const slowed = await roll('fleetroll-app:v2', '--min-drain', `${MIN_DRAIN_MS}ms`, '--stop-timeout', '3');
    assert.match(slowed.out, new RegExp(`slots: min drain ${MIN_DRAIN_MS} ms, stop timeout 3 s`));
    assert.equal(slowed.drains.length, 3, slowed.out);
    for (const ms of slowed.drains)
      assert.ok(ms >= MIN_DRAIN_MS, `a slot drained in ${ms} ms: ${slowed.drains}`);

    // Negative control: the agent's own default (no minimum) lets the same slots go at once.
    const plain = await roll('fleetroll-app:v1');
    assert.doesNotMatch(plain.out, /slots: /);
    assert.equal(plain.drains.length, 3, plain.out);
    for (const ms of plain.drains) assert.ok(ms < MIN_DRAIN_MS, `without --min-drain: ${plain.drains}`);
    t.diagnostic(
      `drained in ${slowed.drains.join(', ')} ms with --min-drain; ${plain.drains.join(', ')} ms without`,
    );
  } finally {
    await sleep(500);
    report = await load.stop();
  }
  assertNoFailedRequests(report, fleet.hosts);
});
