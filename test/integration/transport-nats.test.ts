import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NatsConnection } from '@nats-io/transport-node';
import { REPLACED_SLOT_STEPS } from '@fleetroll/agent';
import {
  AgentRegistry,
  GrpcAgentDirectory,
  NatsAgentDirectory,
  type AgentClient,
} from '@fleetroll/controller';
import { connectNats, createLogger, type StepEvent } from '@fleetroll/shared';
import { refusedUpdate } from '../support/agent-rpc.js';
import { testLoad } from '../support/fleet-run.js';
import { assertNoFailedRequests } from '../support/assertions.js';
import { startLocalHost, type LocalHost, startNatsServer, type NatsServer } from '@fleetroll/local-fleet';
import { secondAgentOf } from '../support/local-host.js';

// A dot in the host id exercises both the KV key and the subject token mapping.
const HOST = 'h5.nats';
const logLines: string[] = [];
const log = createLogger('transport-nats-test', { write: (line: string) => void logLines.push(line) });

let nats: NatsServer | undefined;
let nc: NatsConnection | undefined;
let registry: AgentRegistry | undefined;
let host: LocalHost | undefined;
let hostUpAt = 0;
let overNats: AgentClient;
let overGrpc: AgentClient;
let grpcDirectory: GrpcAgentDirectory | undefined;

before(async () => {
  nats = await startNatsServer();
  nc = await connectNats({ servers: [nats.url] }, 'transport-nats-test', log);
  registry = await AgentRegistry.start(nc, { log });
  host = await startLocalHost({ hostId: HOST, index: 5, nats: { servers: [nats.url] } });
  hostUpAt = Date.now();
  overNats = new NatsAgentDirectory(nc, registry, { log }).client(HOST);
  grpcDirectory = GrpcAgentDirectory.fromInventory([{ id: HOST, grpc: host.agentAddress }]);
  overGrpc = grpcDirectory.client(HOST);
});

after(async () => {
  await grpcDirectory?.close();
  await registry?.close();
  await nc?.close();
  await host?.stop();
  await nats?.stop();
});

const sequence = (events: StepEvent[]) => events.map((e) => (e.slot ? `${e.slot}:${e.step}` : e.step));

async function until(what: string, ms: number, ok: () => boolean): Promise<number> {
  const start = Date.now();
  while (!ok()) {
    if (Date.now() - start > ms) assert.fail(`${what}: not within ${ms} ms`);
    await sleep(10);
  }
  return Date.now() - start;
}

test('the agent registers and shows up alive within 2 s', async () => {
  await until('registered', Math.max(0, 2_000 - (Date.now() - hostUpAt)), () => registry!.isAlive(HOST));
  console.log(`# alive in the registry ${Date.now() - hostUpAt} ms after the agent served gRPC`);
  const info = registry!.list().find((a) => a.hostId === HOST);
  assert.deepEqual(
    { ...info, lastSeenMs: 0 },
    {
      hostId: HOST,
      groups: ['local'],
      grpcAddress: host!.agentAddress,
      version: '0.1.0',
      lastSeenMs: 0,
      alive: true,
      activeRolloutId: '',
      sources: ['nats'],
      // It sees its HAProxy's processes: nothing to warn of.
      warnings: [],
    },
  );
});

test('Describe over NATS equals Describe over gRPC', async () => {
  const [viaNats, viaGrpc] = await Promise.all([overNats.describe(), overGrpc.describe()]);
  assert.deepEqual(viaNats, viaGrpc);
  assert.equal(viaNats.slots.length, 3);
  assert.equal(viaNats.hostId, HOST);

  // Abort of nothing is answered from memory: the transport's own cost. Describe
  // adds the agent's Docker and HAProxy calls. Both after a warm-up.
  const meanMs = async (rounds: number, call: () => Promise<unknown>): Promise<number> => {
    for (let i = 0; i < 20; i++) await call();
    const start = performance.now();
    for (let i = 0; i < rounds; i++) await call();
    return (performance.now() - start) / rounds;
  };
  const abortMs = await meanMs(200, () => overNats.abort('nothing-running'));
  const describeMs = await meanMs(20, () => overNats.describe());
  console.log(
    `# NATS round trip: Abort ${abortMs.toFixed(2)} ms, Describe ${describeMs.toFixed(2)} ms (means)`,
  );
  assert.ok(abortMs < 20, `an in-memory request took ${abortMs.toFixed(1)} ms on loopback`);
});

const BAD_UPDATES: { name: string; req: Record<string, unknown>; code: string }[] = [
  { name: 'unknown slot', req: { slots: ['app1', 'app9'] }, code: 'UNKNOWN_SLOT' },
  { name: 'malformed image', req: { image: 'Fleetroll App!!' }, code: 'INVALID_INPUT' },
  {
    name: 'injection in a slot name',
    req: { slots: ['app1\nset weight app/app_2 0'] },
    code: 'INVALID_INPUT',
  },
  { name: 'missing rollout id', req: { rolloutId: '' }, code: 'INVALID_INPUT' },
];

for (const bad of BAD_UPDATES) {
  test(`UpdateHost with ${bad.name}: the same typed error over NATS as over gRPC, and no event`, async () => {
    const request = { rolloutId: 'it-bad', image: 'fleetroll-app:v2', ...bad.req };
    const errors = [];
    for (const client of [overNats, overGrpc]) {
      const { err, events } = await refusedUpdate(client, request);
      assert.deepEqual(events, []);
      errors.push({ code: err.code, message: err.message });
    }
    assert.equal(errors[0]?.code, bad.code);
    assert.deepEqual(errors[0], errors[1]);
  });
}

test('PrePull of a malformed image: the same typed error over both transports', async () => {
  const errors = await Promise.all(
    [overNats, overGrpc].map((c) =>
      c.prePull('no such:image:at all').then(
        () => assert.fail('accepted'),
        (e: Error & { code: string }) => ({ code: e.code, message: e.message }),
      ),
    ),
  );
  assert.equal(errors[0]?.code, 'INVALID_INPUT');
  assert.deepEqual(errors[0], errors[1]);
  assert.equal((await overNats.prePull('fleetroll-app:v2')).pulled, false, 'the image is already there');
});

async function underLoad<T>(fn: () => Promise<T>) {
  const load = testLoad([host!.frontendUrl], 60_000);
  try {
    // Long requests on every server before the first weight goes to 0.
    await sleep(1_500);
    return { result: await fn(), report: await load.stop() };
  } finally {
    await load.stop();
  }
}

test('UpdateHost v1 → v2 over NATS under load streams the same steps as v2 → v1 over gRPC, 0 failed requests', async () => {
  const viaNats: StepEvent[] = [];
  let activeSeen = '';
  const nats = await underLoad(() =>
    overNats.update({ rolloutId: 'it-nats-v2', image: 'fleetroll-app:v2' }, (e) => {
      viaNats.push(e);
      activeSeen ||= registry!.registration(HOST)?.activeRolloutId ?? '';
    }),
  );
  assert.equal(nats.result.step, 'HOST_DONE');
  assert.equal(viaNats.at(-1), nats.result);
  assertNoFailedRequests(nats.report, [host!]);
  assert.equal(activeSeen, 'it-nats-v2', 'heartbeats carried the rollout in flight');
  for (const slot of ['app1', 'app2', 'app3']) {
    assert.deepEqual(
      viaNats.filter((e) => e.slot === slot).map((e) => e.step),
      [...REPLACED_SLOT_STEPS],
    );
  }
  const d = await overNats.describe();
  assert.deepEqual(
    d.slots.map((s) => s.image),
    Array(3).fill('fleetroll-app:v2'),
  );

  const viaGrpc: StepEvent[] = [];
  const grpc = await underLoad(() =>
    overGrpc.update({ rolloutId: 'it-grpc-v1', image: 'fleetroll-app:v1' }, (e) => viaGrpc.push(e)),
  );
  assert.equal(grpc.result.step, 'HOST_DONE');
  assertNoFailedRequests(grpc.report, [host!]);
  assert.deepEqual(sequence(viaNats), sequence(viaGrpc));
});

test('Abort over NATS stops an update at the next slot boundary', async () => {
  const events: StepEvent[] = [];
  let aborted: Promise<boolean> | undefined;
  const end = await overNats.update({ rolloutId: 'it-abort', image: 'fleetroll-app:v2' }, (e) => {
    events.push(e);
    if (e.step === 'SLOT_STARTED' && !aborted) aborted = overNats.abort('it-abort');
  });
  assert.equal(await aborted, true);
  assert.equal(end.step, 'HOST_ABORTED');
  assert.deepEqual(
    events.filter((e) => e.step === 'SLOT_DONE').map((e) => e.slot),
    ['app1'],
  );
  assert.equal(await overNats.abort('it-abort'), false, 'nothing left to abort');
});

test('NATS restarted with an empty store: the agent registers again and answers again within 5 s', async () => {
  const port = nats!.port;
  let deaths = 0;
  const stopCounting = registry!.onAnyDead(() => deaths++);
  try {
    await nats!.stop();
    const restartedAt = Date.now();
    nats = await startNatsServer({ port });
    await until(
      're-registered',
      5_000,
      () => (registry!.registration(HOST)?.heartbeatAtMs ?? 0) > restartedAt,
    );
    assert.equal(registry!.isAlive(HOST), true);
    assert.equal((await overNats.describe()).hostId, HOST);
    console.log(
      `# NATS replaced: agent re-registered after ${Date.now() - restartedAt} ms; reported dead meanwhile: ${deaths}`,
    );
  } finally {
    stopCounting();
  }
});

test('a second agent under the same host id (its agent.yml copied unchanged): the registry says so within seconds, nothing is sent to the host, and all is as before once it stops', async () => {
  const twinDir = await mkdtemp(join(tmpdir(), 'fleetroll-twin-'));
  const twin = await secondAgentOf(host!, twinDir);
  const events: StepEvent[] = [];
  try {
    const seenIn = await until('the conflict seen', 5_000, () => registry!.conflict(HOST) !== undefined);
    console.log(`# two agents under one host id: seen ${seenIn} ms after the second one served`);
    const conflict = registry!.conflict(HOST) ?? '';
    assert.match(
      conflict,
      /^two agents register as host h5\.nats, one started \S+ \(gRPC 127\.0\.0\.1:\d+\), the other started \S+ \(gRPC 127\.0\.0\.1:\d+\): /,
    );
    assert.ok(conflict.includes(twin.address) && conflict.includes(host!.agentAddress), conflict);
    assert.deepEqual(registry!.list().find((a) => a.hostId === HOST)?.warnings, [conflict]);
    await assert.rejects(overNats.describe(), { code: 'DUPLICATE_HOST_ID', message: /Describe not sent/ });
    const update = overNats.update({ rolloutId: 'it-twin', image: 'fleetroll-app:v1' }, (e) =>
      events.push(e),
    );
    await assert.rejects(update, { code: 'DUPLICATE_HOST_ID', message: /UpdateHost not sent/ });
  } finally {
    await twin.stop();
    await rm(twinDir, { recursive: true, force: true });
  }
  assert.deepEqual(events, []);
  // Its goodbye removed the registration they shared: the first agent's next beat brings it back.
  await until('the first agent alone again', 5_000, () => registry!.isAlive(HOST));
  assert.equal(registry!.conflict(HOST), undefined);
  assert.equal((await overNats.describe()).hostId, HOST);
});

test('SIGKILL mid-update: dead in the registry within 5 s, update() rejects AGENT_UNREACHABLE within 10 s', async () => {
  const victim = host!.agent;
  let killedAt = 0;
  let deadAt = 0;
  let deadReason = '';
  registry!.onDead(HOST, (_h, reason) => {
    deadAt = Date.now();
    deadReason = reason;
  });
  const update = overNats.update({ rolloutId: 'it-kill', image: 'fleetroll-app:v2' }, (e) => {
    if (e.step === 'WEIGHT_ZERO' && killedAt === 0) {
      killedAt = Date.now();
      process.kill(victim.pid, 'SIGKILL');
    }
  });
  const err = await update.then(
    () => assert.fail('the update of a killed agent resolved'),
    (e: Error & { code: string }) => e,
  );
  const rejectedAt = Date.now();
  assert.ok(killedAt > 0, 'the agent was killed mid-slot');
  await victim.exited;
  assert.equal(err.code, 'AGENT_UNREACHABLE', err.message);
  assert.match(err.message, /vanished during the update: no heartbeat/);
  assert.ok(deadAt > 0, 'the registry reported the host dead');
  console.log(
    `# SIGKILL → registry dead after ${deadAt - killedAt} ms (${deadReason}); update() rejected after ${rejectedAt - killedAt} ms`,
  );
  assert.ok(deadAt - killedAt <= 5_000, `dead after ${deadAt - killedAt} ms`);
  assert.ok(rejectedAt - killedAt <= 10_000, `rejected after ${rejectedAt - killedAt} ms`);
  assert.equal(registry!.isAlive(HOST), false);
  await assert.rejects(overNats.describe(), { code: 'AGENT_UNREACHABLE', message: /no agent answers/ });
});

test('a restarted agent registers again; a graceful stop deregisters at once', async () => {
  const started = Date.now();
  await host!.restartAgent();
  await until('registered again', 5_000, () => registry!.isAlive(HOST));
  console.log(`# restarted agent (with crash recovery) alive again after ${Date.now() - started} ms`);
  let reason = '';
  registry!.onDead(HOST, (_h, r) => (reason = r));
  const stopping = Date.now();
  await host!.agent.stop('SIGTERM');
  await until('deregistered', 1_000, () => reason !== '');
  assert.equal(reason, 'the agent deregistered (stopped)');
  console.log(`# graceful stop → deregistered after ${Date.now() - stopping} ms`);
  assert.equal(
    registry!.list().find((a) => a.hostId === HOST),
    undefined,
  );
});
