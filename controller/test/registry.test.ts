import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codecs, createLogger, type msg } from '@fleetroll/shared';
import { AgentRegistry, type RegistryEntry, type RegistryWatch } from '../src/transport/registry.js';

const DEAD_AFTER = 3_000;

/** A registry on a clock the test moves by hand, fed entries directly (no NATS). */
function setup(startMs = 1_000_000) {
  const clock = { now: startMs };
  const lines: string[] = [];
  const log = createLogger('test', { write: (line: string) => void lines.push(line) });
  const never: RegistryWatch = { entries: (async function* () {})(), stop: () => undefined };
  const registry = new AgentRegistry(async () => never, {
    log,
    deadAfterMs: DEAD_AFTER,
    now: () => clock.now,
  });
  const dead: string[] = [];
  registry.onAnyDead((hostId, reason) => dead.push(`${hostId}: ${reason}`));
  const advance = (ms: number): void => {
    clock.now += ms;
    registry.sweep();
  };
  return { clock, registry, dead, lines, advance };
}

function registration(hostId: string, over: Partial<msg.AgentRegistration> = {}): msg.AgentRegistration {
  return {
    hostId,
    groups: ['eu'],
    grpcAddress: '127.0.0.1:7070',
    version: '0.1.0',
    startedAtMs: 1,
    heartbeatAtMs: 2,
    activeRolloutId: '',
    ...over,
  };
}

function put(hostId: string, createdMs: number, isUpdate = true, over: Partial<msg.AgentRegistration> = {}) {
  return {
    key: hostId,
    operation: 'PUT',
    value: codecs.agentRegistration.encode(registration(hostId, over)),
    createdMs,
    isUpdate,
  } satisfies RegistryEntry;
}

const del = (hostId: string): RegistryEntry => ({
  key: hostId,
  operation: 'DEL',
  value: new Uint8Array(),
  createdMs: 0,
  isUpdate: true,
});

test('a heartbeat makes a host alive; silence longer than deadAfterMs makes it dead, once', () => {
  const { clock, registry, dead, advance } = setup();
  registry.apply(put('fe-01', clock.now, true, { activeRolloutId: 'r1', warnings: ['blind'] }));
  assert.equal(registry.isAlive('fe-01'), true);
  assert.deepEqual(registry.list(), [
    {
      hostId: 'fe-01',
      groups: ['eu'],
      grpcAddress: '127.0.0.1:7070',
      version: '0.1.0',
      lastSeenMs: clock.now,
      alive: true,
      activeRolloutId: 'r1',
      sources: ['nats'],
      warnings: ['blind'],
    },
  ]);
  advance(DEAD_AFTER);
  assert.equal(registry.isAlive('fe-01'), true, 'exactly deadAfterMs is still alive');
  assert.deepEqual(dead, []);
  advance(1);
  assert.equal(registry.isAlive('fe-01'), false);
  assert.deepEqual(dead, ['fe-01: no heartbeat for 3.0 s']);
  advance(5_000);
  assert.equal(dead.length, 1, 'a dead host is reported dead once');
  assert.equal(registry.list()[0]?.alive, false, 'a silent host is still listed, as dead');
});

test('regular heartbeats keep a host alive indefinitely', () => {
  const { clock, registry, dead, advance } = setup();
  for (let i = 0; i < 100; i++) {
    registry.apply(put('fe-01', clock.now));
    advance(1_000);
  }
  assert.equal(registry.isAlive('fe-01'), true);
  assert.deepEqual(dead, []);
});

test('a host that comes back after dying is alive again and can die again', () => {
  const { clock, registry, dead, advance } = setup();
  registry.apply(put('fe-01', clock.now));
  advance(DEAD_AFTER + 1);
  registry.apply(put('fe-01', clock.now));
  assert.equal(registry.isAlive('fe-01'), true);
  advance(DEAD_AFTER + 1);
  assert.equal(dead.length, 2);
});

test('a deleted key (graceful stop) is a death at once, and the host leaves the list', () => {
  const { clock, registry, dead } = setup();
  registry.apply(put('fe-01', clock.now));
  registry.apply(del('fe-01'));
  assert.equal(registry.isAlive('fe-01'), false);
  assert.deepEqual(registry.list(), []);
  assert.deepEqual(dead, ['fe-01: the agent deregistered (stopped)']);
});

test('a replayed value is as old as the server stored it: a long-dead agent does not look alive', () => {
  const { clock, registry, dead } = setup();
  registry.apply(put('old', clock.now - 60_000, false));
  registry.apply(put('fresh', clock.now - 500, false));
  assert.equal(registry.isAlive('old'), false);
  assert.equal(registry.isAlive('fresh'), true);
  assert.equal(registry.list().find((a) => a.hostId === 'fresh')?.lastSeenMs, clock.now - 500);
  registry.sweep();
  assert.deepEqual(dead, [], 'never alive here, so never reported dying');
});

test('a replay after a rewatch never moves lastSeen backwards', () => {
  const { clock, registry, advance, dead } = setup();
  registry.apply(put('fe-01', clock.now));
  advance(1_000);
  registry.apply(put('fe-01', clock.now));
  // The server's clock runs behind: the replayed copy of that beat looks older.
  registry.apply(put('fe-01', clock.now - 10_000, false));
  advance(100);
  assert.equal(registry.isAlive('fe-01'), true);
  assert.deepEqual(dead, []);
});

test('onDead fires once for that host, on silence or on deregistration, and can be cancelled', () => {
  const { clock, registry, advance } = setup();
  registry.apply(put('a', clock.now));
  registry.apply(put('b', clock.now));
  registry.apply(put('c', clock.now));
  const fired: string[] = [];
  registry.onDead('a', (h, reason) => fired.push(`${h}: ${reason}`));
  registry.onDead('b', (h, reason) => fired.push(`${h}: ${reason}`));
  const cancel = registry.onDead('c', (h) => fired.push(h));
  cancel();
  registry.apply(del('b'));
  assert.deepEqual(fired, ['b: the agent deregistered (stopped)']);
  advance(1_000);
  registry.apply(put('a', clock.now));
  advance(DEAD_AFTER + 1);
  assert.deepEqual(fired, ['b: the agent deregistered (stopped)', 'a: no heartbeat for 3.0 s']);
  advance(DEAD_AFTER + 1);
  assert.equal(fired.length, 2, 'one-shot');
});

test('onDead for a host never heard of fires after deadAfterMs unless it registers meanwhile', () => {
  const { clock, registry, advance } = setup();
  const fired: string[] = [];
  registry.onDead('ghost', (h, reason) => fired.push(`${h}: ${reason}`));
  registry.onDead('late', (h) => fired.push(h));
  advance(2_000);
  registry.apply(put('late', clock.now));
  advance(1_001);
  assert.deepEqual(fired, ['ghost: not registered (no heartbeat within 3000 ms)']);
  for (let i = 0; i < 10; i++) {
    registry.apply(put('late', clock.now));
    advance(1_000);
  }
  assert.equal(fired.length, 1, 'a host that registered late is alive, not dead');
});

test('onDead for a host already dead fires after deadAfterMs, not at once', () => {
  const { clock, registry, advance } = setup();
  registry.apply(put('fe-01', clock.now - 60_000, false));
  const fired: string[] = [];
  registry.onDead('fe-01', (h, reason) => fired.push(`${h}: ${reason}`));
  advance(DEAD_AFTER);
  assert.deepEqual(fired, []);
  advance(1);
  assert.deepEqual(fired, ['fe-01: no heartbeat for 63.0 s']);
});

test('values that are not registrations, or sit under another key, are ignored with a warning', () => {
  const { clock, registry, lines } = setup();
  registry.apply({ ...put('fe-01', clock.now), value: new Uint8Array([0xff, 0xff, 0xff]) });
  registry.apply({ ...put('fe-01', clock.now), key: 'fe-02' });
  assert.deepEqual(registry.list(), []);
  assert.equal(lines.filter((l) => l.includes('"level":40')).length, 2, lines.join(''));
});

test('a listener that throws does not stop the others', () => {
  const { clock, registry, advance } = setup();
  registry.apply(put('fe-01', clock.now));
  const fired: string[] = [];
  registry.onDead('fe-01', () => {
    throw new Error('listener bug');
  });
  registry.onDead('fe-01', (h) => fired.push(h));
  advance(DEAD_AFTER + 1);
  assert.deepEqual(fired, ['fe-01']);
});

test('list() is sorted by host id', () => {
  const { clock, registry } = setup();
  for (const h of ['fe-03', 'fe-01', 'fe-02']) registry.apply(put(h, clock.now));
  assert.deepEqual(
    registry.list().map((a) => a.hostId),
    ['fe-01', 'fe-02', 'fe-03'],
  );
});

test('the watch is restarted when it ends, until close()', async () => {
  const lines: string[] = [];
  const log = createLogger('test', { write: (line: string) => void lines.push(line) });
  let watches = 0;
  const source = async (): Promise<RegistryWatch> => {
    watches++;
    const n = watches;
    return {
      entries: (async function* () {
        yield put(`fe-0${n}`, Date.now());
      })(),
      stop: () => undefined,
    };
  };
  const registry = new AgentRegistry(source, { log, rewatchMs: 10 });
  await registry.start();
  await new Promise((r) => setTimeout(r, 100));
  await registry.close();
  const count = watches;
  assert.ok(count >= 3, `watched ${count} times`);
  assert.ok(registry.isAlive('fe-01') && registry.isAlive('fe-02'));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(watches, count, 'no watch after close()');
});

test('a new process under the same host id is a death of the old one, even before its silence shows', () => {
  const { clock, registry, dead, advance } = setup();
  registry.apply(put('fe-01', clock.now, true, { startedAtMs: 1 }));
  const fired: string[] = [];
  registry.onDead('fe-01', (h, reason) => fired.push(`${h}: ${reason}`));
  advance(500);
  registry.apply(put('fe-01', clock.now, true, { startedAtMs: 2 }));
  assert.deepEqual(fired, ['fe-01: the agent restarted (a new process registered)']);
  assert.deepEqual(dead, ['fe-01: the agent restarted (a new process registered)']);
  assert.equal(registry.isAlive('fe-01'), true, 'the new process is alive');
  registry.apply(put('fe-01', clock.now, true, { startedAtMs: 2 }));
  assert.equal(dead.length, 1, 'its own beats are no restart');
});

test('two agents registering as one host alternately: a conflict, said once, listed, and gone once one is quiet', () => {
  const { clock, registry, dead, lines, advance } = setup();
  const a = { startedAtMs: Date.UTC(2026, 11, 7, 10), grpcAddress: '10.0.0.1:7070' };
  const b = { startedAtMs: Date.UTC(2026, 11, 7, 11), grpcAddress: '10.0.0.2:7070' };
  registry.apply(put('fe-01', clock.now, true, a));
  const fired: string[] = [];
  registry.onDead('fe-01', (_h, reason) => fired.push(reason));
  advance(400);
  // Until the first agent is heard again, the second looks like its restart.
  registry.apply(put('fe-01', clock.now, true, b));
  assert.equal(registry.conflict('fe-01'), undefined);
  registry.onDead('fe-01', (_h, reason) => fired.push(reason));
  advance(600);
  registry.apply(put('fe-01', clock.now, true, a));
  const conflict = registry.conflict('fe-01') ?? assert.fail('no conflict seen');
  assert.match(
    conflict,
    /^two agents register as host fe-01, one started 2026-12-07T10:00:00.000Z \(gRPC 10.0.0.1:7070\), the other started 2026-12-07T11:00:00.000Z \(gRPC 10.0.0.2:7070\): .*give each machine its own hostId in agent.yml$/,
  );
  assert.deepEqual(fired, ['the agent restarted (a new process registered)', conflict]);
  for (let beat = 0; beat < 6; beat++) {
    advance(500);
    registry.apply(put('fe-01', clock.now, true, beat % 2 ? a : b));
  }
  assert.equal(dead.length, 2, 'the alternation itself fires nothing more');
  assert.equal(lines.filter((l) => l.includes('two agents register')).length, 1, 'logged once');
  assert.deepEqual(registry.list()[0]?.warnings, [conflict]);
  // The second machine got its own id: only one agent is heard now.
  for (let beat = 0; beat < 6; beat++) {
    advance(1_000);
    registry.apply(put('fe-01', clock.now, true, a));
  }
  assert.equal(registry.conflict('fe-01'), undefined);
  assert.deepEqual(registry.list()[0]?.warnings, []);
  assert.equal(registry.isAlive('fe-01'), true);
});

test('an agent restarted twice is no conflict: none of its old processes is heard again', () => {
  const { clock, registry, advance } = setup();
  for (const startedAtMs of [1, 2, 3]) {
    for (let beat = 0; beat < 3; beat++) {
      registry.apply(put('fe-01', clock.now, true, { startedAtMs }));
      advance(1_000);
    }
  }
  assert.equal(registry.conflict('fe-01'), undefined);
});

test('after a new process registers, the host is unsettled until the old one has been silent deadAfterMs: then a restart, or else a conflict', () => {
  const { clock, registry, advance } = setup();
  registry.apply(put('fe-01', clock.now, true, { startedAtMs: 1 }));
  assert.equal(registry.unsettled('fe-01'), undefined, 'one agent, never replaced');
  advance(400);
  registry.apply(put('fe-01', clock.now, true, { startedAtMs: 2 }));
  assert.match(
    registry.unsettled('fe-01') ?? '',
    /^a new agent process registered as fe-01 while the one before it was heard 0\.4 s ago; waiting until that one has been silent 3\.0 s/,
  );
  advance(DEAD_AFTER - 400);
  assert.ok(registry.unsettled('fe-01'), 'not yet silent long enough');
  advance(1);
  assert.equal(registry.unsettled('fe-01'), undefined, 'a restart: the old process was never heard again');

  // A second agent: the old one is heard again, which is a conflict, not something to wait out.
  registry.apply(put('fe-02', clock.now, true, { startedAtMs: 1 }));
  advance(300);
  registry.apply(put('fe-02', clock.now, true, { startedAtMs: 2 }));
  assert.ok(registry.unsettled('fe-02'));
  advance(300);
  registry.apply(put('fe-02', clock.now, true, { startedAtMs: 1 }));
  assert.equal(registry.unsettled('fe-02'), undefined);
  assert.match(registry.conflict('fe-02') ?? '', /^two agents register as host fe-02/);
});

test('a replayed registration of a replaced agent is no conflict; the same heard live is', () => {
  const { clock, registry, dead, advance } = setup();
  registry.apply(put('fe-01', clock.now, true, { startedAtMs: 1 }));
  advance(1_000);
  registry.apply(put('fe-01', clock.now, true, { startedAtMs: 2 }));
  advance(500);
  // A watch started afresh may replay an older value (a server that came back without the newest).
  registry.apply(put('fe-01', clock.now - 1_500, false, { startedAtMs: 1 }));
  registry.apply(put('fe-01', clock.now, true, { startedAtMs: 2 }));
  assert.equal(registry.conflict('fe-01'), undefined);
  assert.deepEqual(dead, ['fe-01: the agent restarted (a new process registered)'], 'the replay is no death');
  registry.apply(put('fe-01', clock.now, true, { startedAtMs: 1 }));
  assert.match(registry.conflict('fe-01') ?? '', /^two agents register as host fe-01/);
});

test('a host going silent makes the registry watch afresh (it may only be unheard), at most once per deadAfterMs', async () => {
  const clock = { now: 1_000_000 };
  let stops = 0;
  const quiet: RegistryWatch = {
    // Goes quiet without ending, as a watch whose consumer died with its NATS node.
    entries: { [Symbol.asyncIterator]: () => ({ next: () => new Promise<never>(() => undefined) }) },
    stop: () => void (stops += 1),
  };
  const log = createLogger('test', { write: () => undefined });
  const registry = new AgentRegistry(async () => quiet, {
    log,
    deadAfterMs: DEAD_AFTER,
    sweepMs: 3_600_000,
    now: () => clock.now,
  });
  await registry.start();
  try {
    const start = clock.now;
    registry.apply(put('fe-01', start));
    clock.now = start + 1_000;
    registry.apply(put('fe-02', clock.now));
    clock.now = start + DEAD_AFTER + 1;
    registry.sweep();
    assert.equal(stops, 1, 'fe-01 went silent: one fresh watch');
    registry.apply(put('fe-01', clock.now));
    clock.now = start + 1_000 + DEAD_AFTER + 1;
    registry.sweep();
    assert.equal(registry.isAlive('fe-02'), false);
    assert.equal(stops, 1, 'fe-02 went silent too, but within deadAfterMs of that watch');
    clock.now = start + 2 * (DEAD_AFTER + 1);
    registry.sweep();
    assert.equal(registry.isAlive('fe-01'), false);
    assert.equal(stops, 2, 'fe-01 silent again, later: another');
  } finally {
    void registry.close();
  }
});
