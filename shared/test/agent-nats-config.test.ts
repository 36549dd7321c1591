import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { parseAgentConfig } from '../src/index.js';

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
