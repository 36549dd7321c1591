import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPLACED_SLOT_STEPS } from '@fleetroll/agent';
import { GrpcAgentDirectory, PROBE_MS, type AgentClient } from '@fleetroll/controller';
import type { StepEvent, UpdateHostRequest } from '@fleetroll/shared';
import { refusedUpdate, updateHost } from '../support/agent-rpc.js';
import { testLoad } from '../support/fleet-run.js';
import { assertNoFailedRequests } from '../support/assertions.js';
import { describe, startLocalHost, type LocalHost } from '@fleetroll/local-fleet';

const HOST = 'h6';
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
    const { err, events } = await refusedUpdate(client, request);
    const raw = await updateHost(host!.agent.client, request);
    assert.equal(err.code, bad.code);
    assert.equal(err.code, raw.error?.fleetrollCode);
    assert.equal(err.message, raw.error?.details);
    assert.deepEqual(events, []);
  });
}

test('UpdateHost v1 → v2 through the AgentClient under load: HOST_DONE, every slot replaced, 0 failed requests', async () => {
  const load = testLoad([host!.frontendUrl], 60_000);
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

/** Describe through the controller's channel every PROBE_MS, as the controller looks for a vanished agent. */
async function probeUntilAnswered(deadlineMs: number): Promise<number | undefined> {
  while (Date.now() < deadlineMs) {
    const answered = await client.describe().then(
      () => true,
      () => false,
    );
    if (answered) return Date.now();
    await sleep(PROBE_MS);
  }
  return undefined;
}

/**
 * Stands in for the dead agent on its port: takes each connection the controller's channel
 * makes and drops it, so that every attempt fails as a refused one would, but is seen.
 */
async function standIn(address: string): Promise<{ nextAttempt(): Promise<void>; close(): Promise<void> }> {
  const [hostname, port] = [address.replace(/:\d+$/, ''), Number(address.replace(/^.*:/, ''))];
  let onAttempt = (): void => undefined;
  const server = createServer((socket) => {
    socket.destroy();
    onAttempt();
  });
  await new Promise<void>((resolve) => server.listen(port, hostname, resolve));
  return {
    nextAttempt: () => new Promise((resolve) => (onAttempt = resolve)),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

test("an agent back after more than 12 s away answers through the controller's old channel within 2.5 s", async () => {
  await host!.agent.stop('SIGKILL'); // already dead after the test before, unless that one failed
  const killedAt = Date.now();
  const deadAgent = await standIn(host!.agentAddress);
  // Asked all along, as while the controller waits for a vanished agent: that is what grows the backoff.
  const seen = probeUntilAnswered(killedAt + 40_000);
  try {
    await sleep(12_000);
    // Back just after an attempt failed, the worst moment: grpc-js's default would wait 8–13 s more here.
    const attempted = await Promise.race([deadAgent.nextAttempt().then(() => true), sleep(15_000, false)]);
    assert.ok(attempted, 'the channel made no connection attempt within 15 s');
  } finally {
    await deadAgent.close();
  }
  await host!.restartAgent();
  const upAt = Date.now();
  const seenAt = await seen;
  assert.ok(seenAt, 'the restarted agent never answered through the old channel');
  const late = seenAt - upAt;
  console.log(
    `# agent away ${upAt - killedAt} ms; answering → the controller's channel reached it ${late} ms later`,
  );
  assert.ok(late <= 2_500, `the controller's channel reached the agent ${late} ms after it answered`);
});

test('a frozen agent (SIGSTOP) mid-update: keepalive fails the update with AGENT_UNREACHABLE within 10 s', async () => {
  const agent = host!.agent;
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
