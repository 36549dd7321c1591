import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLoad, startLocalFleet, type LocalHost } from '@fleetroll/local-fleet';
import { assertNoFailedRequests } from '../support/assertions.js';
import { runCli, startWithCli } from '../support/cli.js';
import { loggedSteps, waitForRollout, type Status } from '../support/fleet-run.js';

/** The new version goes bad after it passed its checks: its health page is gone, HAProxy takes it out. */
function breakHealth(host: LocalHost, slot: number): void {
  execFileSync('docker', ['exec', host.containers[slot]!, 'rm', '/www/health']);
}

async function startedOn(host: LocalHost, rolloutId: string): Promise<boolean> {
  return (await loggedSteps(host.agent.logFile, rolloutId)).some((e) => e.step === 'HOST_STARTED');
}

test('--soak: a version that degrades after its batch passed fails SOAK_CHECK_FAILED and pauses before the next batch; without a soak the same rollout goes on; 0 failed requests', async (t) => {
  const fleet = await startLocalFleet({ name: 'sk', hosts: 2, indexBase: 52, transport: 'grpc' });
  t.after(() => fleet.stop());
  const [first, second] = fleet.hosts as [LocalHost, LocalHost];
  const load = startLoad({ targets: fleet.frontends, rps: 240, slowEvery: 7, maxDurationMs: 180_000 });
  let report;
  try {
    const start = async (image: string, ...flags: string[]) => {
      const run = await startWithCli(t, fleet.controller.address, image, '--detach', ...flags);
      assert.equal(run.code, 0, run.out);
      return run.out.trim();
    };
    const batch1Done = (s: Status) => (s.batches[0]?.finishedAtMs ?? 0) > 0;

    const soaked = await start('fleetroll-app:v2', '--soak', '4s');
    await waitForRollout(fleet, soaked, batch1Done, 'batch 1 to end');
    breakHealth(first, 1);
    const paused = await waitForRollout(
      fleet,
      soaked,
      (s) => s.state === 'ROLLOUT_PAUSED',
      'the soak to pause it',
    );
    const failed = paused.hosts.find((h) => h.hostId === first.hostId);
    assert.equal(failed?.state, 'HOST_FAILED', JSON.stringify(failed));
    assert.equal(failed.errorCode, 'SOAK_CHECK_FAILED');
    assert.match(failed.message, /^not serving fleetroll-app:v2 after the 4 s soak: app2: .*HAProxy DOWN/);
    assert.equal(paused.batches[1]?.startedAtMs, 0, 'batch 2 never began');
    t.diagnostic(`${first.hostId}: ${failed.message}`);
    assert.equal(await startedOn(second, soaked), false, `${second.hostId} was never asked`);
    const shown = await runCli(t, 'rollout', 'status', soaked, '--controller', fleet.controller.address);
    assert.match(shown.out, /each batch soaks 4 s, then its hosts are checked again/);
    assert.match(shown.out, /SOAK_CHECK_FAILED: not serving/);
    await fleet.controller.api.abort(soaked);

    // Negative control: the same fault after batch 1, no soak: nothing looks again, the rollout
    // goes on over the second host and calls itself a success with a slot out of service.
    const unsoaked = await start('fleetroll-app:v1');
    await waitForRollout(fleet, unsoaked, batch1Done, 'batch 1 to end');
    breakHealth(first, 1);
    const final = await waitForRollout(
      fleet,
      unsoaked,
      (s) => s.state !== 'ROLLOUT_RUNNING',
      'the rollout to end',
    );
    assert.equal(final.state, 'ROLLOUT_SUCCEEDED', final.message);
    assert.equal(await startedOn(second, unsoaked), true);
  } finally {
    await sleep(1_500);
    report = await load.stop();
  }
  assertNoFailedRequests(report, fleet.hosts);
});
