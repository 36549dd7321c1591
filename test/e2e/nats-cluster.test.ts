import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startLocalFleet, type NatsServer } from '@fleetroll/local-fleet';
import { AGENT_REGISTRY_BUCKET } from '@fleetroll/shared';
import { assertNoFailedRequests } from '../support/assertions.js';
import {
  assertAllOnV2,
  agentTurmoil,
  describeEntries,
  reconnectDelays,
  rollUnderLoad,
  serverWeights,
} from '../support/fleet-run.js';

interface StreamDetail {
  name: string;
  config?: { num_replicas?: number };
  cluster?: { leader?: string };
}

/** The registry bucket's stream as a member's monitor reports it: its replicas and its leader. */
async function registryStream(server: NatsServer): Promise<{ replicas: number; leader: string }> {
  assert.ok(server.monitorUrl, `${server.name} has no monitor port`);
  const res = await fetch(`${server.monitorUrl}/jsz?streams=true&config=true`);
  const body = (await res.json()) as { account_details?: { stream_detail?: StreamDetail[] }[] };
  const streams = (body.account_details ?? []).flatMap((a) => a.stream_detail ?? []);
  const stream = streams.find((s) => s.name === `KV_${AGENT_REGISTRY_BUCKET}`);
  assert.ok(stream, `no KV_${AGENT_REGISTRY_BUCKET} stream on ${server.name}`);
  return { replicas: stream.config?.num_replicas ?? 0, leader: stream.cluster?.leader ?? '' };
}

test(
  'a 3-node NATS cluster loses a node (SIGKILL) mid-rollout: the rollout completes, every container on v2, ' +
    '0 failed requests',
  { timeout: 300_000 },
  async (t) => {
    const fleet = await startLocalFleet({
      name: 'natscluster',
      hosts: 4,
      indexBase: 70,
      transport: 'nats',
      natsCluster: 3,
      dockerHealthcheck: false,
    });
    t.after(() => fleet.stop());
    const before = await serverWeights(fleet);
    const stream = await registryStream(fleet.nats);
    assert.equal(stream.replicas, 3, 'the registry bucket is replicated on every node');
    // The worst node to lose: the registry's leader, so that JetStream must elect another.
    const victim = fleet.natsServers.find((s) => s.name === stream.leader);
    assert.ok(victim, `the registry's leader ${stream.leader} is not a member`);
    let killedAt = 0;

    const { status, report } = await rollUnderLoad(
      fleet,
      { image: 'fleetroll-app:v2', serial: ['50%'], hostTimeoutMs: 120_000 },
      async (step) => {
        if (killedAt || step.slot !== 'app2' || step.step !== 'WEIGHT_ZERO') return;
        killedAt = Date.now();
        await victim.kill('SIGKILL');
      },
    );

    assert.ok(killedAt > 0, 'no node was killed: no slot app2 went to weight 0');
    assert.equal(status.state, 'ROLLOUT_SUCCEEDED', status.message);
    await assertAllOnV2(fleet, before);
    const survivor = fleet.natsServers.find((s) => s !== victim)!;
    const after = await registryStream(survivor);
    assert.notEqual(after.leader, victim.name, 'another node leads the registry');

    const logs = [fleet.controller.logFile, ...fleet.hosts.map((h) => h.agent.logFile)];
    const delays = await reconnectDelays(logs, killedAt);
    const { dead, alive, back } = await agentTurmoil(fleet.controller.logFile, killedAt);
    const seenAgain =
      alive.length > 0 ? `${Math.max(...alive.map((e) => e.time)) - killedAt} ms after the kill` : '-';
    console.log(
      `# killed ${victim.name} (registry leader); ${delays.length} of ${logs.length} processes were on it and ` +
        `reconnected after ${delays.join(', ') || '-'} ms; new registry leader ${after.leader}; ` +
        `agents the registry called dead meanwhile: ${dead.length} (${describeEntries(dead, 'reason')}), ` +
        `all alive again ${seenAgain}; ` +
        `hosts asked again after their agent came back: ${back.length} (${describeEntries(back)}); ` +
        `the rollout took ${status.finishedAtMs - status.createdAtMs} ms`,
    );
    assertNoFailedRequests(report, fleet.hosts);
  },
);
