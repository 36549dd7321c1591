import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLocalFleet } from '@fleetroll/local-fleet';
import { runCli, startWithCli } from '../support/cli.js';
import { slotVersions } from '../support/fleet-run.js';
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
  assert.match(run.out, new RegExp(`${second}.*DUPLICATE_HOST_ID|DUPLICATE_HOST_ID.*${second}`));
  assert.deepEqual(await slotVersions(fleet, [first]), ['v2', 'v2', 'v2']);
  assert.deepEqual(await slotVersions(fleet, [second]), ['v1', 'v1', 'v1'], 'neither agent was asked');
  assert.deepEqual(await slotVersions(fleet, [third]), ['v1', 'v1', 'v1'], 'the rollout paused before it');
  const agentLog = await readFile(join(twinDir, 'agent.log'), 'utf8');
  assert.doesNotMatch(agentLog, /"step"/, 'the second agent ran no step');
});
