import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLocalFleet } from '@fleetroll/local-fleet';
import { fleetWithSteps, untilStep } from '../support/agent-steps.js';
import { runCli, startWithCli } from '../support/cli.js';
import { serverWeights, slotVersions } from '../support/fleet-run.js';
import { secondAgentOf } from '../support/local-host.js';

test('two agents under one host id: `fleetroll agents` warns, the rollout sends that host nothing and pauses on it, DUPLICATE_HOST_ID', async (t) => {
  const fleet = await startLocalFleet({
    name: 'ex',
    hosts: 3,
    indexBase: 86,
    transport: 'nats',
    dockerHealthcheck: false,
  });
  t.after(() => fleet.stop());
  const [first, second, third] = fleet.hosts.map((h) => h.hostId) as [string, string, string];
  const twinDir = await mkdtemp(join(tmpdir(), 'fleetroll-twin-'));
  t.after(() => rm(twinDir, { recursive: true, force: true }));
  const twin = await secondAgentOf(fleet.hosts[1]!, twinDir);
  t.after(() => twin.stop());

  const address = fleet.controller.address;
  let agents = await runCli(t, 'agents', '--controller', address);
  for (const deadline = Date.now() + 5_000; !agents.out.includes('two agents register');) {
    if (Date.now() > deadline) assert.fail(`no warning within 5 s:\n${agents.out}`);
    await sleep(200);
    agents = await runCli(t, 'agents', '--controller', address);
  }
  assert.match(
    agents.out,
    new RegExp(
      `^warning: ${second}: two agents register as host ${second}, one started .*hostId in agent.yml$`,
      'm',
    ),
  );

  const run = await startWithCli(t, address, 'fleetroll-app:v2');
  assert.equal(run.code, 3, `paused for an operator:\n${run.out}`);
  assert.match(
    run.out,
    new RegExp(
      `^\\[.*\\] ${second} failed while preparing batch 2/3: DUPLICATE_HOST_ID .*two agents register`,
      'm',
    ),
  );
  assert.deepEqual(await slotVersions(fleet, [first]), ['v2', 'v2', 'v2']);
  assert.deepEqual(await slotVersions(fleet, [second]), ['v1', 'v1', 'v1'], 'neither agent was asked');
  assert.deepEqual(await slotVersions(fleet, [third]), ['v1', 'v1', 'v1'], 'the rollout paused before it');
  const agentLog = await readFile(join(twinDir, 'agent.log'), 'utf8');
  assert.doesNotMatch(agentLog, /"step"/, 'the second agent ran no step');
});

test('a second agent starts under a host id mid-update: the host fails DUPLICATE_HOST_ID and the update stops at the slot boundary, every weight back', async (t) => {
  const { fleet, steps } = await fleetWithSteps(t, { name: 'ey', hosts: 1, indexBase: 84 });
  const twinDir = await mkdtemp(join(tmpdir(), 'fleetroll-twin-'));
  t.after(() => rm(twinDir, { recursive: true, force: true }));
  const host = fleet.hosts[0]!;
  const weights = await serverWeights(fleet);

  // The first slot stays out 4 s: time for the controller to see the second agent while it is out.
  const run = startWithCli(t, fleet.controller.address, 'fleetroll-app:v2', '--min-drain', '4s');
  await untilStep(steps, host.hostId, 'WEIGHT_ZERO');
  const twinAtMs = Date.now();
  const twin = await secondAgentOf(host, twinDir);
  t.after(() => twin.stop());

  const { code, out } = await run;
  // Its only batch failed: nothing is left to pause before.
  assert.equal(code, 1, `failed:\n${out}`);
  assert.match(
    out,
    new RegExp(`${host.hostId} failed .*DUPLICATE_HOST_ID two agents register as host ${host.hostId}`),
  );
  await untilStep(steps, host.hostId, 'HOST_ABORTED', 20_000);
  const done = steps.seen.filter((s) => s.event.step === 'SLOT_DONE').map((s) => s.event.slot);
  assert.deepEqual(done, ['app1'], 'the slot it was on, and no other');
  assert.deepEqual(await slotVersions(fleet, [host.hostId]), ['v2', 'v1', 'v1']);
  assert.deepEqual(await serverWeights(fleet), weights, 'every weight is back');
  t.diagnostic(`second agent started → update stopped ${Date.now() - twinAtMs} ms`);
});
