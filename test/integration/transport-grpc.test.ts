import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPLACED_SLOT_STEPS } from '@fleetroll/agent';
import { GrpcAgentDirectory, type AgentClient } from '@fleetroll/controller';
import type { StepEvent, UpdateHostRequest } from '@fleetroll/shared';
import { updateHost } from '../support/agent-rpc.js';
import { assertNoFailedRequests } from '../support/assertions.js';
import { describe, startLoad, startLocalHost, type LocalHost } from '@fleetroll/local-fleet';

const HOST = 'h6';
const LOAD = { rps: 240, slowEvery: 5, slowPath: '/cgi-bin/slow?1', maxDurationMs: 60_000 };

let host: LocalHost | undefined;
let directory: GrpcAgentDirectory | undefined;
let client: AgentClient;

before(async () => {
  host = await startLocalHost({ hostId: HOST, index: 6 });
  directory = GrpcAgentDirectory.fromInventory([{ id: HOST, grpc: host.agentAddress }]);
  client = directory.client(HOST);
});

after(async () => {
  await directory?.close();
  await host?.stop();
});

test('Describe through the AgentClient equals the raw gRPC reply', async () => {
  const [viaClient, raw] = await Promise.all([client.describe(), describe(host!.agent.client)]);
  assert.deepEqual(viaClient, raw);
  assert.equal(viaClient.slots.length, 3);
});

const BAD_UPDATES: { name: string; req: Partial<UpdateHostRequest>; code: string }[] = [
  { name: 'unknown slot', req: { slots: ['app1', 'app9'] }, code: 'UNKNOWN_SLOT' },
  { name: 'malformed image', req: { image: 'Fleetroll App!!' }, code: 'INVALID_INPUT' },
  { name: 'missing rollout id', req: { rolloutId: '' }, code: 'INVALID_INPUT' },
];

for (const bad of BAD_UPDATES) {
  test(`UpdateHost with ${bad.name}: rejected with the agent's code and message, no event`, async () => {
    const request = { rolloutId: 'it-bad', image: 'fleetroll-app:v2', ...bad.req };
    const events: StepEvent[] = [];
    const err = await client
      .update(request, (e) => events.push(e))
      .then(
        () => assert.fail('the update was accepted'),
        (e: Error & { code: string }) => e,
      );
    const raw = await updateHost(host!.agent.client, request);
    assert.equal(err.code, bad.code);
    assert.equal(err.code, raw.error?.fleetrollCode);
    assert.equal(err.message, raw.error?.details);
    assert.deepEqual(events, []);
  });
}

test('UpdateHost v1 → v2 through the AgentClient under load: HOST_DONE, every slot replaced, 0 failed requests', async () => {
  const load = startLoad({ targets: [host!.frontendUrl], ...LOAD });
  const events: StepEvent[] = [];
  try {
    await sleep(1_500);
    const end = await client.update({ rolloutId: 'it-grpc-v2', image: 'fleetroll-app:v2' }, (e) =>
      events.push(e),
    );
    assert.equal(end.step, 'HOST_DONE');
    assert.equal(events.at(-1), end);
  } finally {
    assertNoFailedRequests(await load.stop(), [host!]);
  }
  for (const slot of ['app1', 'app2', 'app3']) {
    assert.deepEqual(
      events.filter((e) => e.slot === slot).map((e) => e.step),
      [...REPLACED_SLOT_STEPS],
    );
  }
});

/** Runs an update back to v1 and does `fault` to the agent at the first WEIGHT_ZERO. */
async function faultMidUpdate(rolloutId: string, fault: (pid: number) => void) {
  const pid = host!.agent.pid;
  let faultAt = 0;
  const err = await client
    .update({ rolloutId, image: 'fleetroll-app:v1' }, (e) => {
      if (e.step === 'WEIGHT_ZERO' && faultAt === 0) {
        faultAt = Date.now();
        fault(pid);
      }
    })
    .then(
      () => assert.fail('the update of a lost agent resolved'),
      (e: Error & { code: string }) => e,
    );
  assert.ok(faultAt > 0, 'the fault landed mid-slot');
  return { err, afterMs: Date.now() - faultAt };
}

test('SIGKILL mid-update: update() rejects with AGENT_UNREACHABLE within 10 s', async () => {
  const { err, afterMs } = await faultMidUpdate('it-kill', (pid) => process.kill(pid, 'SIGKILL'));
  await host!.agent.exited;
  console.log(`# SIGKILL → gRPC update() rejected after ${afterMs} ms (${err.message})`);
  assert.equal(err.code, 'AGENT_UNREACHABLE', err.message);
  assert.ok(afterMs <= 10_000, `rejected after ${afterMs} ms`);
});

test('a frozen agent (SIGSTOP) mid-update: keepalive fails the update with AGENT_UNREACHABLE within 10 s', async () => {
  await host!.restartAgent();
  const agent = host!.agent;
  // The channel to the killed agent may still be backing off before it reconnects.
  for (
    let i = 0;
    !(await client.describe().then(
      () => true,
      () => false,
    ));
    i++
  ) {
    assert.ok(i < 50, 'the restarted agent never answered through the old channel');
    await sleep(100);
  }
  try {
    const { err, afterMs } = await faultMidUpdate('it-freeze', (pid) => process.kill(pid, 'SIGSTOP'));
    console.log(`# SIGSTOP → gRPC update() rejected after ${afterMs} ms (${err.message})`);
    assert.equal(err.code, 'AGENT_UNREACHABLE', err.message);
    assert.ok(afterMs <= 10_000, `rejected after ${afterMs} ms`);
  } finally {
    // A stopped process still holds its ports; SIGKILL ends it even while stopped.
    await agent.stop('SIGKILL');
  }
});
