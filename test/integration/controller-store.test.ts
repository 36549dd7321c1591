import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  KvLeaseBackend,
  KvRolloutStore,
  LeaderLock,
  MemoryRolloutStore,
  Rollout,
  parseRolloutSpec,
  type AgentDirectory,
} from '@fleetroll/controller';
import { connectNats, createLogger, type msg } from '@fleetroll/shared';
import { startNatsServer, type NatsServer } from '@fleetroll/local-fleet';

const log = createLogger('controller-store-test', { write: () => undefined });
const LEASE_MS = 1_500;

let nats: NatsServer | undefined;
let nc: NatsConnection | undefined;

before(async () => {
  nats = await startNatsServer({ name: 'controller-store-test' });
  nc = await connectNats({ servers: [nats.url] }, 'controller-store-test', log);
});
after(async () => {
  await nc?.close();
  await nats?.stop();
});

/** A real status, as a rollout of two hosts saves it before it starts. */
function status(id: string): msg.RolloutStatus__Output {
  const nobody: AgentDirectory = {
    transport: 'nats',
    client: () => {
      throw new Error('not used');
    },
    close: () => Promise.resolve(),
  };
  const spec = parseRolloutSpec({ image: 'app:v2', serial: ['1'] }, { id, defaultTransport: 'nats' });
  const hosts = [
    { id: 'h1', groups: [] },
    { id: 'h2', groups: [] },
  ];
  return new Rollout(spec, hosts, nobody, log, { store: new MemoryRolloutStore() }).status();
}

test('KvRolloutStore: saves are compare-and-set; a second controller that wrote since makes the first stop; remove deletes for all', async () => {
  const first = await KvRolloutStore.open(nc!, { log });
  const s = status('r-kv:1');
  await first.save(s);
  await first.save({ ...s, message: 'second save' });

  // A standby that took over reads the rollout (and its revision), then writes it.
  const second = await KvRolloutStore.open(nc!, { log });
  const listed = await second.list();
  assert.deepEqual(
    listed.find((x) => x.id === s.id),
    { ...s, message: 'second save' },
  );
  await second.save({ ...s, message: 'by the new leader' });

  // The old leader, back from a freeze, may not overwrite it.
  await assert.rejects(first.save({ ...s, message: 'stale' }), {
    code: 'STORE_CONFLICT',
    message: /rollout r-kv:1 was written by another controller/,
  });
  assert.equal((await second.list()).find((x) => x.id === s.id)?.message, 'by the new leader');

  // Deleted, it is gone for every controller; saved again, it starts afresh.
  await second.remove(s.id);
  await second.remove(s.id);
  assert.equal(
    (await first.list()).find((x) => x.id === s.id),
    undefined,
  );
  await second.save({ ...s, message: 'after the deletion' });
  assert.equal((await first.list()).find((x) => x.id === s.id)?.message, 'after the deletion');
});

test('KV leader lock: one leader; its lock expires a lease after its last renewal and a standby takes it', async () => {
  const backend = await KvLeaseBackend.open(nc!, { leaseMs: LEASE_MS });
  const self = (name: string) => ({
    owner: `test/${name}`,
    address: name,
    incarnation: name,
    host: 'test',
    pid: 1,
  });
  const a = new LeaderLock(backend, self('a'), LEASE_MS);
  const b = new LeaderLock(backend, self('b'), LEASE_MS);
  assert.equal((await a.step()).kind, 'elected');
  assert.equal((await b.step()).kind, 'unchanged');
  // Renewed three times a lease, a's lock outlives several leases.
  const until = Date.now() + 2 * LEASE_MS;
  while (Date.now() < until) {
    await sleep(LEASE_MS / 3);
    assert.equal((await a.step()).kind, 'unchanged');
    assert.equal((await b.step()).kind, 'unchanged', 'b must not take a renewed lock');
  }
  // a dies: the bucket's max age removes its lock, or b sees it unrenewed for a lease.
  const diedAt = Date.now();
  let takeover = -1;
  for (let i = 0; i < 40 && takeover < 0; i++) {
    await sleep(100);
    if ((await b.step()).kind === 'elected') takeover = Date.now() - diedAt;
  }
  assert.ok(takeover >= LEASE_MS - 300 && takeover < LEASE_MS + 1_500, `took over after ${takeover} ms`);
  assert.deepEqual(await a.step(), { kind: 'deposed', why: 'another controller took the leader lock' });
  // A graceful stop releases it at once.
  await b.release();
  assert.equal((await a.step()).kind, 'elected');
  await a.release();
});

test('KvRolloutStore: a standby lists the rollouts at once while the leader saves every few tens of ms', async () => {
  const leader = await KvRolloutStore.open(nc!, { log });
  const standby = await KvRolloutStore.open(nc!, { log });
  const s = status('r-kv:busy');
  await leader.save(s);
  // As a leader in a batch saves: every 20–60 ms, for a bounded time.
  let saves = 0;
  const savingUntil = Date.now() + 6_000;
  const saving = (async () => {
    while (Date.now() < savingUntil) {
      await leader.save({ ...s, message: `save ${++saves}` });
      await sleep(20 + Math.random() * 40);
    }
  })();
  let slowestMs = 0;
  let lists = 0;
  try {
    while (Date.now() < savingUntil) {
      const start = Date.now();
      // Bounded: a listing that waits for the writes to stop must fail here, not hang the suite.
      const listed = await Promise.race([
        standby.list(),
        sleep(10_000, undefined, { ref: false }).then(() =>
          assert.fail('list() did not answer within 10 s while the leader saved'),
        ),
      ]);
      slowestMs = Math.max(slowestMs, Date.now() - start);
      assert.ok(
        listed.some((x) => x.id === s.id),
        'the rollout being saved is listed',
      );
      lists++;
      await sleep(100);
    }
  } finally {
    await saving;
  }
  assert.ok(saves > 50, `the leader saved ${saves} times`);
  assert.ok(lists > 20, `the standby listed ${lists} times`);
  assert.ok(slowestMs < 2_000, `the slowest list took ${slowestMs} ms`);
  await leader.remove(s.id);
});
