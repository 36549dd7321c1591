import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { HaproxyClient } from '@fleetroll/agent';
import { startLocalFleet, type LocalHost } from '@fleetroll/local-fleet';
import { assertNoFailedRequests } from '../support/assertions.js';
import { runCli, startWithCli } from '../support/cli.js';
import { testLoad, loggedSteps, waitForRollout, type Status } from '../support/fleet-run.js';

/** The new version goes bad after it passed its checks: its health page is gone, HAProxy takes it out. */
function breakHealth(host: LocalHost, slot: number): void {
  execFileSync('docker', ['exec', host.containers[slot]!, 'rm', '/www/health']);
}

function healHealth(host: LocalHost, slot: number): void {
  execFileSync('docker', ['exec', host.containers[slot]!, 'sh', '-c', 'echo ok > /www/health']);
}

/** Polls the host's HAProxy until the slot's server has the status; bounded. */
async function lbStatus(host: LocalHost, slot: number, status: string): Promise<void> {
  const lb = new HaproxyClient({ socketPath: host.socketPath, timeoutMs: 2_000 });
  const deadline = Date.now() + 10_000;
  let last = '';
  while (last !== status) {
    if (Date.now() > deadline)
      throw new Error(`${host.hostId} app_${slot + 1} stayed ${last}, never ${status}`);
    await sleep(50);
    last = (await lb.serverStat('app', `app_${slot + 1}`)).status;
  }
}

async function startedOn(host: LocalHost, rolloutId: string): Promise<boolean> {
  return (await loggedSteps(host.agent.logFile, rolloutId)).some((e) => e.step === 'HOST_STARTED');
}

/** How long each slot of the rollout sat drained at weight 0, from the agents' own logs. */
async function drainTimes(hosts: LocalHost[], rolloutId: string): Promise<number[]> {
  const steps = await Promise.all(hosts.map((h) => loggedSteps(h.agent.logFile, rolloutId)));
  return steps.flat().flatMap((e) => (e.step === 'DRAINED' ? [e.durationMs ?? -1] : []));
}

// Well above what a slot takes to drain the load's 0.5-s requests.
const MIN_DRAIN_MS = 1_200;

test('rollout start --soak --min-drain --pause-after: a version that goes DOWN and back UP after its batch passed fails SOAK_CHECK_FAILED and the next batch never starts, each slot stayed drained the minimum; without them the same rollout goes on and slots drain at once; a rollout held after batch 1 waits for resume; 0 failed requests', async (t) => {
  const fleet = await startLocalFleet({
    name: 'sk',
    hosts: 2,
    indexBase: 52,
    transport: 'grpc',
    dockerHealthcheck: false,
  });
  t.after(() => fleet.stop());
  const [first, second] = fleet.hosts as [LocalHost, LocalHost];
  const load = testLoad(fleet.frontends, 180_000);
  let report;
  try {
    const start = async (image: string, ...flags: string[]) => {
      const run = await startWithCli(t, fleet.controller.address, image, '--detach', ...flags);
      assert.equal(run.code, 0, run.out);
      return run.out.trim();
    };
    const batch1Done = (s: Status) => (s.batches[0]?.finishedAtMs ?? 0) > 0;

    const soaked = await start(
      'fleetroll-app:v2',
      '--soak',
      '5s',
      '--min-drain',
      `${MIN_DRAIN_MS}ms`,
      '--stop-timeout',
      '3',
    );
    await waitForRollout(fleet, soaked, batch1Done, 'batch 1 to end');
    // Down and back up within the soak: at its end the slot looks fine, and only what HAProxy
    // counted in between gives it away.
    breakHealth(first, 1);
    await lbStatus(first, 1, 'DOWN');
    healHealth(first, 1);
    await lbStatus(first, 1, 'UP');
    const paused = await waitForRollout(
      fleet,
      soaked,
      (s) => s.state === 'ROLLOUT_PAUSED',
      'the soak to pause it',
    );
    const failed = paused.hosts.find((h) => h.hostId === first.hostId);
    assert.equal(failed?.state, 'HOST_FAILED', JSON.stringify(failed));
    assert.equal(failed.errorCode, 'SOAK_CHECK_FAILED');
    assert.equal(
      failed.message,
      'not serving fleetroll-app:v2 after the 5 s soak: app2: went DOWN in HAProxy 1 time during the soak',
    );
    assert.equal(paused.batches[1]?.startedAtMs, 0, 'batch 2 never began');
    assert.equal(await startedOn(second, soaked), false, `${second.hostId} was never asked`);
    t.diagnostic(`${first.hostId}: ${failed.message}`);
    const shown = await runCli(t, 'rollout', 'status', soaked, '--controller', fleet.controller.address);
    assert.match(shown.out, /each batch soaks 5 s, then its hosts are checked again/);
    assert.match(shown.out, new RegExp(`slots: min drain ${MIN_DRAIN_MS} ms, stop timeout 3 s; the rest as`));
    const drained = await drainTimes([first], soaked);
    assert.equal(drained.length, 3);
    for (const ms of drained) assert.ok(ms >= MIN_DRAIN_MS, `a slot drained in ${ms} ms: ${drained}`);
    assert.match(shown.out, /SOAK_CHECK_FAILED: not serving/);
    await fleet.controller.api.abort(soaked);

    // Negative control: the same fault after batch 1, no soak: nothing looks again, the rollout
    // goes on over the second host and calls itself a success with a slot out of service; and
    // without the minimum, slots go as soon as they are drained.
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
    // The second host never left v1: only the first one's slots were replaced.
    const quick = await drainTimes([first, second], unsoaked);
    assert.equal(quick.length, 3);
    for (const ms of quick) assert.ok(ms < MIN_DRAIN_MS, `without --min-drain: ${quick}`);
    t.diagnostic(`drained in ${drained.join(', ')} ms with --min-drain; ${quick.join(', ')} ms without`);

    // --pause-after 1, a canary batch: the CLI follows batch 1 and exits 3 (paused, waiting for an
    // operator); the second host is not asked until `rollout resume`, then the rollout ends.
    healHealth(first, 1);
    await lbStatus(first, 1, 'UP');
    const held = await startWithCli(
      t,
      fleet.controller.address,
      'fleetroll-app:v2',
      '--pause-after',
      '1',
      '--plain',
    );
    assert.equal(held.code, 3, held.out);
    const heldId = /^rollout (r-\S+):/m.exec(held.out)?.[1] ?? '';
    assert.match(held.out, /; pauses after batch 1/);
    assert.match(
      held.out,
      /rollout paused: batch 1 done; paused as the rollout asked \(pause after batch 1\): resume it to go on/,
    );
    assert.equal(await startedOn(second, heldId), false, `${second.hostId} was asked while held`);
    const heldStatus = await runCli(t, 'rollout', 'status', heldId, '--controller', fleet.controller.address);
    assert.match(heldStatus.out, /^ {2}pauses after batch 1 until resumed$/m);
    const resumed = await runCli(t, 'rollout', 'resume', heldId, '--controller', fleet.controller.address);
    assert.equal(resumed.code, 0, resumed.out);
    const watched = await runCli(
      t,
      'rollout',
      'status',
      heldId,
      '--watch',
      '--plain',
      '--controller',
      fleet.controller.address,
    );
    assert.equal(watched.code, 0, watched.out);
    const done = await fleet.controller.api.get(heldId);
    assert.deepEqual(
      done.hosts.map((h) => [h.hostId, h.state, h.slotsReplaced]),
      [
        [first.hostId, 'HOST_SUCCEEDED', 3],
        [second.hostId, 'HOST_SUCCEEDED', 3],
      ],
    );
  } finally {
    await sleep(1_500);
    report = await load.stop();
  }
  assertNoFailedRequests(report, fleet.hosts);
});
