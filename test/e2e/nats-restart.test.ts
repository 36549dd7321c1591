import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startLocalFleet } from '@fleetroll/local-fleet';
import { assertNoFailedRequests } from '../support/assertions.js';
import {
  assertAllOnV2,
  agentTurmoil,
  describeEntries,
  reconnectDelays,
  rollUnderLoad,
  serverWeights,
} from '../support/fleet-run.js';

test(
  'the NATS server restarted mid-rollout (same port and store): clients reconnect, the rollout completes, 0 failed requests',
  { timeout: 300_000 },
  async (t) => {
    const fleet = await startLocalFleet({
      name: 'natsrestart',
      hosts: 4,
      indexBase: 74,
      transport: 'nats',
      dockerHealthcheck: false,
    });
    t.after(() => fleet.stop());
    const before = await serverWeights(fleet);
    const nats = fleet.nats;
    const at = { stopping: 0, stopped: 0, serving: 0 };

    const { status, report } = await rollUnderLoad(
      fleet,
      { image: 'fleetroll-app:v2', serial: ['50%'], hostTimeoutMs: 120_000 },
      async (step) => {
        if (at.stopping || step.slot !== 'app2' || step.step !== 'WEIGHT_ZERO') return;
        at.stopping = Date.now();
        await nats.kill('SIGTERM');
        at.stopped = Date.now();
        await nats.restart();
        at.serving = Date.now();
      },
    );

    assert.ok(at.serving > 0, 'NATS was never restarted: no slot app2 went to weight 0');
    assert.equal(status.state, 'ROLLOUT_SUCCEEDED', status.message);
    await assertAllOnV2(fleet, before);
    const logs = [fleet.controller.logFile, ...fleet.hosts.map((h) => h.agent.logFile)];
    const delays = await reconnectDelays(logs, at.stopping);
    assert.equal(delays.length, logs.length, 'every process logged its reconnect');
    const { dead, back } = await agentTurmoil(fleet.controller.logFile, at.stopping);
    console.log(
      `# NATS stop began at 0, it had exited at ${at.stopped - at.stopping} ms, served again at ` +
        `${at.serving - at.stopping} ms; clients reconnected at ${Math.min(...delays)}–${Math.max(...delays)} ms; ` +
        `agents the registry called dead meanwhile: ${dead.length}; hosts asked again after their agent ` +
        `came back: ${back.length} (${describeEntries(back)}); ` +
        `the rollout took ${status.finishedAtMs - status.createdAtMs} ms`,
    );
    assertNoFailedRequests(report, fleet.hosts);
  },
);
