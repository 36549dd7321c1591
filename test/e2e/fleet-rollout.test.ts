import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type { StepEvent } from '@fleetroll/shared';
import { assertNoFailedRequests } from '../support/assertions.js';
import { rollUnderLoad, slotVersions } from '../support/fleet-run.js';
import { movingTag } from '../support/moving-tag.js';
import { CLI_MAIN, runDocker, startLocalFleet, type LocalFleet } from '@fleetroll/local-fleet';

function plannedBatches(fleet: LocalFleet, serial: string): string[][] {
  const out = execFileSync(process.execPath, [
    CLI_MAIN,
    'plan',
    '--inventory',
    fleet.inventoryPath,
    '--serial',
    serial,
    '--json',
  ]);
  return (JSON.parse(out.toString()) as { batches: string[][] }).batches;
}

/** From the agents' own events: how many slots of each host were at weight 0 at once, at most. */
function maxSlotsOutPerHost(steps: StepEvent[]): Map<string, number> {
  const out = new Map<string, { now: number; max: number }>();
  for (const e of [...steps].sort((a, b) => a.atUnixMs - b.atUnixMs)) {
    const h = out.get(e.hostId) ?? { now: 0, max: 0 };
    if (e.step === 'WEIGHT_ZERO') h.now += 1;
    if (e.step === 'WEIGHT_RESTORED' || e.step === 'SLOT_FAILED') h.now = Math.max(0, h.now - 1);
    h.max = Math.max(h.max, h.now);
    out.set(e.hostId, h);
  }
  return new Map([...out].map(([k, v]) => [k, v.max]));
}

// The NATS fleet's containers have a Docker HEALTHCHECK, the gRPC fleet's none: the agents' two ways
// of knowing a new container is ready (Docker healthy, or running for minReady; then HAProxy UP).
for (const [transport, indexBase, dockerHealthcheck] of [
  ['nats', 10, true],
  ['grpc', 20, false],
] as const) {
  const readiness = dockerHealthcheck ? 'Docker HEALTHCHECK' : 'no HEALTHCHECK';
  test(`6 hosts × 3 slots, serial 35%, over ${transport} (${readiness}): planned batches in order, one slot out per host, 0 failed requests`, async (t) => {
    const fleet = await startLocalFleet({
      name: `e${transport[0]}`,
      hosts: 6,
      indexBase,
      transport,
      dockerHealthcheck,
    });
    t.after(() => fleet.stop());
    const { status, steps, report } = await rollUnderLoad(fleet, {
      image: 'fleetroll-app:v2',
      serial: ['35%'],
      transport,
    });

    assert.equal(status.state, 'ROLLOUT_SUCCEEDED', status.message);
    assert.equal(status.transport, transport);
    assert.deepEqual(
      await slotVersions(
        fleet,
        fleet.hosts.map((h) => h.hostId),
      ),
      Array(18).fill('v2'),
    );

    const planned = plannedBatches(fleet, '35%');
    assert.deepEqual(
      planned.map((b) => b.length),
      [2, 2, 2],
    );
    assert.deepEqual(
      status.batches.map((b) => b.hostIds),
      planned,
    );
    for (let i = 1; i < status.batches.length; i++) {
      assert.ok(
        status.batches[i]!.startedAtMs >= status.batches[i - 1]!.finishedAtMs,
        `batch ${i + 1} started before batch ${i} ended`,
      );
    }
    // The agents' events agree: no host's first step comes before the previous batch's last one.
    planned.forEach((batch, i) => {
      if (i === 0) return;
      const previousEnd = Math.max(
        ...steps.filter((e) => planned[i - 1]!.includes(e.hostId)).map((e) => e.atUnixMs),
      );
      const thisStart = Math.min(...steps.filter((e) => batch.includes(e.hostId)).map((e) => e.atUnixMs));
      assert.ok(thisStart >= previousEnd, `agents of batch ${i + 1} moved before batch ${i} was done`);
    });
    for (const [host, max] of maxSlotsOutPerHost(steps))
      assert.equal(max, 1, `${host} had ${max} slots out at once`);
    assert.equal(steps.filter((e) => e.step === 'WEIGHT_RESTORED').length, 18);
    assertNoFailedRequests(report, fleet.hosts);
  });
}

// The fleet shares one dockerd, so every host sees the same image. A host is made to fail the way a
// real host does: its containers run an operator command (kept by the clone) that refuses to start
// on v2, so the new container exits.
const refuseV2 = [
  '/bin/sh',
  '-c',
  'if [ "$APP_VERSION" = v2 ]; then echo "this host cannot run v2" >&2; exit 1; fi; ' +
    "trap 'exit 0' TERM; app-httpd -p 8080 -h /www & wait $!",
];

test('a host of batch 2 cannot run the new version: its slot rolls back, the rollout pauses, batch 3 never starts, 0 failed requests', async (t) => {
  const fleet = await startLocalFleet({
    name: 'ef',
    hosts: 6,
    indexBase: 30,
    transport: 'nats',
    cmd: (i) => (i === 4 ? refuseV2 : undefined),
    dockerHealthcheck: false,
  });
  t.after(() => fleet.stop());
  const { status, steps, report } = await rollUnderLoad(fleet, {
    image: 'fleetroll-app:v2',
    serial: ['35%'],
  });

  assert.equal(status.state, 'ROLLOUT_PAUSED', status.message);
  const failed = steps.find((e) => e.step === 'SLOT_FAILED');
  assert.equal(failed?.hostId, 'ef-4');
  assert.equal(failed?.errorCode, 'HEALTH_CHECK_FAILED');
  assert.match(failed?.message ?? '', /rolled back/);
  const byId = new Map(status.hosts.map((h) => [h.hostId, h]));
  assert.equal(byId.get('ef-4')?.state, 'HOST_FAILED');
  assert.equal(byId.get('ef-3')?.state, 'HOST_SUCCEEDED');
  for (const id of ['ef-5', 'ef-6']) {
    assert.equal(byId.get(id)?.state, 'HOST_PENDING', `${id} of batch 3 must not start`);
    assert.equal(steps.filter((e) => e.hostId === id).length, 0, `${id} got no command`);
  }
  assert.deepEqual(await slotVersions(fleet, ['ef-4']), ['v1', 'v1', 'v1']);
  assert.deepEqual(await slotVersions(fleet, ['ef-5', 'ef-6']), Array(6).fill('v1'));
  assertNoFailedRequests(report, fleet.hosts);
  await fleet.controller.api.abort(status.id);
});

/** Each container's build and the reference it was created from, as Docker has them. */
async function builds(fleet: LocalFleet, hostId: string): Promise<string[]> {
  const host = fleet.hosts.find((h) => h.hostId === hostId);
  assert.ok(host, `no host ${hostId}`);
  const out = await runDocker(['inspect', '--format', '{{.Image}} {{.Config.Image}}', ...host.containers]);
  return out.trim().split('\n');
}

// Runs after the test above has stopped its fleet: its hosts' port blocks (30-33) are free again.
// Four hosts, two of them only serving: the test load on fewer frontends overruns the app servers.
test('the failure action rollback returns each slot to the build it ran: by its tag, and by id when the rollout deployed that tag again; 0 failed requests', async (t) => {
  const { tag: prod, move: pushV2 } = await movingTag(t, 'prod', 'v1', 'v2');
  const v1 = (await runDocker(['image', 'inspect', '--format', '{{.Id}}', prod])).trim();
  const fleet = await startLocalFleet({
    name: 'rb',
    hosts: 4,
    indexBase: 30,
    transport: 'nats',
    image: prod,
    cmd: (i) => (i === 2 ? refuseV2 : undefined),
    dockerHealthcheck: false,
  });
  t.after(() => fleet.stop());
  const request = { serial: ['1'], failureAction: 'ROLLBACK' as const };

  const byTag = await rollUnderLoad(fleet, { ...request, image: 'fleetroll-app:v2' });
  assert.equal(byTag.status.state, 'ROLLOUT_ROLLED_BACK', byTag.status.message);
  const first = byTag.status.hosts.find((h) => h.hostId === 'rb-1');
  assert.equal(first?.state, 'HOST_ROLLED_BACK', first?.message);
  assert.equal(first.message, `back on ${prod}`);
  assert.equal(byTag.status.hosts.find((h) => h.hostId === 'rb-2')?.errorCode, 'HEALTH_CHECK_FAILED');
  assert.deepEqual(await slotVersions(fleet, ['rb-1', 'rb-2', 'rb-3']), Array(9).fill('v1'));
  assert.deepEqual(await builds(fleet, 'rb-1'), Array(3).fill(`${v1} ${prod}`));
  assertNoFailedRequests(byTag.report, fleet.hosts);

  // The new build is pushed under the name the fleet runs: the name no longer leads back.
  await pushV2();
  const byId = await rollUnderLoad(fleet, { ...request, image: prod });
  assert.equal(byId.status.state, 'ROLLOUT_ROLLED_BACK', byId.status.message);
  const again = byId.status.hosts.find((h) => h.hostId === 'rb-1');
  assert.equal(again?.state, 'HOST_ROLLED_BACK', again?.message);
  assert.equal(again.message, `back on ${prod} as it was (${v1.slice(0, 19)})`);
  assert.equal(
    byId.steps.filter((e) => e.hostId === 'rb-1' && e.step === 'SLOT_DONE').length,
    6,
    'rb-1 went to v2 and back',
  );
  assert.deepEqual(await slotVersions(fleet, ['rb-1', 'rb-2', 'rb-3']), Array(9).fill('v1'));
  assert.deepEqual(await builds(fleet, 'rb-1'), Array(3).fill(`${v1} ${v1}`));
  assertNoFailedRequests(byId.report, fleet.hosts);
});
