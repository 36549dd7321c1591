import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { codecs } from '@fleetroll/shared';
import { Registrar, type RegistrationInfo, type RegistryBucket } from '../src/registry.js';
import { capturingLog } from './fakes.js';

/** A bucket that records puts and deletes, and fails while `down` is set. */
class FakeBucket implements RegistryBucket {
  puts: Uint8Array[] = [];
  deleted: string[] = [];
  down = false;
  async put(_key: string, data: Uint8Array | string): Promise<number> {
    if (this.down) throw new Error('connection disconnected');
    this.puts.push(typeof data === 'string' ? new TextEncoder().encode(data) : data);
    return this.puts.length;
  }
  async delete(key: string): Promise<void> {
    if (this.down) throw new Error('connection disconnected');
    this.deleted.push(key);
  }
}

function info(over: Partial<RegistrationInfo> = {}): RegistrationInfo {
  return {
    hostId: 'fe-01.eu',
    groups: ['eu'],
    grpcAddress: '127.0.0.1:7070',
    version: '0.1.0',
    heartbeatMs: 20,
    activeRolloutId: () => '',
    warnings: () => [],
    ...over,
  };
}

test('registers at start and beats every heartbeatMs with the current rollout', async () => {
  const bucket = new FakeBucket();
  let active = '';
  const r = new Registrar(
    async () => bucket,
    info({ activeRolloutId: () => active, warnings: () => (active ? ['blind'] : []) }),
    capturingLog().log,
  );
  await r.start();
  assert.equal(bucket.puts.length, 1, 'registered before start() resolved');
  active = 'r-7';
  await sleep(110);
  await r.stop();
  assert.ok(bucket.puts.length >= 4, `only ${bucket.puts.length} beats in 110 ms at 20 ms`);
  const last = codecs.agentRegistration.decode(bucket.puts.at(-1) ?? new Uint8Array());
  assert.equal(last.hostId, 'fe-01.eu');
  assert.deepEqual(last.groups, ['eu']);
  assert.equal(last.grpcAddress, '127.0.0.1:7070');
  assert.equal(last.activeRolloutId, 'r-7');
  assert.deepEqual(last.warnings, ['blind'], 'read at every beat');
  assert.ok(Math.abs(last.heartbeatAtMs - Date.now()) < 1_000);
  assert.ok(last.startedAtMs <= last.heartbeatAtMs);
  assert.deepEqual(bucket.deleted, ['fe-01.eu'], 'a graceful stop deregisters');
});

test('an unreachable bucket is logged once and retried every beat, never thrown', async () => {
  const bucket = new FakeBucket();
  bucket.down = true;
  let opens = 0;
  const open = async () => {
    opens++;
    if (opens < 3) throw new Error('JetStream not available');
    return bucket;
  };
  const { lines, log } = capturingLog();
  const r = new Registrar(open, info(), log);
  await r.start();
  await sleep(100);
  assert.equal(bucket.puts.length, 0);
  assert.ok(opens >= 3, 'the bucket was opened again at later beats');
  bucket.down = false;
  await sleep(60);
  await r.stop();
  assert.ok(bucket.puts.length >= 1, 'registered once NATS was back');
  assert.equal(lines.filter((l) => l.includes('heartbeat failed')).length, 1, lines.join(''));
  assert.equal(lines.filter((l) => l.includes('registered again')).length, 1, lines.join(''));
});

test('stop() during an outage still returns, and no beat follows it', async () => {
  const bucket = new FakeBucket();
  const r = new Registrar(async () => bucket, info(), capturingLog().log);
  await r.start();
  bucket.down = true;
  await r.stop();
  const count = bucket.puts.length;
  await sleep(60);
  assert.equal(bucket.puts.length, count);
});
