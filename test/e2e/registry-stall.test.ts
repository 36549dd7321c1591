import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  runDocker,
  startLocalFleet,
  TEST_PREFIX,
  type LoadReport,
  type LocalFleet,
} from '@fleetroll/local-fleet';
import { assertNoFailedRequests } from '../support/assertions.js';
import {
  loggedSteps,
  rollUnderLoad,
  serverWeights,
  slotVersions,
  testLoad,
  waitForRollout,
  type Status,
} from '../support/fleet-run.js';
import { pushImageWithOwnLayer, startRegistry } from '../support/registry.js';
import { startStallingProxy, type StallingProxy } from '../support/stalling-proxy.js';

const STALL_MS = 2_000;

/**
 * An image whose pull stalls: pushed to a registry of the test's own, pulled through a proxy that
 * stops sending mid-layer. Everything is gone again after the test.
 */
async function stallingImage(t: TestContext): Promise<{ image: string; proxy: StallingProxy }> {
  const registry = await startRegistry();
  t.after(() => registry.stop());
  const stored = `${registry.url}/fleetroll-stall:${randomBytes(4).toString('hex')}`;
  await pushImageWithOwnLayer(stored, `${TEST_PREFIX}stall-layer-${randomBytes(4).toString('hex')}`);
  const proxy = await startStallingProxy(registry.url, 256 * 1024);
  t.after(() => proxy.stop());
  const image = proxy.through(stored);
  t.after(() => runDocker(['rmi', image]).catch(() => undefined));
  return { image, proxy };
}

/** Two hosts on v1 whose agents give a pull that stalls `pullStallTimeoutMs`; their weights before. */
async function stallFleet(
  t: TestContext,
  name: string,
  pullStallTimeoutMs: number,
): Promise<{ fleet: LocalFleet; before: string[] }> {
  const fleet = await startLocalFleet({
    name,
    hosts: 2,
    indexBase: 94,
    transport: 'nats',
    pullStallTimeoutMs,
    dockerHealthcheck: false,
  });
  t.after(() => fleet.stop());
  return { fleet, before: await serverWeights(fleet) };
}

/** Every weight as it was, every slot still on v1. */
async function assertUntouched(fleet: LocalFleet, before: string[]): Promise<void> {
  assert.deepEqual(await serverWeights(fleet), before);
  const versions = await slotVersions(
    fleet,
    fleet.hosts.map((h) => h.hostId),
  );
  assert.deepEqual(versions, Array(6).fill('v1'));
}

test('the registry stops sending mid-layer: the first host fails IMAGE_PULL_FAILED within seconds, nothing is drained, the rollout pauses, 0 failed requests', async (t) => {
  const { image, proxy } = await stallingImage(t);
  const { fleet, before } = await stallFleet(t, 'stall', STALL_MS);

  // The host timeout bounds the test should the stall go unnoticed (it would end the pull, and fail the check below).
  const { status, steps, report } = await rollUnderLoad(fleet, {
    image,
    serial: ['1'],
    hostTimeoutMs: 30_000,
  });

  assert.equal(status.state, 'ROLLOUT_PAUSED', status.message);
  const [first, second] = status.hosts;
  assert.equal(first?.state, 'HOST_FAILED');
  assert.equal(first?.errorCode, 'IMAGE_PULL_FAILED');
  assert.match(first?.message ?? '', /Docker reported no progress for 2 s/);
  assert.ok(proxy.stalls() >= 1, 'the pull never reached the point where the proxy stalls it');
  // Paused by the stall, well before the host timeout (30 s here, 10 min by default) would have ended the pull.
  const tookMs = (first?.finishedAtMs ?? 0) - status.createdAtMs;
  assert.ok(tookMs < 15_000, `the host failed ${tookMs} ms after the rollout began`);
  assert.equal(second?.state, 'HOST_PENDING', 'the second batch must not start');
  assert.deepEqual(
    steps.filter((e) => e.step === 'WEIGHT_ZERO'),
    [],
    'no slot may leave HAProxy for an image that is not there',
  );
  await assertUntouched(fleet, before);
  console.log(
    `# the stalled pull failed ${first?.hostId} ${tookMs} ms after the rollout began: ${first?.message}`,
  );
  assertNoFailedRequests(report, fleet.hosts);
  await fleet.controller.api.abort(status.id);
});

test('an abort while a batch pulls (the registry stalls, the agents wait on it): the rollout ends ABORTED within seconds, not when the pulls end; the batch never began, nothing drained, 0 failed requests', async (t) => {
  const { image, proxy } = await stallingImage(t);
  // The first test's ports, its fleet gone: the agents wait a minute on a stalled pull.
  const { fleet, before } = await stallFleet(t, 'stallab', 60_000);
  const load = testLoad(fleet.frontends, 60_000);
  let report: LoadReport;
  let status: Status;
  let abortMs: number;
  try {
    await sleep(1_000);
    // serial 0: one batch of both hosts, which pull side by side.
    const { id } = await fleet.controller.api.start({ image, serial: ['0'], hostTimeoutMs: 120_000 });
    await waitForRollout(
      fleet,
      id,
      (s) => s.hosts.every((h) => h.state === 'HOST_PULLING') && proxy.stalls() >= 1,
      'both hosts pulling, the pull stalled',
      30_000,
    );
    const abortAt = Date.now();
    await fleet.controller.api.abort(id);
    status = await waitForRollout(
      fleet,
      id,
      (s) => s.state === 'ROLLOUT_ABORTED',
      'the rollout aborted',
      90_000,
    );
    abortMs = Date.now() - abortAt;
  } finally {
    report = await load.stop();
  }
  assert.ok(abortMs < 5_000, `the rollout ended ${abortMs} ms after the abort`);
  assert.equal(status.message, 'aborted by operator');
  assert.equal(status.batches[0]?.startedAtMs, 0, 'the batch is shown as begun');
  assert.deepEqual(
    status.hosts.map((h) => [h.hostId, h.state, h.message]),
    fleet.hosts.map((h) => [h.hostId, 'HOST_SKIPPED', 'not started: the rollout was aborted']),
  );
  for (const h of fleet.hosts) {
    const steps = await loggedSteps(h.agent.logFile, status.id);
    assert.deepEqual(steps, [], `${h.hostId}'s agent took steps`);
  }
  await assertUntouched(fleet, before);
  console.log(`# aborted while both hosts pulled: the rollout ended ${abortMs} ms after the abort`);
  assertNoFailedRequests(report, fleet.hosts);
});
