import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLocalFleet } from '@fleetroll/local-fleet';
import { assertNoFailedRequests } from '../support/assertions.js';
import { assertAllOnV2, leadership, rollUnderLoad, serverWeights } from '../support/fleet-run.js';

/** Longer than the controller's leader lease (5 s): it must stand by, then lead again. */
const OUTAGE_MS = 8_000;

test(
  `NATS (the store and the leader lock) gone for ${OUTAGE_MS / 1000} s (longer than the leader lease) mid-rollout over gRPC: the controller stops acting, takes the rollout back from the store, and it completes, 0 failed requests`,
  { timeout: 300_000 },
  async (t) => {
    const fleet = await startLocalFleet({
      name: 'natsoutage',
      hosts: 4,
      indexBase: 90,
      transport: 'grpc',
      dockerHealthcheck: false,
    });
    t.after(() => fleet.stop());
    const before = await serverWeights(fleet);
    const at = { down: 0, up: 0 };

    const { status, report } = await rollUnderLoad(
      fleet,
      { image: 'fleetroll-app:v2', serial: ['50%'], hostTimeoutMs: 120_000 },
      async (step) => {
        if (at.down || step.slot !== 'app2' || step.step !== 'WEIGHT_ZERO') return;
        at.down = Date.now();
        await fleet.nats.kill('SIGTERM');
        await sleep(OUTAGE_MS);
        await fleet.nats.restart();
        at.up = Date.now();
      },
    );

    assert.ok(at.up > 0, 'NATS was never stopped: no slot app2 went to weight 0');
    const story = await leadership(fleet.controller.logFile, at.down);
    assert.ok(
      story.some((l) => l.includes('rollout resumed from the store')),
      `the controller stood by and took the rollout back: ${story.join(' | ')}`,
    );
    assert.equal(status.state, 'ROLLOUT_SUCCEEDED', status.message);
    await assertAllOnV2(fleet, before);
    t.diagnostic(
      `NATS down for ${(at.up - at.down) / 1000} s; the rollout ended ${(status.finishedAtMs - at.up) / 1000} s ` +
        `after NATS was back; the controller said: ${story.join(' | ')}`,
    );
    assertNoFailedRequests(report, fleet.hosts);
  },
);
