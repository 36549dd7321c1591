import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { runDocker, startLocalFleet, TEST_PREFIX } from '@fleetroll/local-fleet';
import { assertNoFailedRequests } from '../support/assertions.js';
import { rollUnderLoad, serverWeights, slotVersions } from '../support/fleet-run.js';
import { pushImageWithOwnLayer, startRegistry } from '../support/registry.js';
import { startStallingProxy } from '../support/stalling-proxy.js';

const STALL_MS = 2_000;

test('the registry stops sending mid-layer: the first host fails IMAGE_PULL_FAILED within seconds, nothing is drained, the rollout pauses, 0 failed requests', async (t) => {
  const registry = await startRegistry();
  t.after(() => registry.stop());
  const stored = `${registry.url}/fleetroll-stall:${randomBytes(4).toString('hex')}`;
  await pushImageWithOwnLayer(stored, `${TEST_PREFIX}stall-layer-${randomBytes(4).toString('hex')}`);
  const proxy = await startStallingProxy(registry.url, 256 * 1024);
  t.after(() => proxy.stop());
  const image = proxy.through(stored);
  t.after(() => runDocker(['rmi', image]).catch(() => undefined));

  const fleet = await startLocalFleet({
    name: 'stall',
    hosts: 2,
    indexBase: 94,
    transport: 'nats',
    pullStallTimeoutMs: STALL_MS,
    dockerHealthcheck: false,
  });
  t.after(() => fleet.stop());
  const before = await serverWeights(fleet);

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
  assert.deepEqual(await serverWeights(fleet), before);
  assert.deepEqual(
    await slotVersions(
      fleet,
      fleet.hosts.map((h) => h.hostId),
    ),
    Array(6).fill('v1'),
  );
  console.log(
    `# the stalled pull failed ${first?.hostId} ${tookMs} ms after the rollout began: ${first?.message}`,
  );
  assertNoFailedRequests(report, fleet.hosts);
  await fleet.controller.api.abort(status.id);
});
