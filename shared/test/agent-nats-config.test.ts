import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { controllerConfigSchema, parseAgentConfig } from '../src/index.js';

const base = {
  hostId: 'fe-01',
  grpc: { listen: '127.0.0.1:7070' },
  haproxy: { socket: '/run/haproxy.sock' },
  stateDir: '/var/lib/fleetroll',
  slots: [{ id: 'app1', container: 'app1', backend: 'app', server: 'app_1' }],
};

const parse = (cfg: unknown) => parseAgentConfig(stringify(cfg), 'agent.yml');

test('nats is optional; when present it gets a 1 s heartbeat by default', () => {
  assert.equal(parse(base).nats, undefined);
  assert.deepEqual(parse({ ...base, nats: { servers: ['nats://127.0.0.1:4222'] } }).nats, {
    servers: ['nats://127.0.0.1:4222'],
    kvReplicas: 1,
    heartbeatMs: 1_000,
  });
  assert.equal(parse({ ...base, nats: { servers: ['n:4222'], heartbeatMs: 250 } }).nats?.heartbeatMs, 250);
});

test('a bad nats section is named field by field', () => {
  const cases: [unknown, RegExp][] = [
    [{ servers: [] }, /nats\.servers: name at least one NATS server/],
    [{ servers: ['n:4222'], heartbeatMs: 10 }, /nats\.heartbeatMs/],
    [{ servers: ['n:4222'], heartbeatMs: 1.5 }, /nats\.heartbeatMs/],
    [{ servers: ['n:4222'], heartbeat: 1000 }, /Unrecognized key.*heartbeat/],
    [{}, /nats\.servers/],
  ];
  for (const [nats, message] of cases) {
    assert.throws(
      () => parse({ ...base, nats }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'CONFIG_INVALID');
        assert.match(err.message, message);
        return true;
      },
    );
  }
});

test('nats.kvReplicas: 1 by default, up to the 5 JetStream allows, for agent and controller alike', () => {
  const nats = { servers: ['nats://127.0.0.1:4222'] };
  assert.equal(parse({ ...base, nats }).nats?.kvReplicas, 1);
  assert.equal(parse({ ...base, nats: { ...nats, kvReplicas: 3 } }).nats?.kvReplicas, 3);
  const controller = (kvReplicas: unknown) =>
    controllerConfigSchema.parse({ inventory: 'i.yml', nats: { ...nats, kvReplicas } }).nats?.kvReplicas;
  assert.equal(controller(3), 3);
  for (const bad of [0, 6, 2.5, '3']) {
    assert.throws(() => parse({ ...base, nats: { ...nats, kvReplicas: bad } }), /nats\.kvReplicas/);
    assert.throws(() => controller(bad));
  }
});
