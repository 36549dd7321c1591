import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '@fleetroll/shared';
import {
  Election,
  FileLeaseBackend,
  LeaderLock,
  type Lease,
  type LeaseBackend,
  type LeaseIdentity,
  type LeaseRecord,
} from '../src/index.js';

const LEASE_MS = 5_000;

/** A compare-and-set register like one KV key; `down` makes every call fail as an outage would. */
class FakeKv implements LeaseBackend {
  lease: { record: LeaseRecord; revision: number } | undefined;
  down = false;
  gone = new Set<number>();
  private next = 1;

  read(): Promise<Lease | undefined> {
    if (this.down) return Promise.reject(new Error('no responders'));
    return Promise.resolve(this.lease && { ...this.lease });
  }

  create(record: LeaseRecord): Promise<number | undefined> {
    if (this.down) return Promise.reject(new Error('no responders'));
    if (this.lease) return Promise.resolve(undefined);
    return Promise.resolve(this.write(record));
  }

  update(record: LeaseRecord, revision: number): Promise<number | undefined> {
    if (this.down) return Promise.reject(new Error('no responders'));
    if (this.lease?.revision !== revision) return Promise.resolve(undefined);
    return Promise.resolve(this.write(record));
  }

  release(revision: number): Promise<void> {
    if (this.lease?.revision === revision) this.lease = undefined;
    return Promise.resolve();
  }

  holderGone(record: LeaseRecord): boolean {
    return this.gone.has(record.pid);
  }

  private write(record: LeaseRecord): number {
    const revision = this.next++;
    this.lease = { record, revision };
    return revision;
  }
}

function identity(name: string, pid: number, owner = `host/${name}`): LeaseIdentity {
  return { owner, address: name, incarnation: `${name}-${pid}`, host: 'host', pid };
}

function setup() {
  let now = 1_000_000;
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const kv = new FakeKv();
  const lock = (name: string, pid: number, owner?: string) =>
    new LeaderLock(kv, identity(name, pid, owner), LEASE_MS, clock.now);
  return { kv, clock, lock };
}

test('the first controller takes a free lock; a second stands by and names the leader', async () => {
  const { lock } = setup();
  const a = lock('a:7000', 1);
  const b = lock('b:7000', 2);
  assert.deepEqual(await a.step(), { kind: 'elected', how: 'the lock was free' });
  assert.deepEqual(await b.step(), { kind: 'unchanged' });
  assert.equal(a.leading, true);
  assert.equal(b.leading, false);
  assert.equal(b.leader?.address, 'a:7000');
});

test('a renewed lock is never taken; one left unrenewed for a whole lease is, by compare-and-set', async () => {
  const { kv, clock, lock } = setup();
  const a = lock('a:7000', 1);
  const b = lock('b:7000', 2);
  await a.step();
  for (let i = 0; i < 10; i++) {
    clock.advance(LEASE_MS / 3);
    await a.step();
    assert.equal((await b.step()).kind, 'unchanged');
  }
  // a dies: its revision stops moving. b counts the lease from when it first saw that revision.
  await b.step();
  clock.advance(LEASE_MS - 1);
  assert.equal((await b.step()).kind, 'unchanged');
  clock.advance(1);
  assert.deepEqual(await b.step(), { kind: 'elected', how: `it was not renewed for ${LEASE_MS} ms` });
  assert.equal(kv.lease?.record.address, 'b:7000');
  // a comes back (it was only frozen): its renewal fails the compare-and-set, and it stands down.
  assert.deepEqual(await a.step(), { kind: 'deposed', why: 'another controller took the leader lock' });
  assert.equal(a.leading, false);
});

test('a leader that cannot reach the lock gives up after half a lease, before anyone takes over', async () => {
  const { kv, clock, lock } = setup();
  const a = lock('a:7000', 1);
  await a.step();
  kv.down = true;
  clock.advance(LEASE_MS / 3);
  assert.equal((await a.step()).kind, 'unchanged');
  assert.equal(a.unreachable?.message, 'no responders');
  clock.advance(LEASE_MS / 3);
  const step = await a.step();
  assert.equal(step.kind, 'deposed');
  assert.match(
    step.kind === 'deposed' ? step.why : '',
    /could not renew the leader lock for 3333 ms: no responders/,
  );
  kv.down = false;
  // Its own lock, still there: it takes it back at once.
  assert.deepEqual(await a.step(), { kind: 'elected', how: 'this process held it already' });
});

test('a restarted controller on the same address takes its previous run’s lock at once', async () => {
  const { kv, lock } = setup();
  const before = lock('a:7000', 1);
  await before.step();
  const after = lock('a:7000', 2);
  assert.deepEqual(await after.step(), { kind: 'elected', how: 'it was held by a previous run (pid 1)' });
  assert.equal(kv.lease?.record.pid, 2);
});

test('a holder the backend proves gone (a dead pid) is replaced at once; a released lock is free', async () => {
  const { kv, lock } = setup();
  const a = lock('a:7000', 1);
  const b = lock('b:7000', 2);
  await a.step();
  kv.gone.add(1);
  assert.deepEqual(await b.step(), { kind: 'elected', how: 'its holder (pid 1) is gone' });
  await b.release();
  assert.equal(kv.lease, undefined);
  const c = lock('c:7000', 3);
  assert.deepEqual(await c.step(), { kind: 'elected', how: 'the lock was free' });
});

test('FileLeaseBackend: create once, update by revision only, a dead pid is gone, release removes the file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fleetroll-lease-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const backend = new FileLeaseBackend(join(dir, 'state'));
  const record = { ...identity('a:7000', process.pid), host: hostname(), renewedAtMs: 1 };
  assert.equal(await backend.read(), undefined);
  assert.equal(await backend.create(record), 1);
  assert.equal(await backend.create(record), undefined, 'a second create loses');
  assert.equal(await backend.update(record, 5), undefined, 'a stale revision loses');
  assert.equal(await backend.update({ ...record, renewedAtMs: 2 }, 1), 2);
  assert.deepEqual(await backend.read(), { record: { ...record, renewedAtMs: 2 }, revision: 2 });
  assert.equal(backend.holderGone(record), false, 'this process is alive');

  const child = spawn(process.execPath, ['-e', '']);
  const pid = child.pid ?? 0;
  await new Promise((resolve) => child.once('exit', resolve));
  assert.equal(backend.holderGone({ ...record, pid }), true, 'an exited pid is gone');
  assert.equal(
    backend.holderGone({ ...record, host: 'elsewhere', pid }),
    false,
    'a pid elsewhere says nothing',
  );

  await backend.release(2);
  assert.equal(await backend.read(), undefined);
  await writeFile(backend.path, '{"half');
  assert.deepEqual(await backend.read(), { record: undefined, revision: 0 }, 'half written: a stranger’s');
});

test('a standby whose read of the store hangs still takes over a lease after the leader died', async () => {
  const leaseMs = 500;
  const kv = new FakeKv();
  const dead = new LeaderLock(kv, identity('a', 1), leaseMs);
  assert.equal((await dead.step()).kind, 'elected');
  let refreshes = 0;
  let electedAt = 0;
  const election = new Election(
    new LeaderLock(kv, identity('b', 2), leaseMs),
    {
      elected: () => {
        electedAt = Date.now();
        return Promise.resolve();
      },
      deposed: () => undefined,
      // Never answers, as a listing of the store once did while the leader kept saving.
      standingBy: () => {
        refreshes++;
        return new Promise(() => undefined);
      },
    },
    createLogger('election-test', { write: () => undefined }),
  );
  void election.start();
  const diedAt = Date.now();
  await sleep(5 * leaseMs);
  await election.stop();
  assert.equal(refreshes, 1, 'one hung read at a time');
  assert.ok(electedAt > 0, 'the standby took over');
  assert.ok(electedAt - diedAt < 3 * leaseMs, `took over after ${electedAt - diedAt} ms`);
});
